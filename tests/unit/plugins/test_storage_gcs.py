"""plugins.storage_gcs: option parsing, client choice in the hook, and GcsStorage with a stub
client (error translation, URLs). The emulator run is tests/integration/test_storage_gcs.py."""

from __future__ import annotations

import json

import pytest
import requests
from google.api_core import exceptions as gexc

from plugins.storage_gcs import GcsOptions, GcsStorage, parse_options, symbolsrv_storage_for
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.storage import Hit

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = SymbolKey("xul.pdb", ID, "xul.sym")


# ---------------------------------------------------------------- options


def test_options_default_to_public_and_the_global_timeout():
    assert parse_options("gs://b", "") == GcsOptions(
        private=False, expires_seconds=300, forbidden_is_absent=False, public_url=None,
        anonymous=False, timeout_seconds=None,
    )


def test_options_are_parsed_from_the_query_string():
    options = parse_options(
        "gs://b/v1",
        "private=true&expires_seconds=600&forbidden_is_absent=yes"
        "&public_url=https://cdn.example.com/s&anonymous=1&timeout_seconds=2.5",
    )
    assert options == GcsOptions(True, 600, True, "https://cdn.example.com/s", True, 2.5)


def test_unknown_option_names_the_location_and_the_option():
    with pytest.raises(ConfigurationError, match=r"'gs://b\?privat=1'.*'privat'"):
        parse_options("gs://b?privat=1", "privat=1")


@pytest.mark.parametrize(
    "query",
    ["expires_seconds=0", "expires_seconds=604801", "expires_seconds=5m", "timeout_seconds=0",
     "timeout_seconds=-2", "timeout_seconds=x"],
)
def test_bad_option_values_are_configuration_errors(query):
    with pytest.raises(ConfigurationError, match=query.split("=")[0]):
        parse_options("gs://b", query)


