"""http:// and https:// — an upstream symbol server, a static mirror or a Microsoft-style store.

Existence by HEAD on the key's URL over one pooled urllib3 PoolManager; the answer is a
redirect. Per-location options go in the URL's query string, e.g.
https://symbols.example.com/v1?timeout_seconds=2&forbidden_is_absent=true&max_redirects=3
The query string holds symbolsrv's options only and is never sent upstream, so an upstream
whose own URLs need a query string cannot be used. `user:password@` in the URL is sent as
HTTP Basic auth to that host only, and never appears in a name, a log line or a Location.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import quote, unquote, urljoin, urlsplit

import urllib3

from symbolsrv import hookimpl
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.location_options import (
    non_negative_int,
    parse_location_options,
    positive_float,
    public_base_url,
    redact,
    strict_bool,
)
from symbolsrv.storage import Hit

_REDIRECTS = {301, 302, 303, 307, 308}
_ABSENT = {404, 410}
# Answers to HEAD that mean "ask with GET": the upstream does not implement HEAD.
_NO_HEAD = {405, 501}
# Characters left alone when re-quoting an upstream's Location: everything a valid URL may
# hold, so only spaces, controls and raw non-ASCII bytes get percent-encoded.
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


def _user_agent() -> str:
    try:
        version = metadata.version("symbolsrv")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"symbolsrv/{version}"


@dataclass(frozen=True)
class HttpOptions:
    timeout_seconds: float | None = None
    forbidden_is_absent: bool = False
    max_redirects: int = 5
    # "upstream": Location is the key's URL on the configured host, which stays valid;
    # "final": the URL the redirects ended at (one hop less for clients, but it may be a
    # short-lived signed URL, e.g. msdl.microsoft.com's blob storage links).
    redirect_to: str = "upstream"
    # A CDN or cache in front of the upstream: Location is public_url + "/" + the key.
    public_url: str | None = None


def _redirect_to(text: str) -> str:
    if text not in ("final", "upstream"):
        raise ValueError(text)
    return text


# This plugin's `?name=value` options and their converters (README: Locations).
OPTIONS = {
    "timeout_seconds": positive_float,
    "forbidden_is_absent": strict_bool,
    "max_redirects": non_negative_int,
    "redirect_to": _redirect_to,
    "public_url": public_base_url,
}


def parse_options(location: str, query: str) -> HttpOptions:
    """Parse `?name=value` options; ConfigurationError names the location and the option."""
    values = parse_location_options(location, query, OPTIONS, "HTTP")
    options = HttpOptions(**values)
    if options.public_url and options.redirect_to == "final":
        raise ConfigurationError(f"{location!r}: public_url and redirect_to=final exclude each other")
    return options


def _ascii_url(url: str) -> str:
    """An upstream's Location as pure ASCII (headers arrive latin-1-decoded, PEP 3333 style)."""
    try:
        raw = url.encode("latin-1")
    except UnicodeEncodeError:
        raw = url.encode("utf-8")
    return quote(raw, safe=_URL_SAFE)


def _origin(url) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.hostname, url.port)


