"""plugins.storage_s3: S3Storage with a stub client, option parsing, the hook, and one moto run."""

from types import SimpleNamespace

import boto3
import pytest
from botocore import UNSIGNED
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from plugins.storage_s3 import S3Options, S3Storage, parse_options, symbolsrv_storage_for
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.storage import Hit

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = SymbolKey("xul.pdb", ID, "xul.sym")
CUSTOM_ENDPOINT = "http://127.0.0.1:5000"
AWS_ENDPOINT = "https://s3.us-west-2.amazonaws.com"


def client_error(code, operation="HeadObject"):
    return ClientError({"Error": {"Code": code, "Message": "stub"}}, operation)


class StubClient:
    """Just enough of a boto3 S3 client. `head` / `bucket` are an exception to raise or None."""

    def __init__(self, endpoint_url=CUSTOM_ENDPOINT, head=None, bucket=None, presign=None):
        self.meta = SimpleNamespace(endpoint_url=endpoint_url)
        self.head = head
        self.bucket = bucket
        self.presign = presign
        self.calls = []

    def head_object(self, Bucket, Key):
        self.calls.append(("head_object", Bucket, Key))
        if self.head is not None:
            raise self.head
        return {"ContentLength": 1}

    def head_bucket(self, Bucket):
        self.calls.append(("head_bucket", Bucket))
        if self.bucket is not None:
            raise self.bucket
        return {}

    def generate_presigned_url(self, operation, Params, ExpiresIn):
        self.calls.append(("generate_presigned_url", operation, Params, ExpiresIn))
        if self.presign is not None:
            raise self.presign
        return f"https://signed.example.test/{Params['Key']}?X-Amz-Expires={ExpiresIn}&X-Amz-Signature=abc"


def make_storage(client=None, bucket="org-symbols", prefix="v1/", **options):
    return S3Storage(client or StubClient(), bucket, prefix, S3Options(**options))


# ---------------------------------------------------------------- locate: existence


def test_present_object_is_a_hit_and_head_object_gets_bucket_and_prefixed_key():
    client = StubClient()
    hit = make_storage(client).locate(KEY)
    assert hit == Hit("s3:org-symbols", url=f"{CUSTOM_ENDPOINT}/org-symbols/v1/{KEY.path}")
    assert client.calls == [("head_object", "org-symbols", f"v1/{KEY.path}")]


def test_empty_prefix_puts_the_key_at_the_bucket_root():
    client = StubClient()
    make_storage(client, prefix="").locate(KEY)
    assert client.calls == [("head_object", "org-symbols", KEY.path)]


@pytest.mark.parametrize("code", ["404", "NoSuchKey", "NotFound"])
def test_not_found_is_none(code):
    assert make_storage(StubClient(head=client_error(code))).locate(KEY) is None


@pytest.mark.parametrize("code", ["403", "AccessDenied", "Forbidden"])
def test_forbidden_is_a_storage_error_by_default(code):
    with pytest.raises(StorageError) as exc_info:
        make_storage(StubClient(head=client_error(code))).locate(KEY)
    assert exc_info.value.location == "s3:org-symbols"
    assert code in str(exc_info.value)


@pytest.mark.parametrize("code", ["403", "AccessDenied"])
def test_forbidden_is_absent_when_configured(code):
    storage = make_storage(StubClient(head=client_error(code)), forbidden_is_absent=True)
    assert storage.locate(KEY) is None


@pytest.mark.parametrize("code", ["500", "503", "SlowDown", "InternalError"])
def test_server_errors_are_storage_errors_even_with_forbidden_is_absent(code):
    storage = make_storage(StubClient(head=client_error(code)), forbidden_is_absent=True)
    with pytest.raises(StorageError, match=f"HeadObject answered {code}"):
        storage.locate(KEY)


