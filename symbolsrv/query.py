"""The query string of a symbol request: only `try` changes the answer and `_refresh` skips
the existence cache (`_trace` answers with a JSON lookup trace); the rest feeds the miss log, cleaned by one rule so that no value can
change the answer or reach SQL raw.

Rule: a repeated parameter takes its last value (as WebOb does); names match as sent. `code_file` is kept when it
is 1-200 characters with no control, quote, backslash or other forbidden character;
`code_id` is kept when it is 1-64 letters and digits, as sent. Anything else is stored as ''.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from symbolsrv.errors import BadPath
from symbolsrv.keys import check_name

# No valid value is longer than this once percent-encoded (200 characters, 4 UTF-8 bytes each).
MAX_RAW_VALUE_LENGTH = 2400
_WANTED = ("try", "_refresh", "_trace", "code_file", "code_id")
_CODE_ID = re.compile(r"[0-9A-Za-z]{1,64}\Z")


@dataclass(frozen=True, slots=True)
class SymbolQuery:
    try_: bool = False
    code_file: str = ""
    code_id: str = ""
    refresh: bool = False
    trace: bool = False


EMPTY = SymbolQuery()


def parse_query(query_string: str) -> SymbolQuery:
    """Read the parameters symbolsrv knows; ignore the rest, however many there are."""
    if not query_string:
        return EMPTY
    # PEP 3333: raw bytes arrive as latin-1; names are UTF-8, as in split_path.
    query_string = query_string.encode("latin-1", "replace").decode("utf-8", "replace")
    values: dict[str, str] = {}
    for part in query_string.split("&"):
        name, _, raw = part.partition("=")
        if name in _WANTED:
            # An over-long value is dropped whole, never stored cut.
            values[name] = "" if len(raw) > MAX_RAW_VALUE_LENGTH else unquote_plus(raw, errors="replace")
    code_id = values.get("code_id", "")
    return SymbolQuery(
        try_="try" in values,
        refresh="_refresh" in values,
        trace="_trace" in values,
        code_file=clean_code_file(values.get("code_file", "")),
        code_id=code_id if _CODE_ID.match(code_id) else "",
    )


def clean_code_file(value: str) -> str:
    try:
        check_name(value)
    except BadPath:
        return ""
    return "" if "\ufffd" in value or "/" in value else value
