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

from symbolsrv.errors import ConfigurationError

SECTION_PREFIX = "location:"

Sections = Mapping[str, Mapping[str, str]]


def read_location_sections(ini_file: str | None) -> dict[str, dict[str, str]]:
    """The `[location:<name>]` sections of an INI file: {name: {option: value}}.

    `ini_file` may be a PasteDeploy config URI (`production.ini#main`); None or "" gives {}.
    """
    if not ini_file:
        return {}
    path = os.path.abspath(ini_file.partition("#")[0])
    parser = configparser.ConfigParser(
        defaults={"here": os.path.dirname(path), "__file__": path}, strict=True
    )
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
        defaults = set(parser.defaults())
        return {
            section[len(SECTION_PREFIX):].strip(): {
                name: parser.get(section, name) for name in parser.options(section)
                if name not in defaults
            }
            for section in parser.sections() if section.startswith(SECTION_PREFIX)
        }
    except (OSError, UnicodeError, configparser.Error) as exc:
        message = " ".join(str(exc).split())
        raise ConfigurationError(f"cannot read location sections of {path}: {message}") from None


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
    if "://" not in url:
        raise ConfigurationError(
            f"[{SECTION_PREFIX}{entry}] needs a `url = <scheme>://…` line, not {url!r}"
        )
    if not options:
        return url
    query = urlencode([(name, " ".join(value.split())) for name, value in options.items()])
    return f"{url}{'&' if '?' in url else '?'}{query}"