def test_client_error_without_a_code_is_a_storage_error():
    error = ClientError({"Error": {}}, "HeadObject")
    with pytest.raises(StorageError, match="HeadObject answered an error"):
        make_storage(StubClient(head=error)).locate(KEY)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url=CUSTOM_ENDPOINT),
        ReadTimeoutError(endpoint_url=CUSTOM_ENDPOINT),
        ConnectTimeoutError(endpoint_url=CUSTOM_ENDPOINT),
        NoCredentialsError(),
    ],
)
def test_botocore_failures_are_storage_errors_keeping_the_original(error):
    with pytest.raises(StorageError) as exc_info:
        make_storage(StubClient(head=error)).locate(KEY)
    assert exc_info.value.location == "s3:org-symbols"
    assert exc_info.value.original is error


# ---------------------------------------------------------------- locate: the redirect URL


@pytest.mark.parametrize(
    "endpoint, bucket, base",
    [
        (CUSTOM_ENDPOINT, "org-symbols", f"{CUSTOM_ENDPOINT}/org-symbols/"),
        (CUSTOM_ENDPOINT + "/", "org-symbols", f"{CUSTOM_ENDPOINT}/org-symbols/"),
        ("https://minio.example.test", "org-symbols", "https://minio.example.test/org-symbols/"),
        (AWS_ENDPOINT, "org-symbols", "https://org-symbols.s3.us-west-2.amazonaws.com/"),
        ("https://s3.amazonaws.com", "org-symbols", "https://org-symbols.s3.amazonaws.com/"),
        # A dotted bucket would break the TLS wildcard certificate: path style.
        (AWS_ENDPOINT, "symbols.example.org", f"{AWS_ENDPOINT}/symbols.example.org/"),
    ],
)
def test_public_url_style_follows_the_endpoint(endpoint, bucket, base):
    storage = make_storage(StubClient(endpoint_url=endpoint), bucket=bucket)
    assert storage.locate(KEY).url == f"{base}v1/{KEY.path}"


@pytest.mark.parametrize("endpoint", [CUSTOM_ENDPOINT, AWS_ENDPOINT])
def test_public_url_percent_encodes_the_key(endpoint):
    key = SymbolKey("libc++ 汉.so", ID, "libc++ 汉.so.sym")
    url = make_storage(StubClient(endpoint_url=endpoint)).locate(key).url
    assert url.endswith(f"/v1/libc%2B%2B%20%E6%B1%89.so/{ID}/libc%2B%2B%20%E6%B1%89.so.sym")
    assert url.isascii()


def test_public_url_option_replaces_the_endpoint_base():
    storage = make_storage(StubClient(endpoint_url=AWS_ENDPOINT), public_url="https://cdn.example.test/s/")
    assert storage.locate(KEY).url == f"https://cdn.example.test/s/v1/{KEY.path}"
    storage = make_storage(StubClient(endpoint_url=AWS_ENDPOINT), public_url="https://cdn.example.test/s")
    assert storage.locate(KEY).url == f"https://cdn.example.test/s/v1/{KEY.path}"


def test_public_hit_leaves_max_age_to_settings():
    assert make_storage().locate(KEY).max_age_seconds is None


def test_private_location_answers_a_presigned_url_capped_at_half_its_lifetime():
    client = StubClient()
    hit = make_storage(client, private=True, expires_seconds=600).locate(KEY)
    assert hit.url == f"https://signed.example.test/v1/{KEY.path}?X-Amz-Expires=600&X-Amz-Signature=abc"
    assert hit.max_age_seconds == 300
    assert client.calls[-1] == (
        "generate_presigned_url", "get_object", {"Bucket": "org-symbols", "Key": f"v1/{KEY.path}"}, 600,
    )


def test_private_location_does_not_presign_a_missing_key():
    client = StubClient(head=client_error("404"))
    assert make_storage(client, private=True).locate(KEY) is None
    assert [c[0] for c in client.calls] == ["head_object"]


def test_presigning_failure_is_a_storage_error():
    client = StubClient(presign=NoCredentialsError())
    with pytest.raises(StorageError):
        make_storage(client, private=True).locate(KEY)


# ---------------------------------------------------------------- ping


