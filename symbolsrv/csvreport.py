"""CSV formatting for /missingsymbols.csv, as pure functions.

Rule: a value that could start a spreadsheet formula (=, +, -, @, tab, CR, also after leading
blanks) gets a leading apostrophe; a value holding a comma, quote or line break (Unicode line
separators included) is quoted RFC 4180 style. Real
module names need neither, so a plain split on commas keeps working for them.
"""

from __future__ import annotations

from typing import Iterable, Iterator

HEADER = "debug_file,debug_id,code_file,code_id\n"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES = (",", '"', "\n", "\r", "\u2028", "\u2029", "\x85")
_BLANKS = " \t\u00a0\u2007\u202f\u3000\ufeff"


def cell(value: str) -> str:
    # Spreadsheets skip leading blanks before reading a formula: " =1+1" runs too.
    if value.startswith(_FORMULA_STARTS) or value.lstrip(_BLANKS).startswith(_FORMULA_STARTS):
        value = "'" + value
    if any(ch in value for ch in _NEEDS_QUOTES):
        value = '"' + value.replace('"', '""') + '"'
    return value


def line(values: Iterable[str]) -> str:
    return ",".join(cell(v) for v in values) + "\n"


def render(rows: Iterable[tuple[str, ...]], chunk_bytes: int = 65536) -> Iterator[bytes]:
    """Yield the header and rows as UTF-8 chunks of about chunk_bytes (few, large writes)."""
    buffer = [HEADER]
    size = len(HEADER)
    for row in rows:
        text = line(row)
        buffer.append(text)
        size += len(text)
        if size >= chunk_bytes:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode("utf-8")
