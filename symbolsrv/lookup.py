"""Resolver: from a request path to an Answer (hit, miss, ignored, rejected, error).

All the decisions of a symbol request live here, free of HTTP, so views stay thin and
every rule is testable without a server.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolsrv.errors import BadPath, StorageUnavailable
from symbolsrv.keys import SymbolKey, check_key, has_allowed_extension, is_all_zero, split_path
from symbolsrv.storage import Hit

HIT, MISS, IGNORED, REJECTED, ERROR = "hit", "miss", "ignored", "rejected", "error"
OUTCOMES = (HIT, MISS, IGNORED, REJECTED, ERROR)


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: str
    key: SymbolKey | None = None
    hit: Hit | None = None
    reason: str = ""
    is_try: bool = False


class Resolver:
    def __init__(self, cfg, pm, chain):
        self.cfg = cfg
        self.parse_path = pm.hook.symbolsrv_parse_path
        self.chain = chain

    def resolve(
        self, path_info: str, try_flag: bool = False, refresh: bool = False, trace=None
    ) -> Answer:
        """Decide the answer for one GET/HEAD path. Storage is asked only for a valid key."""
        try:
            segments = split_path(path_info)
        except BadPath as exc:
            return Answer(REJECTED, reason=str(exc))
        # /try/<debug_file>/<debug_id>/<symbol_file>: try builds' symbols, searched last.
        is_try = try_flag
        if segments[0] == "try" and len(segments) > 3:
            segments, is_try = segments[1:], True
        key = self.parse_path(segments=segments, cfg=self.cfg)
        if key is None:
            return Answer(IGNORED, reason="not a symbol path", is_try=is_try)
        # Names no store serves are a quiet 404 before the id is judged (field case C-05:
        # `/_.debug/elf-buildid-sym-…/_.debug` is a 404, not a 400).
        reason = self.never_served(key)
        if reason:
            return Answer(IGNORED, key=key, reason=reason, is_try=is_try)
        try:
            check_key(key)
        except BadPath as exc:
            return Answer(REJECTED, key=key, reason=str(exc), is_try=is_try)
        # Linux crash module lists carry 000…0 for mapped files with no build id (fonts, caches).
        if is_all_zero(key.debug_id):
            return Answer(IGNORED, key=key, reason="all-zero debug_id", is_try=is_try)
        try:
            hit = self.chain.locate(key, include_try=is_try, refresh=refresh, trace=trace)
        except StorageUnavailable as exc:
            return Answer(ERROR, key=key, reason=str(exc), is_try=is_try)
        return Answer(HIT if hit else MISS, key=key, hit=hit, is_try=is_try)

    def never_served(self, key: SymbolKey) -> str:
        """A reason when no store serves this symbol file, so we answer 404 without asking."""
        # Windows symsrv clients ask for file.ptr (a pointer file of local symbol stores).
        if key.symbol_file.lower() == "file.ptr":
            return "file.ptr is not served"
        if not has_allowed_extension(key.symbol_file, self.cfg.allowed_extensions):
            return "symbol file extension not served"
        return ""