def test_ping_passes_when_head_bucket_answers():
    client = StubClient()
    assert make_storage(client).ping() is None
    assert client.calls == [("head_bucket", "org-symbols")]


@pytest.mark.parametrize("error", [client_error("404", "HeadBucket"), client_error("500", "HeadBucket"),
                                   client_error("403", "HeadBucket"), EndpointConnectionError(endpoint_url="x")])
def test_ping_fails_when_the_bucket_cannot_be_reached(error):
    with pytest.raises(StorageError):
        make_storage(StubClient(bucket=error)).ping()


def test_ping_passes_on_forbidden_when_forbidden_is_absent():
    storage = make_storage(StubClient(bucket=client_error("403", "HeadBucket")), forbidden_is_absent=True)
    assert storage.ping() is None


# ---------------------------------------------------------------- options


def test_no_options_are_the_defaults():
    assert parse_options("s3://b", "") == S3Options()


def test_every_option_is_parsed_to_its_type():
    options = parse_options(
        "s3://b",
        "region=us-west-2&endpoint_url=http://127.0.0.1:5000&private=true&expires_seconds=60"
        "&forbidden_is_absent=yes&public_url=https://cdn.example.test/&unsigned=0&timeout_seconds=2.5"
        "&check=api",
    )
    assert options == S3Options(
        region="us-west-2",
        endpoint_url="http://127.0.0.1:5000",
        private=True,
        expires_seconds=60,
        forbidden_is_absent=True,
        public_url="https://cdn.example.test",  # checked, without its trailing slash
        unsigned=False,
        timeout_seconds=2.5,
        check="api",
    )


@pytest.mark.parametrize("query, complaint", [
    ("private=true&unsigned=true", "needs signed requests"),
    ("endpoint_url=http://user:secret@127.0.0.1:5000", "no credentials in endpoint_url"),
    ("region=a&region=b", "given twice"),
    ("timeout_seconds=inf", "bad value for timeout_seconds"),
    ("timeout_seconds=0", "bad value for timeout_seconds"),
])
def test_contradictory_or_unsafe_options_stop_start_up(query, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        parse_options("s3://b", query)


@pytest.mark.parametrize("text", ["false", "0", "no", "off"])
def test_false_booleans_parse_to_false(text):
    assert parse_options("s3://b", f"private={text}").private is False


def test_unknown_option_is_a_configuration_error_naming_it_and_the_location():
    with pytest.raises(ConfigurationError) as exc_info:
        parse_options("s3://b/v1?regoin=x", "regoin=x")
    assert "unknown S3 option 'regoin'" in str(exc_info.value)
    assert "s3://b/v1?regoin=x" in str(exc_info.value)


@pytest.mark.parametrize(
    "query, name",
    [("expires_seconds=5m", "expires_seconds"), ("expires_seconds=1.5", "expires_seconds"),
     ("timeout_seconds=fast", "timeout_seconds")],
)
def test_bad_number_option_is_a_configuration_error_naming_option_and_value(query, name):
    value = query.split("=")[1]
    with pytest.raises(ConfigurationError, match=f"bad value for {name}: '{value}'"):
        parse_options("s3://b", query)


@pytest.mark.parametrize("query", ["private=ture", "private=maybe", "forbidden_is_absent=treu"])
def test_misspelt_boolean_option_is_a_configuration_error(query):
    # asbool() maps any unrecognised word to False: "private=ture" would silently serve a
    # private bucket with unsigned URLs (every client gets 403), with no start-up error.
    with pytest.raises(ConfigurationError, match="bad value for"):
        parse_options("s3://b", query)


# ---------------------------------------------------------------- the hook


@pytest.mark.parametrize("location", ["file:///srv/symbols", "gs://bucket/v1", "https://example.test/"])
def test_hook_ignores_other_schemes(cfg, location):
    assert symbolsrv_storage_for(location=location, cfg=cfg) is None


@pytest.mark.parametrize("location", ["s3:///v1", "s3:bucket/v1"])
def test_hook_rejects_s3_url_without_a_bucket(cfg, location):
    with pytest.raises(ConfigurationError, match="expected s3://bucket/prefix"):
        symbolsrv_storage_for(location=location, cfg=cfg)


def test_hook_rejects_unknown_options(cfg, aws_env):
    with pytest.raises(ConfigurationError, match="unknown S3 option 'privat'"):
        symbolsrv_storage_for(location="s3://org-symbols/v1?privat=true", cfg=cfg)


@pytest.mark.parametrize(
    "location, prefix",
    [("s3://org-symbols", ""), ("s3://org-symbols/", ""), ("s3://org-symbols/v1", "v1/"),
     ("s3://org-symbols/v1/", "v1/"), ("s3://org-symbols/a/b?region=us-west-2", "a/b/")],
)
def test_hook_builds_s3_storage_with_a_normalised_prefix(cfg, monkeypatch, location, prefix):
    # The real client is covered below; building one costs ~0.1 s, so stub it here.
    monkeypatch.setattr("plugins.storage_s3.make_client", lambda options, timeout: StubClient())
    storage = symbolsrv_storage_for(location=location, cfg=cfg)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.name) == ("org-symbols", prefix, "s3:org-symbols")


