"""s3://bucket/prefix — existence by HeadObject (boto3), answered with a redirect.

Per-location options go in the URL's query string, e.g.
s3://org-symbols/v1?region=us-west-2&private=true&expires_seconds=300
Credentials and endpoint come the standard boto3 way (AWS_* variables, profiles, instance
roles; AWS_ENDPOINT_URL_S3 points it at any S3-compatible server).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import boto3
import urllib3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from symbolsrv import hookimpl
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.location_options import (
    parse_location_options,
    positive_float,
    public_base_url,
    strict_bool,
)
from symbolsrv.storage import Hit

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_FORBIDDEN = {"403", "AccessDenied", "Forbidden"}


@dataclass(frozen=True)
class S3Options:
    region: str | None = None
    endpoint_url: str | None = None
    private: bool = False
    expires_seconds: int = 300
    forbidden_is_absent: bool = False
    public_url: str | None = None
    unsigned: bool = False
    timeout_seconds: float | None = None
    # "api": HeadObject through boto3 (any bucket). "http": an unsigned HEAD of the public
    # object URL over a pooled connection, about 1/3 of the CPU (NOTES.md); public buckets only.
    check: str = "api"


# This plugin's `?name=value` options and their converters (README: Locations).
OPTIONS = {
    "region": str,
    "endpoint_url": str,
    "private": strict_bool,
    "expires_seconds": int,
    "forbidden_is_absent": strict_bool,
    "public_url": public_base_url,
    "unsigned": strict_bool,
    "timeout_seconds": positive_float,
    "check": str,
}


def parse_options(location: str, query: str) -> S3Options:
    """Parse `?name=value` options; ConfigurationError names the location and the option."""
    values = parse_location_options(location, query, OPTIONS, "S3")
    options = S3Options(**values)
    if options.check not in ("api", "http"):
        raise ConfigurationError(f"{location!r}: check must be api or http, not {options.check!r}")
    if options.private and options.unsigned:
        raise ConfigurationError(f"{location!r}: private=true needs signed requests, not unsigned")
    if options.endpoint_url and urlsplit(options.endpoint_url).password is not None:
        raise ConfigurationError(
            f"{location!r}: no credentials in endpoint_url; use the standard AWS sources"
        )
    if options.check == "http" and options.private:
        raise ConfigurationError(
            f"{location!r}: check=http asks the public URL, which a private bucket refuses"
        )
    if not 1 <= options.expires_seconds <= 604800:
        raise ConfigurationError(
            f"{location!r}: expires_seconds must be 1 to 604800 (S3's presign limit), "
            f"not {options.expires_seconds}"
        )
    return options


class S3Storage:
    def __init__(self, client, bucket: str, prefix: str, options: S3Options, timeout: float = 5):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.options = options
        self.name = f"s3:{bucket}"
        self._public_base = self._public_base_url()
        self._http = None
        if options.check == "http":
            self._http = urllib3.PoolManager(
                maxsize=32,
                retries=False,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                headers={"User-Agent": "symbolsrv"},
            )

    def _public_base_url(self) -> str:
        if self.options.public_url:
            return self.options.public_url.rstrip("/") + "/"
        endpoint = self.client.meta.endpoint_url.rstrip("/")
        scheme, host = endpoint.split("://", 1)
        if host.endswith("amazonaws.com") and "." not in self.bucket:
            return f"{scheme}://{self.bucket}.{host}/"  # virtual-hosted style
        return f"{endpoint}/{quote(self.bucket)}/"  # path style: custom endpoints, dotted buckets

    def object_key(self, key: SymbolKey) -> str:
        return self.prefix + key.path

    def locate(self, key: SymbolKey) -> Hit | None:
        object_key = self.object_key(key)
        if self._http is not None:
            return self._locate_by_http(object_key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND:
                return None
            if code in _FORBIDDEN and self.options.forbidden_is_absent:
                return None
            raise StorageError(self.name, f"HeadObject answered {code or 'an error'}") from exc
        except BotoCoreError as exc:
            raise StorageError(self.name, exc) from exc
        if self.options.private:
            try:
                url = self.client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": object_key},
                    ExpiresIn=self.options.expires_seconds,
                )
            except BotoCoreError as exc:
                raise StorageError(self.name, exc) from exc
            # A cached redirect must not outlive its signature.
            return Hit(self.name, url=url, max_age_seconds=self.options.expires_seconds // 2)
        return Hit(self.name, url=self._public_base + quote(object_key, safe="/-_.~"))

    def _locate_by_http(self, object_key: str) -> Hit | None:
        url = self._public_base + quote(object_key, safe="/-_.~")
        try:
            response = self._http.request("HEAD", url, redirect=False, preload_content=False)
            response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise StorageError(self.name, exc) from exc
        if response.status == 200:
            return Hit(self.name, url=url)
        if response.status == 404:
            return None
        if response.status == 403 and self.options.forbidden_is_absent:
            return None  # anonymous HEAD of a missing key without public ListBucket
        raise StorageError(self.name, f"HEAD of the public URL answered {response.status}")

    def ping(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _FORBIDDEN and self.options.forbidden_is_absent:
                return
            raise StorageError(self.name, f"HeadBucket answered {code or 'an error'}") from exc
        except BotoCoreError as exc:
            raise StorageError(self.name, exc) from exc


    # Listing, for `symbolsrv index` (optional storage methods; the server never calls them).

    def list_keys(self, suffix: str):
        """Yield (path, ETag) for each object `<prefix><debug_file>/<debug_id>/<symbol_file>`
        whose name ends with suffix (any case), by ListObjectsV2 pages (needs s3:ListBucket).
        Raises StorageError when a page cannot be listed."""
        suffix = suffix.lower()
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    path = item["Key"][len(self.prefix):]
                    if path.lower().endswith(suffix) and path.count("/") == 2:
                        yield path, str(item.get("ETag", "")).strip('"')
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise StorageError(self.name, f"ListObjectsV2 answered {code or 'an error'}") from exc
        except BotoCoreError as exc:
            raise StorageError(self.name, exc) from exc

    def read_head(self, path: str, size: int) -> bytes | None:
        """The first `size` bytes of the object at path (as listed; as stored, so a gzip-encoded
        object comes compressed), or None if it is gone. One ranged GetObject."""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.prefix + path, Range=f"bytes=0-{size - 1}"
            )
            body = response["Body"]
            try:
                return body.read(size)
            finally:
                body.close()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND:
                return None
            if code == "InvalidRange":  # an empty object has no byte 0
                return b""
            raise StorageError(self.name, f"GetObject answered {code or 'an error'}") from exc
        except BotoCoreError as exc:
            raise StorageError(self.name, exc) from exc


def make_client(options: S3Options, default_timeout: float):
    timeout = options.timeout_seconds or default_timeout
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        # One attempt: a hung or failing bucket costs its timeout once (field case C-14), and
        # the client, told 503 + Retry-After, is the one that retries.
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=32,
        signature_version=UNSIGNED if options.unsigned else "s3v4",
    )
    session = boto3.session.Session()
    return session.client(
        "s3", region_name=options.region, endpoint_url=options.endpoint_url, config=config
    )


@hookimpl
def symbolsrv_storage_for(location, cfg):
    url = urlsplit(location)
    if url.scheme != "s3":
        return None
    if not url.netloc:
        raise ConfigurationError(f"{location!r}: expected s3://bucket/prefix")
    if "@" in url.netloc:
        # Names appear in /__heartbeat__, /metrics and logs: credentials never go in a URL.
        raise ConfigurationError(
            "an s3:// location must not carry credentials; use the standard AWS sources "
            "(environment, profile, instance role)"
        )
    options = parse_options(location, url.query)
    prefix = url.path.strip("/")
    prefix = prefix + "/" if prefix else ""
    try:
        client = make_client(options, cfg.storage_timeout_seconds)
    except ValueError as exc:  # botocore: "Invalid endpoint: https://s3..amazonaws.com"
        raise ConfigurationError(f"{location!r}: {exc} (check region and endpoint_url)") from None
    timeout = options.timeout_seconds or cfg.storage_timeout_seconds
    return S3Storage(client, url.netloc, prefix, options, timeout)
