"""Per-location options in a location URL's query string (`s3://b/v1?private=true`), parsed
the same way for every storage plugin: an unknown option or a bad value stops start-up with a
message naming the location, the option and the value."""

from __future__ import annotations

from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

from symbolsrv.errors import ConfigurationError
from symbolsrv.settings import MAX_SECONDS, strict_bool

__all__ = ["parse_location_options", "strict_bool", "positive_float", "non_negative_int",
           "public_base_url", "redact"]


def positive_float(text: str) -> float:
    """A duration in seconds: finite, more than 0, at most a day."""
    value = float(text)
    if not 0 < value <= MAX_SECONDS:
        raise ValueError(text)
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def redact(location: str) -> str:
    """The location for messages: any `user:password@` replaced by `***@`; a URL too broken to
    parse shows only its scheme (its netloc might be a password with a `[` in it)."""
    try:
        url = urlsplit(location)
        url.port  # noqa: B018 — raises ValueError for a bad port
    except ValueError:
        return location.partition(":")[0] + "://…"
    if "@" not in url.netloc:
        return location
    return url._replace(netloc="***@" + url.netloc.rsplit("@", 1)[1]).geturl()


def public_base_url(text: str) -> str:
    """`public_url`: an absolute http(s) URL without query or fragment (a CDN or web server in
    front of the store), without its trailing slash; the key's quoted path is appended."""
    if not text.isascii() or any(c.isspace() or not c.isprintable() for c in text):
        raise ValueError("ASCII without spaces or control characters; percent-encode the rest")
    try:
        url = urlsplit(text)
    except ValueError:
        raise ValueError("not a URL") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("expected http(s)://host/path")
    if url.query or url.fragment:
        raise ValueError("no query string or fragment")
    return text.rstrip("/")


def parse_location_options(
    location: str, query: str, fields: Mapping[str, Callable[[str], Any]], kind: str
) -> dict[str, Any]:
    """Convert each `name=value` with fields[name]; `kind` names the plugin in messages."""
    values: dict[str, Any] = {}
    for name, text in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if name in values:
            raise ConfigurationError(f"{location!r}: option {name!r} given twice")
        if name not in fields:
            raise ConfigurationError(
                f"{location!r}: unknown {kind} option {name!r} (known: {', '.join(fields)}; "
                "and layout, casing for any location)"
            )
        try:
            values[name] = fields[name](text)
        except ValueError as exc:
            why = str(exc)
            detail = f" ({why})" if why and why != text else ""
            raise ConfigurationError(
                f"{location!r}: bad value for {name}: {text!r}{detail}") from None
    return values
