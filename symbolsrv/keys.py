"""SymbolKey and the pure functions that turn a request path into one.

Nothing here does I/O: every rule is testable as a table of path -> key or reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from symbolsrv.errors import BadPath

MAX_NAME_LENGTH = 200
MAX_PATH_LENGTH = 1024

# Characters no real module name carries and that only ever show up in probes and injection
# attempts. Windows forbids < > " | * ? \ in file names; quotes and backticks are shell/SQL bait.
# A `%` still there after the server decoded the path is double encoding (`%252e%252e`).
_FORBIDDEN = set('\\<>"|*?\'`%')
# C0 controls, DEL and C1 controls, plus the invisible format characters that reorder or
# break lines in a report (zero-width and bidi marks, U+2028/U+2029, BOM). Checked on code
# points, so every valid UTF-8 name (汉, ü, ☃) is treated alike (field case C-04).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_DEBUG_ID = re.compile(r"[0-9A-Fa-f]{9,64}\Z")


@dataclass(frozen=True, slots=True)
class SymbolKey:
    """The canonical name of one symbol object: debug_file/debug_id/symbol_file.

    The names are exactly as the client sent them; with plugins.rewrite_legacy (the
    default) the debug_id is upper-case.
    """

    debug_file: str
    debug_id: str
    symbol_file: str

    @property
    def path(self) -> str:
        """The storage key, relative to a location's root or prefix."""
        return f"{self.debug_file}/{self.debug_id}/{self.symbol_file}"

    @property
    def quoted_path(self) -> str:
        """The key percent-encoded for a URL: `+` is %2B, space is %20, non-ASCII is UTF-8."""
        return quote(self.path, safe="/-_.~")


def split_path(path_info: str) -> tuple[str, ...]:
    """Split a WSGI PATH_INFO into checked, decoded segments.

    PATH_INFO arrives as latin-1-decoded bytes (PEP 3333); we re-decode it as UTF-8.
    Raises BadPath with a one-line reason for anything that can never name a symbol.
    """
    if len(path_info) > MAX_PATH_LENGTH:
        raise BadPath(f"path longer than {MAX_PATH_LENGTH} bytes")
    try:
        path = path_info.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise BadPath("path is not valid UTF-8") from None
    segments = tuple(path[1:].split("/")) if path.startswith("/") else tuple(path.split("/"))
    for segment in segments:
        check_name(segment)
    return segments


def check_name(segment: str) -> None:
    """Raise BadPath unless segment is a plausible file or directory name."""
    if not segment:
        raise BadPath("empty path segment")
    if not segment.strip("."):
        raise BadPath("dot segment in path")  # ".", "..", and "..." (a traversal probe)
    if len(segment) > MAX_NAME_LENGTH:
        raise BadPath(f"name longer than {MAX_NAME_LENGTH} characters")
    if _CONTROL.search(segment):
        raise BadPath("control character in path")
    if not _FORBIDDEN.isdisjoint(segment):
        raise BadPath("forbidden character in path")


# debuginfod's namespace (plugins.rewrite_debuginfod): `buildid/<build id>/<artifact>`, ids
# lower-case. Core, the placement and the code-id index recognise these keys by it.
DEBUGINFOD_PREFIX = "buildid"
DEBUGINFOD_ARTIFACTS = ("debuginfo", "executable")


def is_debuginfod_key(key: SymbolKey) -> bool:
    return key.debug_file == DEBUGINFOD_PREFIX and key.symbol_file in DEBUGINFOD_ARTIFACTS


def canonical_key(debug_file: str, debug_id: str, symbol_file: str) -> SymbolKey:
    """Build the canonical key: the debug id upper-cased, the names exactly as sent."""
    return SymbolKey(debug_file, debug_id.upper(), symbol_file)


def check_key(key: SymbolKey) -> None:
    """Raise BadPath unless key.debug_id is 9 to 64 hex digits.

    9 is the shortest PE code id (8-digit timestamp + size); 33/34 is a PDB GUID+age or a
    Breakpad id; 40 an ELF build id. Anything else ("null", dashed GUIDs, "0x...") is a
    client bug, not a symbol.
    """
    if not _DEBUG_ID.match(key.debug_id):
        raise BadPath("debug_id must be 9 to 64 hexadecimal digits")


def is_all_zero(debug_id: str) -> bool:
    """Linux module lists carry 000…0 for files with no build id; never a real symbol."""
    return debug_id.strip("0") == ""


def has_allowed_extension(symbol_file: str, extensions: tuple[str, ...]) -> bool:
    """True when symbol_file ends (case-insensitively) with one of the allowed extensions."""
    return symbol_file.lower().endswith(extensions)
