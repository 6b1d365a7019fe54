"""Field cases (shared/cases/README.md) that need waitress's real HTTP parsing or real S3.

One symbolsrv serves [a public bucket, a private bucket] on the session moto:

    cases-public   libc++abi.dylib/…, Electron Framework/…, 汉.pdb/…, xül.pdb/…  (C-03, C-04)
    cases-private  K = xul.pdb/ID/xul.sym, redirected to presigned URLs             (C-05, C-11)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.integration.apps import SymbolsrvProcess, fetch_url, running, sqlite_miss_counts
from tests.integration.expect import SYMBOL_NOT_FOUND
from tests.integration.s3data import s3_client
from tests.servers import aws_env

pytestmark = pytest.mark.integration

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
K = f"/xul.pdb/{ID}/xul.sym"
YUL = f"/yul.pdb/{ID}/yul.sym"
LIBCXX = "libc++abi.dylib/43940F08B65E38888CD3C52398EB1CA10/libc++abi.dylib.sym"
PUBLIC = {
    LIBCXX: b"MODULE mac x86_64 43940F08B65E38888CD3C52398EB1CA10 libc++abi.dylib\n",
    f"Electron Framework/{ID}/Electron Framework.sym": b"MODULE mac x86_64 electron\n",
    f"汉.pdb/{ID}/汉.sym": "MODULE windows x86 汉\n".encode(),
    f"xül.pdb/{ID}/xül.sym": "MODULE windows x86 xül\n".encode(),
}
PRIVATE = {K[1:]: b"MODULE windows x86_64 " + ID.encode() + b" xul.pdb\n"}


@pytest.fixture(scope="module")
def cases(moto):
    client = s3_client(moto.endpoint)
    client.create_bucket(Bucket="cases-public")
    for key, body in PUBLIC.items():
        client.put_object(Bucket="cases-public", Key="v1/" + key, Body=body, ACL="public-read")
    client.create_bucket(Bucket="cases-private")
    for key, body in PRIVATE.items():
        client.put_object(Bucket="cases-private", Key="v1/" + key, Body=body)
    with running(SymbolsrvProcess(["s3://cases-public/v1", "s3://cases-private/v1?private=true"],
                                  env=aws_env(moto.endpoint), name="cases")) as server:
        yield server


def moto_log_since(moto, offset: int) -> str:
    with open(moto.log_path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def moto_log_size(moto) -> int:
    with open(moto.log_path, "rb") as f:
        return f.seek(0, 2)


def test_c05_encoded_slash_is_a_separator_over_real_http(cases, moto):
    plain = cases.get(K)
    assert plain.status == 302
    # Sent byte for byte by http.client: waitress decodes %2F (and %2f) into "/".
    for raw in (f"/xul.pdb%2F{ID}%2Fxul.sym", f"/xul.pdb/{ID}%2Fxul.sym",
                f"/xul.pdb%2f{ID}/xul.sym"):
        reply = cases.get(raw)
        assert reply.status == 302, raw
        assert urlsplit(reply.header("Location")).path == urlsplit(plain.header("Location")).path
    assert urlsplit(plain.header("Location")).path == f"/cases-private/v1/xul.pdb/{ID}/xul.sym"
    assert fetch_url(plain.header("Location")).body == PRIVATE[K[1:]]

    before = moto_log_size(moto)
    odd = "/_.debug%2Felf-buildid-sym-0241a2d12e394532f972c194120b3e32f07f1abf%2F_.debug"
    reply = cases.get(odd)
    # README: a debug id that is not 9-64 hex digits is a 400 (C-05 expects a 4xx; it names
    # the extension, but .debug is an allowed one, so the id decides).
    assert reply.status in (400, 404) and len(reply.body) < 200, (reply.status, reply.body)
    assert "_.debug" not in moto_log_since(moto, before)  # no storage call
    assert not [row for row in cases.csv_rows("today=1") if row[0] == "_.debug"]


def test_c11_head_on_a_private_bucket_is_200_never_a_presigned_redirect(cases):
    head = cases.head(K)
    assert head.status == 200 and head.body == b""
    assert head.header("Location") is None
    assert head.header("Access-Control-Allow-Origin") == "*"
    get = cases.get(K)
    assert get.status == 302 and "X-Amz-Signature=" in urlsplit(get.header("Location")).query
    assert get.header("Cache-Control") == "public, max-age=150"  # half of 300 s expiry
    assert fetch_url(get.header("Location")).body == PRIVATE[K[1:]]

    miss = YUL + "?code_file=yul.dll&code_id=1"
    assert cases.head(miss).status == 404
    assert [r for r in cases.csv_rows("today=1") if r[0] == "yul.pdb"] == []  # HEAD: not logged
    reply = cases.get(miss)
    assert (reply.status, reply.body) == (404, SYMBOL_NOT_FOUND)
    assert cases.head(miss).status == 404  # HEAD and GET agree
    assert [r for r in cases.csv_rows("today=1") if r[0] == "yul.pdb"] == [
        ["yul.pdb", ID, "yul.dll", "1"]]
    assert sqlite_miss_counts(cases)[("yul.pdb", ID, "yul.sym")] == 1  # the GET, once


def test_c03_plus_is_literal_and_percent_encoded_in_location(cases):
    literal, encoded = "/" + LIBCXX, "/" + LIBCXX.replace("+", "%2B")
    replies = [cases.get(literal), cases.get(encoded)]
    assert [r.status for r in replies] == [302, 302]
    location = replies[0].header("Location")
    assert replies[1].header("Location") == location
    assert urlsplit(location).path == f"/cases-public/v1/{LIBCXX.replace('+', '%2B')}"
    assert "+" not in location and " " not in location and "%20" not in location
    assert fetch_url(location).body == PUBLIC[LIBCXX]
    assert [cases.head(literal).status, cases.head(encoded).status] == [200, 200]


@pytest.mark.parametrize("key, wire", [
    (f"Electron Framework/{ID}/Electron Framework.sym",
     f"Electron%20Framework/{ID}/Electron%20Framework.sym"),
    (f"汉.pdb/{ID}/汉.sym", f"%E6%B1%89.pdb/{ID}/%E6%B1%89.sym"),
    (f"xül.pdb/{ID}/xül.sym", f"x%C3%BCl.pdb/{ID}/x%C3%BCl.sym"),
])
def test_c04_spaces_and_non_ascii_names_redirect_to_an_ascii_location(cases, key, wire):
    reply = cases.get("/" + wire)
    assert reply.status == 302
    location = reply.header("Location")
    assert location.isascii()
    assert urlsplit(location).path == f"/cases-public/v1/{wire}"
    assert urlsplit(location).hostname == "127.0.0.1"
    assert fetch_url(location).body == PUBLIC[key]


def test_c04_plus_for_space_in_a_path_is_a_logged_miss_with_the_literal_plus(cases):
    reply = cases.get(f"/Electron+Framework/{ID}/Electron+Framework.sym")
    assert (reply.status, reply.body) == (404, SYMBOL_NOT_FOUND)
    assert [r for r in cases.csv_rows("today=1") if r[0].startswith("Electron")] == [
        ["Electron+Framework", ID, "", ""]]
