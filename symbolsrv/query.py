"""The query string of a symbol request: only `try` changes the answer; the rest feeds the
miss log, and is cleaned by one rule so that no value can change the answer or reach SQL raw.

Rule: a repeated parameter takes its last value (as WebOb does). `code_file` is kept when it
is 1-200 characters with no control, quote, backslash or other forbidden character;
`code_id` is kept when it is 1-64 letters and digits, as sent. Anything else is stored as ''.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from symbolsrv.errors import BadPath
from symbolsrv.keys import check_name

# Longer query strings are read up to here; real ones are under 200 bytes.
MAX_QUERY_LENGTH = 4096
_CODE_ID = re.compile(r"[0-9A-Za-z]{1,64}\Z")


@dataclass(frozen=True, slots=True)
class SymbolQuery:
    try_: bool = False
    code_file: str = ""
    code_id: str = ""


EMPTY = SymbolQuery()


def parse_query(query_string: str) -> SymbolQuery:
    if not query_string:
        return EMPTY
    values: dict[str, str] = {}
    for name, value in parse_qsl(
        query_string[:MAX_QUERY_LENGTH], keep_blank_values=True, errors="replace"
    ):
        if name in ("try", "code_file", "code_id"):
            values[name] = value
    return SymbolQuery(
        try_="try" in values,
        code_file=clean_code_file(values.get("code_file", "")),
        code_id=values.get("code_id", "") if _CODE_ID.match(values.get("code_id", "")) else "",
    )


def clean_code_file(value: str) -> str:
    try:
        check_name(value)
    except BadPath:
        return ""
    return "" if "\ufffd" in value or "/" in value else value
