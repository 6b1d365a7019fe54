"""S3 `check=http`: existence by an unsigned HEAD of the public URL instead of boto3's
HeadObject, on a real S3 API server (moto). Same answers, cheaper checks (bench/run)."""

from __future__ import annotations

import pytest

from plugins.storage_s3 import symbolsrv_storage_for
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.settings import load_settings
from tests.integration.apps import fetch_url
from tests.integration.s3data import s3_client
from tests.servers import MotoServer, aws_env

pytestmark = pytest.mark.integration

KEY = SymbolKey("c++filt", "B2E65520F14FB5332E38A5A5189839AD0", "c++filt.sym")
ABSENT = SymbolKey("yul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "yul.sym")


@pytest.fixture
def s3(monkeypatch):
    with MotoServer() as server:
        for name, value in aws_env(server.endpoint).items():
            monkeypatch.setenv(name, value)
        client = s3_client(server.endpoint)
        client.create_bucket(Bucket="public-syms")
        client.put_object(Bucket="public-syms", Key=f"v1/{KEY.path}", Body=b"MODULE c++filt",
                          ACL="public-read")
        client.create_bucket(Bucket="closed-syms")
        client.put_object(Bucket="closed-syms", Key=f"v1/{KEY.path}", Body=b"secret")
        yield server


def storage(location):
    cfg = load_settings({"symbolsrv.locations": location, "sqlalchemy.url": "sqlite://"})
    return symbolsrv_storage_for(location=location, cfg=cfg)


def test_http_check_finds_the_same_public_object_as_the_api_check(s3):
    by_http = storage("s3://public-syms/v1?check=http")
    by_api = storage("s3://public-syms/v1")
    hit = by_http.locate(KEY)
    assert hit is not None and hit == by_api.locate(KEY)
    assert "%2B%2B" in hit.url
    assert fetch_url(hit.url).body == b"MODULE c++filt"
    assert by_http.locate(ABSENT) is None and by_api.locate(ABSENT) is None


def test_http_check_of_a_non_public_object_is_a_failure_not_absent(s3):
    # The object exists but anonymous readers get 403: that must never read as "absent".
    with pytest.raises(StorageError, match="403"):
        storage("s3://closed-syms/v1?check=http").locate(KEY)
    assert storage("s3://closed-syms/v1?check=http&forbidden_is_absent=true").locate(KEY) is None


def test_http_check_with_the_server_down_is_a_storage_error(s3):
    located = storage("s3://public-syms/v1?check=http&timeout_seconds=1")
    s3.stop()
    with pytest.raises(StorageError):
        located.locate(KEY)


def test_http_check_refuses_private_buckets_and_unknown_values():
    with pytest.raises(ConfigurationError, match="private"):
        storage("s3://b/v1?check=http&private=true")
    with pytest.raises(ConfigurationError, match="check must be api or http"):
        storage("s3://b/v1?check=fast")
