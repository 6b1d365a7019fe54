"""Locations described in their own INI sections instead of one long URL.

    [app:main]
    symbolsrv.locations =
        primary
        https://symbols.mozilla.org/

    [location:primary]
    url = s3://org-symbols/v1
    region = us-west-2
    public_url = https://symbols-cdn.example.com/v1
    casing = upper-id

An entry of symbolsrv.locations (or try_locations) without `://` names a `[location:<name>]`
section. Its `url` is the location; every other line is one of that location's options, as if
written in the URL's query string (so a plugin needs nothing to support sections). `%(here)s`
is the INI file's directory, as in [app:main].
"""

from __future__ import annotations

import configparser
import os
from typing import Mapping
from urllib.parse import urlencode

import plaster

from symbolsrv.errors import ConfigurationError

SECTION_PREFIX = "location:"

Sections = Mapping[str, Mapping[str, str]]


def read_location_sections(
    config_uri: str | None, variables: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """The `[location:<name>]` sections of an INI file: {name: {option: value}}.

    `config_uri` is what pserve and the commands take: a path, `production.ini#main`,
    `pastedeploy+ini:///etc/symbolsrv.ini`, `site.ini?root=/srv`; None or "" gives {}.
    Values are interpolated as PasteDeploy does [app:main]: `%(here)s`, `%(__file__)s`, the
    URI's and pserve's `name=value` variables (`variables`) and [DEFAULT]'s keys; a section's
    own options are exactly the lines written in it.
    """
    if not config_uri:
        return {}
    uri = plaster.parse_uri(config_uri)
    path = os.path.abspath(uri.path)
    defaults = {"here": os.path.dirname(path), "__file__": path, **uri.options,
                **{k: str(v) for k, v in (variables or {}).items()}}
    # Two readings: one only to list each section's own lines (no defaults mixed in), one to
    # interpolate their values with the defaults.
    own = configparser.RawConfigParser(default_section="symbolsrv:no-defaults", strict=True)
    parser = configparser.ConfigParser(defaults=defaults, strict=True)
    try:
        for reader in (own, parser):
            with open(path, encoding="utf-8") as f:
                reader.read_file(f)
    except (OSError, UnicodeError, configparser.Error) as exc:
        message = " ".join(str(exc).split())
        raise ConfigurationError(f"cannot read location sections of {path}: {message}") from None
    sections: dict[str, dict[str, str]] = {}
    for section in own.sections():
        if not section.startswith(SECTION_PREFIX):
            continue
        values = sections[section[len(SECTION_PREFIX):].strip()] = {}
        for name in own.options(section):
            try:
                values[name] = parser.get(section, name)
            except configparser.InterpolationError:
                # The value may hold a password: name the place, never the text.
                raise ConfigurationError(
                    f"[{section}] {name}: bad %-interpolation (write a literal % as %%, or use "
                    f"%(here)s, %(__file__)s or a defined variable)"
                ) from None
    return sections


def expand_location(entry: str, sections: Sections) -> str:
    """The location URL for one entry of symbolsrv.locations: a URL as it is, or a section
    name turned into its `url` plus the section's options in the query string."""
    if "://" in entry:
        return entry
    section = sections.get(entry)
    if section is None:
        known = ", ".join(sorted(sections)) or "none"
        raise ConfigurationError(
            f"location {entry!r} is not a URL (scheme://…) and there is no "
            f"[{SECTION_PREFIX}{entry}] section "
            f"(sections: {known})"
        )
    options = dict(section)
    url = options.pop("url", "").strip()
    if "://" not in url or len(url.split()) != 1:
        raise ConfigurationError(
            f"[{SECTION_PREFIX}{entry}] needs a `url = <scheme>://…` line holding one URL"
        )
    if not options:
        return url
    query = urlencode([(name, " ".join(value.split())) for name, value in options.items()])
    return f"{url}{'&' if '?' in url else '?'}{query}"
