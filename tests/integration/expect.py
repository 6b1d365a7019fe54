"""What README.md promises, written out independently of symbolsrv's code, as test oracles.

- csv_row(target): the /missingsymbols.csv row a GET miss on `target` must produce.
- documented_valid_key(target): whether README's rules make `target` a lookup (so a miss is
  a logged "Symbol Not Found") rather than a 400 or a cheap, unlogged 404.

Paths are decoded the way waitress hands them over: the whole path percent-decoded first
(so %2F becomes a separator), leading slashes folded into one (C-09: `//xul.pdb/...` is
`/xul.pdb/...`), then split on "/".
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

LEGACY_PRODUCTS = ("firefox", "seamonkey", "sunbird", "thunderbird", "xulrunner", "fennec", "b2g")
ALLOWED_EXTENSIONS = (".sym", ".pdb", ".pd_", ".dll", ".dl_", ".exe", ".ex_", ".so", ".dylib",
                      ".dbg", ".dbg.gz", ".debug", ".tar.bz2")
FORBIDDEN = set('\\<>"|*?\'`%')
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_HEX_ID = re.compile(r"[0-9A-Fa-f]{9,64}")
_CODE_ID = re.compile(r"[0-9A-Za-z]{1,64}")
SYMBOL_NOT_FOUND = b"Symbol Not Found\n"


def decoded_segments(target: str) -> list[str]:
    """Path segments as symbolsrv sees them (UnicodeDecodeError for invalid UTF-8)."""
    path = target.partition("?")[0]
    decoded = unquote(path, encoding="utf-8", errors="strict")
    return decoded.lstrip("/").split("/")


def key_of(target: str) -> tuple[str, str, str]:
    """(debug_file, DEBUG_ID, symbol_file) of a well-formed plain or legacy path."""
    segments = decoded_segments(target)
    if len(segments) == 4:
        segments = segments[1:]  # /<product>/... : the product is dropped
    debug_file, debug_id, symbol_file = segments
    return debug_file, debug_id.upper(), symbol_file


def name_ok(name: str) -> bool:
    """README's rule for a path name (and for code_file)."""
    return (0 < len(name) <= 200 and name.strip(".") != "" and "/" not in name
            and not _CONTROL.search(name) and FORBIDDEN.isdisjoint(name))


def query_values(target: str) -> tuple[str, str]:
    """(code_file, code_id) kept by README's cleaning rule: last value wins; '' otherwise."""
    query = target.partition("?")[2]
    values = {}
    for part in query.split("&") if query else []:
        name, _, raw = part.partition("=")
        if name in ("code_file", "code_id"):
            values[name] = unquote_plus(raw, encoding="utf-8", errors="replace")
    code_file = values.get("code_file", "")
    code_id = values.get("code_id", "")
    if not name_ok(code_file) or "\ufffd" in code_file:
        code_file = ""
    if not _CODE_ID.fullmatch(code_id):
        code_id = ""
    return code_file, code_id


def csv_cell(value: str) -> str:
    """README's CSV rule for one value, as csv.reader returns it (quoting already undone)."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def csv_row(target: str) -> tuple[str, str, str, str]:
    debug_file, debug_id, _ = key_of(target)
    code_file, code_id = query_values(target)
    return tuple(csv_cell(v) for v in (debug_file, debug_id, code_file, code_id))


def documented_valid_key(target: str) -> bool:
    """True when README says the path is looked up (not a 400, not an unlooked-up 404)."""
    path = target.partition("?")[0]
    try:
        segments = decoded_segments(target)
    except UnicodeDecodeError:
        return False
    if len(unquote(path, encoding="latin-1").encode("latin-1")) > 1024:
        return False
    if not all(name_ok(s) for s in segments):
        return False
    if len(segments) == 4 and segments[0] in LEGACY_PRODUCTS:
        segments = segments[1:]
    if len(segments) != 3:
        return False
    _, debug_id, symbol_file = segments
    return (bool(_HEX_ID.fullmatch(debug_id)) and debug_id.strip("0") != ""
            and symbol_file.lower() != "file.ptr"
            and symbol_file.lower().endswith(ALLOWED_EXTENSIONS))
