"""The settings table and load_settings(): INI strings in, one frozen typed Settings out.

Every `symbolsrv.*` key is listed in SETTINGS; an unknown one is a typo and stops start-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pyramid.settings import asbool, aslist

from symbolsrv.errors import ConfigurationError
from symbolsrv.location_sections import Sections, expand_location

log = logging.getLogger(__name__)

REQUIRED = object()

DEFAULT_PLUGINS = (
    "plugins.storage_local plugins.storage_s3 plugins.storage_gcs plugins.storage_http "
    "plugins.rewrite_legacy plugins.rewrite_debuginfod"
)
DEFAULT_PRODUCTS = "firefox seamonkey sunbird thunderbird xulrunner fennec b2g"
# debuginfod's artifact names (plugins.rewrite_debuginfod): no extension to allow them by.
DEFAULT_NAMES = "debuginfo executable"
DEFAULT_EXTENSIONS = (
    ".sym .pdb .pd_ .dll .dl_ .exe .ex_ .so .dylib .dbg .dbg.gz .debug .tar.bz2"
)


def _list(value: str) -> tuple[str, ...]:
    return tuple(aslist(value))


def _extensions(value: str) -> tuple[str, ...]:
    items = _list(value)
    for item in items:
        if not item.startswith("."):
            raise ValueError(f"{item!r} does not start with '.'")
    return tuple(item.lower() for item in items)


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def strict_bool(value: str) -> bool:
    """asbool, but a typo such as "ture" is an error instead of False."""
    if value.lower() not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        raise ValueError("not a boolean")
    return asbool(value)


MAX_SECONDS = 86400.0  # a day; also keeps every wait below threading.TIMEOUT_MAX


def _positive_float(value: str) -> float:
    """A duration in seconds: finite, more than 0, at most a day."""
    number = float(value)
    if not 0 < number <= MAX_SECONDS:
        raise ValueError(f"must be more than 0 and at most {MAX_SECONDS:.0f}")
    return number


def _products(value: str) -> tuple[str, ...]:
    items = _list(value)
    if "try" in items:
        raise ValueError("'try' is the try-symbols prefix, not a product")
    return items


@dataclass(frozen=True)
class Row:
    key: str
    attr: str
    convert: Callable[[str], Any]
    default: Any
    expected: str
    help: str


SETTINGS: tuple[Row, ...] = (
    Row("symbolsrv.locations", "locations", _list, REQUIRED, "whitespace-separated URLs",
        "Ordered storage locations (file://, s3://, gs://, http(s)://, or the name of a "
        "[location:<name>] section); the first that holds a key wins."),
    Row("symbolsrv.try_locations", "try_locations", _list, "", "whitespace-separated URLs",
        "Locations for try builds, searched after all regular ones for /try/… or ?try."),
    Row("symbolsrv.plugins", "plugins", _list, DEFAULT_PLUGINS, "dotted module names",
        "Plugin modules to register, e.g. plugins.storage_s3 plugins.rewrite_legacy."),
    Row("symbolsrv.legacy_products", "legacy_products", _products, DEFAULT_PRODUCTS, "names",
        "Product prefixes accepted as /<product>/<debug_file>/<debug_id>/<symbol_file>."),
    Row("symbolsrv.allowed_extensions", "allowed_extensions", _extensions, DEFAULT_EXTENSIONS,
        "extensions starting with '.'",
        "Symbol file endings worth a lookup; anything else is a 404 without one."),
    Row("symbolsrv.allowed_names", "allowed_names", _list, DEFAULT_NAMES, "file names",
        "Exact symbol file names worth a lookup without an allowed extension (debuginfod's)."),
    Row("symbolsrv.redirect_max_age_seconds", "redirect_max_age_seconds", _non_negative_int, "3600",
        "whole seconds", "Cache-Control max-age on 302s (capped by a presigned URL's expiry)."),
    Row("symbolsrv.storage_timeout_seconds", "storage_timeout_seconds", _positive_float, "5",
        "seconds > 0", "Connect and read timeout for one storage request."),
    Row("symbolsrv.retry_after_seconds", "retry_after_seconds", _non_negative_int, "30",
        "whole seconds", "Retry-After on 503 answers when storage is failing."),
    Row("symbolsrv.miss_flush_interval_seconds", "miss_flush_interval_seconds", _positive_float,
        "1", "seconds > 0", "How often buffered miss counts are written to the database."),
    Row("symbolsrv.miss_buffer_max_rows", "miss_buffer_max_rows", _non_negative_int, "100000",
        "whole number", "Distinct misses held in memory while the database is away."),
    Row("symbolsrv.concurrent_lookups", "concurrent_lookups", strict_bool, "true", "true or false",
        "Ask all locations at once; the highest-ranked hit still wins."),
    Row("symbolsrv.lookup_deadline_seconds", "lookup_deadline_seconds", _positive_float, "10",
        "seconds > 0", "Longest a lookup waits for any location before counting it as failed."),
    Row("symbolsrv.cache_url", "cache_url", str, "memory", "memory, none or redis://…",
        "Existence cache: in-process LRU, off, or shared through Redis."),
    Row("symbolsrv.cache_hit_seconds", "cache_hit_seconds", _non_negative_int, "300",
        "whole seconds", "How long a found URL is remembered (0: not at all)."),
    Row("symbolsrv.cache_miss_seconds", "cache_miss_seconds", _non_negative_int, "30",
        "whole seconds", "How long an absent key is remembered (0: not at all)."),
    Row("symbolsrv.cache_max_entries", "cache_max_entries", _non_negative_int, "200000",
        "whole number", "Entries kept by the in-process cache (least recently used go)."),
    Row("symbolsrv.purge_token", "purge_token", str, "", "a secret string",
        "Bearer token for DELETE /__cache__/<key>; empty disables the endpoint."),
    Row("symbolsrv.breaker_failures", "breaker_failures", _non_negative_int, "5", "whole number",
        "Consecutive failures that open a location's circuit (0: never)."),
    Row("symbolsrv.breaker_reset_seconds", "breaker_reset_seconds", _positive_float, "5",
        "seconds > 0", "How long an open circuit skips its location before one probe."),
    Row("sqlalchemy.url", "sqlalchemy_url", str, REQUIRED, "a SQLAlchemy URL",
        "Miss-log database, e.g. sqlite:///var/symbolsrv.sqlite or postgresql+psycopg2://…"),
)


@dataclass(frozen=True)
class Settings:
    locations: tuple[str, ...]
    try_locations: tuple[str, ...]
    plugins: tuple[str, ...]
    legacy_products: tuple[str, ...]
    allowed_extensions: tuple[str, ...]
    allowed_names: tuple[str, ...]
    redirect_max_age_seconds: int
    storage_timeout_seconds: float
    retry_after_seconds: int
    miss_flush_interval_seconds: float
    miss_buffer_max_rows: int
    concurrent_lookups: bool
    lookup_deadline_seconds: float
    cache_url: str
    cache_hit_seconds: int
    cache_miss_seconds: int
    cache_max_entries: int
    purge_token: str
    breaker_failures: int
    breaker_reset_seconds: float
    sqlalchemy_url: str
    # Other sqlalchemy.* keys, passed through to engine_from_config untouched.
    sqlalchemy: Mapping[str, str] = field(default_factory=dict)


def load_settings(raw: Mapping[str, Any], sections: Sections | None = None) -> Settings:
    """Convert the INI settings; raise ConfigurationError naming the key, value and expectation.

    `sections` are the INI file's `[location:<name>]` sections (location_sections.py): a
    location entry naming one becomes that section's URL with its options.
    """
    known = {row.key for row in SETTINGS}
    unknown = sorted(k for k in raw if k.startswith("symbolsrv.") and k not in known)
    if unknown:
        raise ConfigurationError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for row in SETTINGS:
        text = raw.get(row.key, row.default)
        if text is REQUIRED or (row.default is REQUIRED and not str(text).strip()):
            raise ConfigurationError(f"missing required setting {row.key!r} ({row.expected})")
        try:
            values[row.attr] = row.convert(str(text).strip())
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"bad value for {row.key}: {text!r} (expected {row.expected}: {exc})"
            ) from None
    if not values["locations"]:
        raise ConfigurationError("symbolsrv.locations is empty: configure at least one location")
    sections = sections or {}
    unused = set(sections) - set(values["locations"]) - set(values["try_locations"])
    for name in sorted(unused):
        log.warning("[location:%s] is not named in symbolsrv.locations or try_locations: unused",
                    name)
    for attr in ("locations", "try_locations"):
        values[attr] = tuple(expand_location(entry, sections) for entry in values[attr])
    values["sqlalchemy"] = {k: str(v) for k, v in raw.items() if k.startswith("sqlalchemy.")}
    return Settings(**values)
