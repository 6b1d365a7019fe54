"""Where one location keeps a key: its layout and the casing of the names it stores.

Two options every storage plugin gets for free: core takes them out of the location URL's
query string before the plugin sees the URL, and the chain asks the plugin for the stored
forms of a key in order (the first hit wins; at most one probe per distinct form).

    layout=flat        <debug_file>/<debug_id>/<symbol_file>: Breakpad, Tecken, a SymStore
                       single-tier store, a debuginfod-style `buildid/<id>/debuginfo` tree
    layout=index2      SymStore's two-tier store (it has an index2.txt): a directory named by
                       the first two characters of debug_file in front, `xu/xul.pdb/<id>/xul.pdb`
                       (one character when the second is a dot: `a/a.pdb/<id>/a.pdb`)
    layout=debuginfod  only debuginfod requests (`/buildid/<id>/debuginfo|executable`) are
                       looked up here; every other key is absent without a probe

    casing=auto        the key as the URL-rewrite plugins made it (debug id upper-cased; a
                       debuginfod id lower-cased), then, if different, the id exactly as the
                       client sent it (field case C-02); for a Windows file (.pdb, .dll, .pd_…)
                       then also its names lower-cased with that id (`NTDLL.PDB` asked,
                       `ntdll.pdb` stored: Windows names are case-insensitive)
    casing=as-is       the path exactly as the client sent it
    casing=upper-id    the debug id upper-cased, names as sent (a debuginfod build id stays
                       lower-case: debuginfod stores keep it so)
    casing=lower       the whole path lower-cased (stores written by a case-folding tool)
    casing=upper-id,lower   a comma-separated list: each form in order

Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from symbolsrv.errors import ConfigurationError
from symbolsrv.keys import SymbolKey, canonical_key, is_debuginfod_key
from symbolsrv.location_options import redact

LAYOUTS = ("flat", "index2", "debuginfod")
CASINGS = ("auto", "as-is", "upper-id", "lower")
OPTIONS = ("layout", "casing")

# Names of the forms in a lookup trace: "hit (as sent)", "hit (lower)".
_AS_SENT = "as sent"
_LOWER_NAMES = "lower names"
# Files a Windows symsrv client asks for (not Breakpad's .sym): PDBs and PE binaries, plain or
# CAB-compressed (`.pd_`), whose names Windows treats case-insensitively.
WINDOWS_EXTENSIONS = (".pdb", ".pd_", ".dll", ".dl_", ".exe", ".ex_", ".sys", ".sy_",
                      ".ocx", ".oc_", ".drv", ".dr_", ".dbg", ".db_")


def _is_windows_file(key: SymbolKey) -> bool:
    return key.symbol_file.lower().endswith(WINDOWS_EXTENSIONS)


@dataclass(frozen=True, slots=True)
class StoredKey(SymbolKey):
    """A key as one location stores it: names in that location's case, and, for a two-tier
    store, the directory in front. Storage plugins only read `path` and `quoted_path`."""

    directory: str = ""

    @property
    def path(self) -> str:
        names = f"{self.debug_file}/{self.debug_id}/{self.symbol_file}"
        return f"{self.directory}/{names}" if self.directory else names


@dataclass(frozen=True, slots=True)
class Placement:
    layout: str = "flat"
    casing: tuple[str, ...] = ("auto",)

    @property
    def is_default(self) -> bool:
        return self.layout == "flat" and self.casing == ("auto",)

    def describe(self) -> str:
        """`layout=index2 casing=as-is` for messages; '' for the default."""
        return "" if self.is_default else f"layout={self.layout} casing={','.join(self.casing)}"

    def stored_keys(self, key: SymbolKey, sent: SymbolKey | None = None) -> list[tuple[str, SymbolKey]]:
        """The (form name, stored key) pairs to probe for `key`, in order, without repeats.

        `sent` is the key as the client spelled it when that differs from `key` (see
        lookup.as_sent_key); None means the client sent `key` itself. The first form's name
        is "" (a plain hit); later ones name themselves in traces.
        """
        if self.is_default and not _is_windows_file(key):  # the common case, kept cheap
            return [("", key)] if sent is None or sent == key else [("", key), (_AS_SENT, sent)]
        if self.layout == "debuginfod" and not is_debuginfod_key(key):
            return []
        sent = sent or key
        forms: list[tuple[str, SymbolKey]] = []
        for casing in self.casing:
            if casing == "auto":
                forms += [("", key), (_AS_SENT, sent)]
                if _is_windows_file(key):
                    # Windows names are case-insensitive, and clients send them as the binary
                    # spells them (`NTDLL.PDB`); stores keep them lower-case (msdl's own form).
                    forms.append((_LOWER_NAMES, SymbolKey(key.debug_file.lower(), key.debug_id,
                                                          key.symbol_file.lower())))
            elif casing == "as-is":
                forms.append((_AS_SENT, sent))
            elif casing == "upper-id" and is_debuginfod_key(key):
                forms.append(("", key))  # build ids are lower-case, in stores as on the wire
            elif casing == "upper-id":
                forms.append(("upper-id", canonical_key(sent.debug_file, sent.debug_id,
                                                        sent.symbol_file)))
            else:  # lower
                forms.append(("lower", SymbolKey(sent.debug_file.lower(), sent.debug_id.lower(),
                                                 sent.symbol_file.lower())))
        stored: list[tuple[str, SymbolKey]] = []
        seen: set[str] = set()
        for name, form in forms:
            placed = self._lay_out(form)
            if placed.path not in seen:
                seen.add(placed.path)
                stored.append(("" if not stored else name, placed))
        return stored

    def _lay_out(self, key: SymbolKey) -> SymbolKey:
        if self.layout != "index2":
            return key
        directory = key.debug_file[:2]
        if len(directory) == 2 and directory[1] == ".":
            directory = directory[:1]
        return StoredKey(key.debug_file, key.debug_id, key.symbol_file, directory)


def split_placement(location: str) -> tuple[str, Placement]:
    """Take `layout` and `casing` out of a location URL's query string.

    Returns the URL the storage plugin sees (its own options only) and the Placement. Raises
    ConfigurationError naming the location for an unknown layout or casing.
    """
    try:
        url = urlsplit(location)
    except ValueError:
        raise ConfigurationError(f"{redact(location)!r}: not a valid URL") from None
    if not url.query:
        return location, Placement()
    shown = redact(location).partition("?")[0]  # for messages: no credentials, no options
    pairs = parse_qsl(url.query, keep_blank_values=True)
    ours = {name: value for name, value in pairs if name in OPTIONS}
    if not ours:
        return location, Placement()
    for name in OPTIONS:
        if sum(1 for n, _ in pairs if n == name) > 1:
            raise ConfigurationError(f"{shown!r}: option {name!r} given twice")
    layout = ours.get("layout", "flat")
    if layout not in LAYOUTS:
        raise ConfigurationError(
            f"{shown!r}: bad value for layout: {layout!r} (one of: {', '.join(LAYOUTS)})"
        )
    casing = tuple(part.strip() for part in ours.get("casing", "auto").split(","))
    bad = [part for part in casing if part not in CASINGS]
    if bad or not casing:
        raise ConfigurationError(
            f"{shown!r}: bad value for casing: {ours['casing']!r} "
            f"(one or more of: {', '.join(CASINGS)}, comma-separated)"
        )
    rest = urlencode([(n, v) for n, v in pairs if n not in OPTIONS])
    return urlunsplit(url._replace(query=rest)), Placement(layout, casing)
