"""gs://bucket/prefix — existence by an object metadata GET (google-cloud-storage), answered
with a redirect.

Per-location options go in the URL's query string, e.g.
gs://org-symbols/v1?private=true&expires_seconds=300
Credentials come the standard Google way (GOOGLE_APPLICATION_CREDENTIALS, gcloud's
application-default login, the metadata server). STORAGE_EMULATOR_HOST points the client at
an emulator; there, or with `anonymous=true`, requests are anonymous.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import google.auth
import requests
import urllib3
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc
from google.auth.credentials import Signing
from google.cloud import storage

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

MAX_EXPIRES_SECONDS = 7 * 24 * 3600  # the longest a V4 signature may live
# Everything the client library or its transport raises when GCS could not answer.
_FAILURES = (
    gexc.GoogleAPIError,
    auth_exc.GoogleAuthError,
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
)


@dataclass(frozen=True)
class GcsOptions:
    private: bool = False
    expires_seconds: int = 300
    forbidden_is_absent: bool = False
    public_url: str | None = None
    anonymous: bool = False
    timeout_seconds: float | None = None


def _expires(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_EXPIRES_SECONDS:
        raise ValueError(text)
    return value


# This plugin's `?name=value` options and their converters (README: Locations).
OPTIONS = {
    "private": strict_bool,
    "expires_seconds": _expires,
    "forbidden_is_absent": strict_bool,
    "public_url": public_base_url,
    "anonymous": strict_bool,
    "timeout_seconds": positive_float,
}


def parse_options(location: str, query: str) -> GcsOptions:
    """Parse `?name=value` options; ConfigurationError names the location and the option."""
    values = parse_location_options(location, query, OPTIONS, "GCS")
    return GcsOptions(**values)


class GcsStorage:
    """One bucket and prefix. `client` is a google.cloud.storage.Client (or a stub with
    bucket() and api_endpoint)."""

    def __init__(self, client, bucket: str, prefix: str, options: GcsOptions,
                 timeout_seconds: float):
        self.client = client
        self.bucket_name = bucket
        self.bucket = client.bucket(bucket)
        self.prefix = prefix
        self.options = options
        self.timeout_seconds = options.timeout_seconds or timeout_seconds
        self.name = f"gs:{bucket}"
        if options.public_url:
            self.public_base = options.public_url.rstrip("/") + "/"
        else:
            # https://storage.googleapis.com, or the emulator's URL under STORAGE_EMULATOR_HOST.
            self.public_base = f"{client.api_endpoint.rstrip('/')}/{quote(bucket)}/"

    def object_name(self, key: SymbolKey) -> str:
        return self.prefix + key.path

    def locate(self, key: SymbolKey) -> Hit | None:
        blob = self.bucket.blob(self.object_name(key))
        try:
            # retry=None: the library's default retries connection errors for up to 120 s.
            found = blob.exists(timeout=self.timeout_seconds, retry=None)
        except gexc.NotFound:
            return None
        except gexc.Forbidden as exc:
            if self.options.forbidden_is_absent:
                return None
            raise StorageError(self.name, "GCS answered 403 Forbidden") from exc
        except _FAILURES as exc:
            raise StorageError(self.name, exc) from exc
        if not found:
            return None
        if self.options.private:
            try:
                url = blob.generate_signed_url(
                    version="v4",
                    expiration=datetime.timedelta(seconds=self.options.expires_seconds),
                    method="GET",
                )
            except (*_FAILURES, AttributeError, ValueError) as exc:
                raise StorageError(self.name, f"cannot sign a URL: {exc}") from exc
            # A cached redirect must not outlive its signature.
            return Hit(self.name, url=url, max_age_seconds=self.options.expires_seconds // 2)
        return Hit(self.name, url=self.public_base + key_quote(self.object_name(key)))

    def ping(self) -> None:
        """Reachable if the bucket's metadata can be read. A 401/403 counts as reachable with
        `anonymous` (public buckets deny anonymous bucket reads) or `forbidden_is_absent`."""
        try:
            found = self.bucket.exists(timeout=self.timeout_seconds, retry=None)
        except (gexc.Forbidden, gexc.Unauthorized) as exc:
            if self.options.forbidden_is_absent or self.options.anonymous:
                return
            raise StorageError(self.name, f"GCS answered {exc.code} for the bucket") from exc
        except _FAILURES as exc:
            raise StorageError(self.name, exc) from exc
        if not found:
            raise StorageError(self.name, "bucket not found")


    # Listing, for `symbolsrv index` (optional storage methods; the server never calls them).

    def list_keys(self, suffix: str):
        """Yield (path, etag) for each object `<prefix><debug_file>/<debug_id>/<symbol_file>`
        whose name ends with suffix (any case), page by page (needs storage.objects.list).
        Raises StorageError when a page cannot be listed."""
        suffix = suffix.lower()
        try:
            blobs = self.client.list_blobs(
                self.bucket_name, prefix=self.prefix or None, timeout=self.timeout_seconds
            )
            for blob in blobs:
                path = blob.name[len(self.prefix):]
                if path.lower().endswith(suffix) and path.count("/") == 2:
                    yield path, str(blob.etag or blob.generation or "")
        except _FAILURES as exc:
            raise StorageError(self.name, exc) from exc

    def read_head(self, path: str, size: int) -> bytes | None:
        """The first `size` bytes of the object at path as stored (raw_download: a gzip-encoded
        object comes compressed, never transcoded), or None if it is gone."""
        blob = self.bucket.blob(self.prefix + path)
        try:
            return blob.download_as_bytes(
                start=0, end=size - 1, raw_download=True, checksum=None,
                timeout=self.timeout_seconds,
            )
        except gexc.NotFound:
            return None
        except gexc.RequestRangeNotSatisfiable:  # an empty object has no byte 0
            return b""
        except _FAILURES as exc:
            raise StorageError(self.name, exc) from exc


def key_quote(object_name: str) -> str:
    """An object name for a URL path: `+` is %2B, space %20, non-ASCII UTF-8 (as SymbolKey)."""
    return quote(object_name, safe="/-_.~")


def make_client(location: str, options: GcsOptions):
    """Build the client: anonymous with `anonymous=true`, or under STORAGE_EMULATOR_HOST when
    no credentials are found; otherwise application-default credentials.

    Raises ConfigurationError when there are no credentials, or when `private=true` and the
    credentials cannot sign (anonymous, emulator, metadata-server credentials: V4 signing
    here needs a service-account key).
    """
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    credentials = project = None
    if not options.anonymous:
        try:
            credentials, project = google.auth.default()
        except auth_exc.DefaultCredentialsError:
            if not emulator:
                raise ConfigurationError(
                    f"{location!r}: no Google credentials found (set"
                    " GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default"
                    " login`); for a public bucket add anonymous=true"
                ) from None
    if options.private and not isinstance(credentials, Signing):
        why = "anonymous=true" if options.anonymous else (
            "no credentials (STORAGE_EMULATOR_HOST is set)" if credentials is None
            else f"{type(credentials).__name__} credentials hold no private key")
        raise ConfigurationError(
            f"{location!r}: private=true needs credentials that can sign URLs (a service"
            f" account key in GOOGLE_APPLICATION_CREDENTIALS), but this location has {why}"
        )
    if credentials is None:
        return storage.Client.create_anonymous_client()
    return storage.Client(project=project, credentials=credentials)


@hookimpl
def symbolsrv_storage_for(location, cfg):
    url = urlsplit(location)
    if url.scheme != "gs":
        return None
    if not url.netloc or "@" in url.netloc or ":" in url.netloc:
        raise ConfigurationError(f"{location!r}: expected gs://bucket/prefix")
    options = parse_options(location, url.query)
    prefix = url.path.strip("/")
    prefix = prefix + "/" if prefix else ""
    client = make_client(location, options)
    return GcsStorage(client, url.netloc, prefix, options, cfg.storage_timeout_seconds)