# ---------------------------------------------------------------- the hook and the client


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """No application-default credentials, whatever this machine has: an explicit key file
    that does not exist makes google.auth.default() fail at once."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test-project")
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)


@pytest.fixture
def emulator(no_credentials, monkeypatch):
    # Nothing listens there: building a storage opens no connection.
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")


@pytest.fixture
def service_account_key(monkeypatch, tmp_path):
    """A real (throw-away) service-account key file: it can sign V4 URLs offline."""
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {
        "type": "service_account", "project_id": "test-project", "private_key_id": "k1",
        "private_key": pem, "client_email": "symbolsrv@test-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test-project")
    return path


@pytest.mark.parametrize("location", ["s3://b/p", "file:///srv", "http://h/s", "gcs://b"])
def test_hook_ignores_other_schemes(location, cfg):
    assert symbolsrv_storage_for(location=location, cfg=cfg) is None


@pytest.mark.parametrize("location", ["gs://", "gs:///prefix", "gs://user@b/p", "gs://b:80/p"])
def test_hook_rejects_urls_without_a_plain_bucket(location, cfg):
    with pytest.raises(ConfigurationError, match="gs://bucket/prefix"):
        symbolsrv_storage_for(location=location, cfg=cfg)


def test_under_the_emulator_without_credentials_the_client_is_anonymous(emulator, cfg):
    storage = symbolsrv_storage_for(location="gs://org-symbols/v1/", cfg=cfg)
    assert storage.name == "gs:org-symbols"
    assert storage.prefix == "v1/"
    assert storage.object_name(KEY) == f"v1/{KEY.path}"
    assert storage.public_base == "http://127.0.0.1:9/org-symbols/"


def test_without_credentials_or_emulator_start_fails_and_suggests_anonymous(no_credentials,
                                                                            cfg):
    with pytest.raises(ConfigurationError, match="anonymous=true"):
        symbolsrv_storage_for(location="gs://org-symbols", cfg=cfg)


def test_anonymous_option_needs_no_credentials(no_credentials, cfg):
    storage = symbolsrv_storage_for(location="gs://org-symbols?anonymous=true", cfg=cfg)
    assert storage.public_base == "https://storage.googleapis.com/org-symbols/"


@pytest.mark.parametrize("query", ["private=true", "private=true&anonymous=true"])
def test_private_without_signing_credentials_fails_at_start(emulator, cfg, query):
    with pytest.raises(ConfigurationError) as raised:
        symbolsrv_storage_for(location=f"gs://org-symbols?{query}", cfg=cfg)
    message = str(raised.value)
    assert "private=true" in message and "sign" in message and "gs://org-symbols" in message


def test_private_with_a_service_account_key_signs_v4_urls(service_account_key, monkeypatch,
                                                          cfg):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    storage = symbolsrv_storage_for(location="gs://org-symbols/v1?private=true", cfg=cfg)
    url = storage.bucket.blob(storage.object_name(SymbolKey("c++filt", ID, "c++filt.sym"))) \
        .generate_signed_url(version="v4", expiration=300)
    assert url.startswith(f"https://storage.googleapis.com/org-symbols/v1/c%2B%2Bfilt/{ID}/")
    assert "X-Goog-Signature=" in url


def test_hook_takes_the_global_timeout_unless_the_location_sets_one(emulator, make_cfg):
    cfg = make_cfg({"symbolsrv.storage_timeout_seconds": "7"})
    assert symbolsrv_storage_for(location="gs://b", cfg=cfg).timeout_seconds == 7
    assert symbolsrv_storage_for(location="gs://b?timeout_seconds=0.5",
                                 cfg=cfg).timeout_seconds == 0.5


# ---------------------------------------------------------------- GcsStorage with a stub client


class StubBlob:
    def __init__(self, bucket, name):
        self.bucket = bucket
        self.name = name

    def exists(self, timeout, retry):
        self.bucket.calls.append(("exists", self.name, timeout, retry))
        if isinstance(self.bucket.answer, BaseException):
            raise self.bucket.answer
        return self.bucket.answer

    def generate_signed_url(self, version, expiration, method):
        self.bucket.calls.append(("sign", self.name, version, expiration.total_seconds(),
                                  method))
        return f"https://storage.googleapis.com/b/{self.name}?X-Goog-Signature=abc"


class StubBucket:
    def __init__(self, answer=True, bucket_answer=True):
        self.answer = answer
        self.bucket_answer = bucket_answer
        self.calls = []

    def blob(self, name):
        return StubBlob(self, name)

    def exists(self, timeout, retry):
        self.calls.append(("bucket_exists", timeout, retry))
        if isinstance(self.bucket_answer, BaseException):
            raise self.bucket_answer
        return self.bucket_answer


class StubClient:
    api_endpoint = "https://storage.googleapis.com"

    def __init__(self, bucket):
        self._bucket = bucket

    def bucket(self, name):
        return self._bucket


def make_storage(answer=True, bucket_answer=True, prefix="v1/", **options):
    bucket = StubBucket(answer, bucket_answer)
    return GcsStorage(StubClient(bucket), "org-symbols", prefix, GcsOptions(**options), 5.0), \
        bucket


def test_present_object_is_a_public_url_hit_and_the_probe_never_retries():
    storage, bucket = make_storage()
    hit = storage.locate(KEY)
    assert hit == Hit("gs:org-symbols",
                      url=f"https://storage.googleapis.com/org-symbols/v1/{KEY.path}")
    assert bucket.calls == [("exists", f"v1/{KEY.path}", 5.0, None)]


@pytest.mark.parametrize(
    ("key", "tail"),
    [
        (SymbolKey("c++filt", ID, "c++filt.sym"), f"c%2B%2Bfilt/{ID}/c%2B%2Bfilt.sym"),
        (SymbolKey("Electron Framework", ID, "Electron Framework.sym"),
         f"Electron%20Framework/{ID}/Electron%20Framework.sym"),
        (SymbolKey("汉.pdb", ID, "汉.sym"), f"%E6%B1%89.pdb/{ID}/%E6%B1%89.sym"),
        (SymbolKey("odd@{x}.pdb", ID, "odd@{x}.sym"), f"odd%40%7Bx%7D.pdb/{ID}/odd%40%7Bx%7D.sym"),
    ],
)
def test_public_urls_are_percent_encoded(key, tail):
    storage, bucket = make_storage(prefix="")
    assert storage.locate(key).url == f"https://storage.googleapis.com/org-symbols/{tail}"
    assert bucket.calls[0][1] == key.path  # the object name itself is not encoded


def test_public_url_option_replaces_the_bucket_url():
    storage, _ = make_storage(public_url="https://cdn.example.com/symbols/")
    assert storage.locate(KEY).url == f"https://cdn.example.com/symbols/v1/{KEY.path}"


def test_private_hit_is_a_signed_url_cached_for_half_its_life():
    storage, bucket = make_storage(private=True, expires_seconds=600)
    hit = storage.locate(KEY)
    assert hit.url.endswith("X-Goog-Signature=abc")
    assert hit.max_age_seconds == 300
    assert bucket.calls[-1] == ("sign", f"v1/{KEY.path}", "v4", 600.0, "GET")


@pytest.mark.parametrize("answer", [False, gexc.NotFound("no such object")])
def test_absent_object_is_none(answer):
    storage, _ = make_storage(answer)
    assert storage.locate(KEY) is None


def test_403_is_a_failure_by_default_and_absent_with_forbidden_is_absent():
    storage, _ = make_storage(gexc.Forbidden("denied"))
    with pytest.raises(StorageError, match="403"):
        storage.locate(KEY)
    storage, _ = make_storage(gexc.Forbidden("denied"), forbidden_is_absent=True)
    assert storage.locate(KEY) is None


@pytest.mark.parametrize(
    "error",
    [
        gexc.ServiceUnavailable("down"),
        gexc.InternalServerError("oops"),
        gexc.Unauthorized("who"),
        gexc.TooManyRequests("slow down"),
        requests.ConnectionError("refused"),
        requests.Timeout("slow"),
        ConnectionResetError("reset"),
    ],
)
def test_every_other_failure_is_a_storage_error_naming_the_location(error):
    storage, _ = make_storage(error)
    with pytest.raises(StorageError) as raised:
        storage.locate(KEY)
    assert raised.value.location == "gs:org-symbols"
    assert raised.value.original is error or raised.value.__cause__ is error


def test_ping_checks_the_bucket():
    storage, bucket = make_storage()
    storage.ping()
    assert bucket.calls == [("bucket_exists", 5.0, None)]


@pytest.mark.parametrize(
    ("bucket_answer", "match"),
    [(False, "bucket not found"), (gexc.Forbidden("denied"), "403"),
     (gexc.Unauthorized("who"), "401"), (requests.ConnectionError("refused"), "refused")],
)
def test_ping_fails_when_the_bucket_cannot_be_seen(bucket_answer, match):
    storage, _ = make_storage(bucket_answer=bucket_answer)
    with pytest.raises(StorageError, match=match):
        storage.ping()


@pytest.mark.parametrize("option", ["forbidden_is_absent", "anonymous"])
@pytest.mark.parametrize("denied", [gexc.Forbidden("denied"), gexc.Unauthorized("anonymous")])
def test_ping_accepts_a_denied_bucket_read_when_denial_is_expected(option, denied):
    # A public bucket lets anyone read objects but not the bucket's metadata.
    storage, _ = make_storage(bucket_answer=denied, **{option: True})
    storage.ping()