def test_hook_uses_the_region_endpoint_and_virtual_hosted_urls(cfg, aws_env):
    storage = symbolsrv_storage_for(location="s3://org-symbols/v1?region=us-west-2", cfg=cfg)
    assert storage.client.meta.region_name == "us-west-2"
    assert storage._public_base == "https://org-symbols.s3.us-west-2.amazonaws.com/"


def test_hook_honours_aws_endpoint_url_s3_with_path_style_urls(cfg, aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    storage = symbolsrv_storage_for(location="s3://org-symbols/v1", cfg=cfg)
    assert storage._public_base == "http://127.0.0.1:9000/org-symbols/"


def test_hook_applies_the_storage_timeout_and_its_override(make_cfg, aws_env):
    cfg = make_cfg({"symbolsrv.storage_timeout_seconds": "3"})
    config = symbolsrv_storage_for(location="s3://b/v1", cfg=cfg).client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3.0, 3.0)
    config = symbolsrv_storage_for(location="s3://b/v1?timeout_seconds=0.5", cfg=cfg).client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.5, 0.5)


def test_hook_makes_an_unsigned_client_when_asked(cfg, aws_env):
    storage = symbolsrv_storage_for(location="s3://b/v1?unsigned=true", cfg=cfg)
    assert storage.client.meta.config.signature_version is UNSIGNED


# ---------------------------------------------------------------- moto, in process


def test_moto_put_object_is_located_and_a_missing_one_is_not(cfg, aws_env):
    from moto import mock_aws

    key = SymbolKey("libc++ 汉.so", ID, "libc++ 汉.so.sym")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="org-symbols")
        s3.put_object(Bucket="org-symbols", Key=f"v1/{key.path}", Body=b"MODULE Linux x86_64\n")

        public = symbolsrv_storage_for(location="s3://org-symbols/v1?region=us-east-1", cfg=cfg)
        hit = public.locate(key)
        assert hit.url == (
            f"https://org-symbols.s3.amazonaws.com/v1/libc%2B%2B%20%E6%B1%89.so/{ID}/"
            "libc%2B%2B%20%E6%B1%89.so.sym"
        )
        assert public.locate(SymbolKey("libc++ 汉.so", ID, "other.sym")) is None
        assert public.ping() is None

        private = symbolsrv_storage_for(
            location="s3://org-symbols/v1?region=us-east-1&private=true&expires_seconds=120", cfg=cfg
        )
        hit = private.locate(key)
        assert "X-Amz-Signature=" in hit.url and "X-Amz-Expires=120" in hit.url
        assert hit.max_age_seconds == 60

        missing_bucket = symbolsrv_storage_for(location="s3://no-such-bucket?region=us-east-1", cfg=cfg)
        with pytest.raises(StorageError):
            missing_bucket.ping()
