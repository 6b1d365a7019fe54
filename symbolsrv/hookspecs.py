"""Every hook symbolsrv calls. Implementations use `from symbolsrv import hookimpl`.

Hooks are always called with keyword arguments; pluggy's registration order never matters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from symbolsrv.keys import SymbolKey
    from symbolsrv.settings import Settings
    from symbolsrv.storage import Storage

hookspec = pluggy.HookspecMarker("symbolsrv")
hookimpl = pluggy.HookimplMarker("symbolsrv")


@hookspec(firstresult=True)
def symbolsrv_storage_for(location: str, cfg: Settings) -> Storage | None:
    """Build the storage for one configured location URL, once, at start-up.

    Called for every entry of symbolsrv.locations and symbolsrv.try_locations. The plugin
    that owns the URL's scheme returns a Storage; every other plugin returns None. If no
    plugin answers, start-up fails with ConfigurationError. A plugin raises
    ConfigurationError for a URL of its scheme that it cannot use (bad option, no bucket).
    """


@hookspec(firstresult=True)
def symbolsrv_parse_path(segments: tuple[str, ...], cfg: Settings) -> SymbolKey | None:
    """Turn checked path segments into the canonical SymbolKey, on every symbol request.

    `segments` are already decoded and checked (no empty, dot, control or over-long
    segments), with a leading `try` segment removed. Return the key if the plugin
    recognises the form; None lets the next plugin try. Core's plain three-segment parser
    runs last; if nothing recognises the path the answer is a 404 with no lookup.
    Implementations must be pure: no I/O.
    """