class HttpStorage:
    """One upstream base URL. `http` is a urllib3 PoolManager (or anything with its
    request() signature), shared by every request of this location."""

    # It asks another symbol server, maybe a symbolsrv that lists this one: requests it sends
    # say `Symbolsrv-Hops: 1`, and a symbolsrv never forwards such a request again.
    forwards = True

    def __init__(self, http, base_url: str, options: HttpOptions, timeout_seconds: float,
                 user_agent: str | None = None):
        url = urlsplit(base_url)
        host = url.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # IPv6 literal
        hostport = host + (f":{url.port}" if url.port is not None else "")
        self.http = http
        self.options = options
        self.timeout_seconds = options.timeout_seconds or timeout_seconds
        self.base_path = url.path.rstrip("/")
        # Without userinfo or query: this is what logs, the heartbeat and Location may show.
        self.base = f"{url.scheme}://{hostport}{self.base_path}"
        self.name = f"{url.scheme}:{hostport}{self.base_path}"
        self._origin = _origin(url)
        self._headers = {"User-Agent": user_agent or _user_agent(), "Symbolsrv-Hops": "1"}
        self._auth_headers = dict(self._headers)
        if url.username is not None:
            userpass = f"{unquote(url.username)}:{unquote(url.password or '')}"
            token = base64.b64encode(userpass.encode("utf-8")).decode("ascii")
            self._auth_headers["Authorization"] = f"Basic {token}"

    def url_for(self, key: SymbolKey) -> str:
        """The key's URL: the base path and the quoted key joined by exactly one slash."""
        return f"{self.base}/{key.quoted_path}"

    def locate(self, key: SymbolKey) -> Hit | None:
        url = self.url_for(key)
        deadline = time.monotonic() + self.timeout_seconds
        found = self._follow(url, deadline)
        if found is None:
            return None
        final, on_upstream = found
        if self.options.public_url:
            return Hit(self.name, url=f"{self.options.public_url}/{key.quoted_path}")
        return Hit(self.name, url=final if self.options.redirect_to == "final" else on_upstream)

    def _on_upstream(self, url: str) -> bool:
        """Is url a plain path of the upstream itself (same origin, under the base path, no
        query string, no credentials)? Another symbol server's redirect to one of its own
        paths (a code-id redirect to the debug key) stays valid; a signed link elsewhere does
        not."""
        parts = urlsplit(url)
        return (_origin(parts) == self._origin and "@" not in parts.netloc and not parts.query
                and (parts.path + "/").startswith(self.base_path + "/"))

    def _follow(self, url: str, deadline: float) -> tuple[str, str] | None:
        """Follow redirects from `url`; None if absent, else (the URL that answered 2xx, the
        last URL of the chain still on the upstream itself)."""
        seen = {url}
        on_upstream = url
        hops = 0
        while True:
            status, location = self._check(url, deadline, redirected=hops > 0)
            if status is None:
                return url, on_upstream
            if status in _ABSENT:
                return None
            if status == 403:
                if self.options.forbidden_is_absent:
                    return None
                raise StorageError(self.name, f"upstream answered 403 for {self._show(url)}")
            if status not in _REDIRECTS:
                raise StorageError(self.name, f"upstream answered {status} for {self._show(url)}")
            if not location:
                raise StorageError(self.name, f"{status} without Location from {self._show(url)}")
            target = _ascii_url(urljoin(url, location))
            if urlsplit(target).scheme not in ("http", "https"):
                raise StorageError(self.name, f"redirect to a non-HTTP URL from {self._show(url)}")
            if target in seen:
                raise StorageError(self.name, f"redirect loop at {self._show(target)}")
            hops += 1
            if hops > self.options.max_redirects:
                raise StorageError(self.name, f"more than {self.options.max_redirects} redirects")
            seen.add(target)
            # The chain stays on the upstream as long as each hop is one of its own paths.
            if on_upstream == url and self._on_upstream(target):
                on_upstream = target
            url = target

    def _check(self, url: str, deadline: float, redirected: bool) -> tuple[int | None, str | None]:
        """One existence probe of `url`: (None, None) if present, else (status, Location).

        HEAD first; an upstream that does not implement HEAD (405, 501), or a redirect target
        that refuses HEAD (403: a URL presigned for GET), gets GET with `Range: bytes=0-0`.
        """
        response = self._request("HEAD", url, deadline)
        status = response.status
        if status in _NO_HEAD or (status == 403 and redirected):
            response = self._request("GET", url, deadline, {"Range": "bytes=0-0"})
            status = response.status
        if 200 <= status < 300 or status == 416:  # 416: exists, but empty
            return None, None
        return status, response.headers.get("Location")

    def _request(self, method: str, url: str, deadline: float, extra=None):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StorageError(self.name, f"timed out after {self.timeout_seconds:g} s")
        # Credentials only ever go to the configured host, never to a redirect target.
        headers = self._auth_headers if _origin(urlsplit(url)) == self._origin else self._headers
        if extra:
            headers = {**headers, **extra}
        try:
            response = self.http.request(
                method, url, headers=headers, redirect=False, retries=False,
                preload_content=False,
                timeout=urllib3.Timeout(connect=remaining, read=remaining),
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(self.name, f"{method} {self._show(url)}: {exc}") from exc
        try:
            if response.status == 206 or method == "HEAD":
                response.drain_conn()  # at most one byte: keep the connection
            else:
                response.close()  # a GET that ignored Range must not download the file
        except (urllib3.exceptions.HTTPError, OSError):
            response.close()
        finally:
            response.release_conn()
        return response

    def _show(self, url: str) -> str:
        """A URL for messages: without query string (it may hold a signature)."""
        return url.split("?", 1)[0]

    def ping(self) -> None:
        """Reachable if the base URL gets any HTTP answer below 500 (even 404)."""
        deadline = time.monotonic() + self.timeout_seconds
        response = self._request("HEAD", self.base + "/", deadline)
        if response.status >= 500:
            raise StorageError(self.name, f"upstream answered {response.status}")


def make_pool() -> urllib3.PoolManager:
    # No retries and no automatic redirects: a failure is reported, and redirects are
    # followed (and bounded) by HttpStorage itself. maxsize covers waitress's threads.
    return urllib3.PoolManager(num_pools=16, maxsize=16, retries=False)


@hookimpl
def symbolsrv_storage_for(location, cfg):
    url = urlsplit(location)
    if url.scheme not in ("http", "https"):
        return None
    shown = redact(location)
    try:
        url.port  # noqa: B018 — raises ValueError for a bad port
    except ValueError:
        raise ConfigurationError(f"{shown!r}: bad port") from None
    if not url.hostname:
        raise ConfigurationError(f"{shown!r}: expected {url.scheme}://host/path")
    if url.fragment:
        raise ConfigurationError(f"{shown!r}: a location URL has no #fragment")
    options = parse_options(shown, url.query)
    return HttpStorage(make_pool(), location, options, cfg.storage_timeout_seconds)
