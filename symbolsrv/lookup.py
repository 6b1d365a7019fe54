"""Resolver: from a request path to an Answer (hit, miss, ignored, rejected, error, redirect).

All the decisions of a symbol request live here, free of HTTP, so views stay thin and
every rule is testable without a server.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from symbolsrv.chain import Step
from symbolsrv.codeids import (
    CodeIdIndexUnavailable,
    debuginfod_symbol_file,
    is_same_key,
    looks_like_code_id,
    redirect_path,
)
from symbolsrv.errors import BadPath, StorageUnavailable
from symbolsrv.keys import (
    SymbolKey,
    check_key,
    has_allowed_extension,
    is_all_zero,
    is_debuginfod_key,
    split_path,
)
from symbolsrv.storage import Hit

log = logging.getLogger(__name__)

HIT, MISS, IGNORED, REJECTED, ERROR = "hit", "miss", "ignored", "rejected", "error"
# A code-id request the index maps to a debug key: 302 to that key on symbolsrv itself.
REDIRECT = "redirect"
OUTCOMES = (HIT, MISS, IGNORED, REJECTED, ERROR, REDIRECT)
PREPARED_MAX = 10_000  # parsed paths remembered; at most ~10 MB of paths


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: str
    key: SymbolKey | None = None
    hit: Hit | None = None
    reason: str = ""
    is_try: bool = False
    # REDIRECT only: the path to send the client to, `/[try/]<debug_file>/<debug_id>/
    # <symbol_file>` percent-encoded, without the query string (the view appends it).
    target_path: str = ""


class Resolver:
    def __init__(self, cfg, pm, chain, codeids=None):
        """`codeids` is a symbolsrv.codeids.CodeIdIndex, or None for no code-id lookups."""
        self.cfg = cfg
        self.parse_path = pm.hook.symbolsrv_parse_path
        self.chain = chain
        self.codeids = codeids
        self._prepared: dict = {}

    def resolve(
        self, path_info: str, try_flag: bool = False, refresh: bool = False, trace=None,
        forward: bool = True,
    ) -> Answer:
        """Decide the answer for one GET/HEAD path. Storage is asked only for a valid key;
        `forward=False` (a request another symbol server forwarded) leaves out locations
        that forward to other symbol servers."""
        # Parsing is pure and crash processors ask for the same few hundred paths all day:
        # remember what each path parses to (a bounded dict, emptied when full).
        memo_key = (path_info, try_flag)
        prepared = self._prepared.get(memo_key)
        if prepared is None:
            prepared = self.prepare(path_info, try_flag)
            if len(self._prepared) >= PREPARED_MAX:
                self._prepared.clear()
            self._prepared[memo_key] = prepared
        if isinstance(prepared, Answer):
            return prepared
        key, is_try, try_path, alternate = prepared
        index_failure = ""
        if self.codeids is not None and looks_like_code_id(key):
            answer, index_failure = self.code_id_step(key, is_try, try_path, refresh, trace)
            if answer is not None:
                return answer
        # Not mapped (or the index failed): the key may still be stored as it is, e.g. files
        # kept under code-id paths (`firefox.exe/59021DD066000/firefox.ex_`).
        # A mixed- or lower-case id is also asked for as sent, after the canonical form.
        extra = {"alternate": alternate} if alternate is not None else {}
        if not forward:
            extra["forward"] = False
        try:
            hit = self.chain.locate(key, include_try=is_try, refresh=refresh, trace=trace, **extra)
            unavailable = None
        except StorageUnavailable as exc:
            hit, unavailable = None, exc
        if hit is None and self.codeids is not None and is_debuginfod_key(key):
            # Not in a debuginfod-layout store (or that store failed): a Breakpad-layout store
            # may hold the module under its debug id, `libxul.so/<debug_id>/libxul.so.dbg`, if
            # the index knows it; the index's answer is as good as a lower-ranked hit.
            answer, index_failure = self.build_id_step(key, is_try, try_path, refresh, trace)
            if answer is not None:
                return answer
        if unavailable is not None:
            return Answer(ERROR, key=key, reason=str(unavailable), is_try=is_try)
        if hit is None and index_failure:
            # The index might have mapped it: "not found" would be a guess a client caches.
            return Answer(ERROR, key=key, reason=index_failure, is_try=is_try)
        return Answer(HIT if hit else MISS, key=key, hit=hit, is_try=is_try)

    def prepare(
        self, path_info: str, try_flag: bool
    ) -> Answer | tuple[SymbolKey, bool, bool, SymbolKey | None]:
        """Everything decided from the path alone: a final REJECTED/IGNORED Answer, or the
        (key, is_try, try_path, alternate) to look up; see as_sent_key() for alternate."""
        try:
            segments = split_path(path_info)
        except BadPath as exc:
            return Answer(REJECTED, reason=str(exc))
        # /try/<debug_file>/<debug_id>/<symbol_file>: try builds' symbols, searched last.
        is_try = try_flag
        try_path = segments[0] == "try" and len(segments) > 3
        if try_path:
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
        return key, is_try, try_path, as_sent_key(key, segments)

    def code_id_step(self, key, is_try, try_path, refresh, trace) -> tuple[Answer | None, str]:
        """Ask the code-id index about a `/<PE name>/<code_id>/<name>.sym` key: a 302 to
        `/<debug_file>/<debug_id>/<name>.sym`."""
        return self._index_step(key, key.debug_file, lambda target: key.symbol_file,
                                is_try, try_path, refresh, trace, "code-id index")

    def build_id_step(self, key, is_try, try_path, refresh, trace) -> tuple[Answer | None, str]:
        """Ask the code-id index about a debuginfod `buildid/<id>/debuginfo|executable` key:
        a 302 to `/<debug_file>/<debug_id>/<debug_file>.dbg` (or `<debug_file>`)."""
        return self._index_step(
            key, None, lambda target: debuginfod_symbol_file(target.debug_file, key.symbol_file),
            is_try, try_path, refresh, trace, "build-id index")

    def _index_step(self, key, code_file, symbol_file_for, is_try, try_path, refresh, trace,
                    step_name) -> tuple[Answer | None, str]:
        """Returns (a REDIRECT answer or None, why the index could not answer or ''). Never
        raises: a database fault or a bug here only skips the step (logged at WARNING).
        Never redirects a request to itself, nor to a key the index would redirect again.
        """
        started = time.perf_counter()
        outcome, answer, failure = "absent", None, ""
        try:
            target = self.codeids.lookup(code_file, key.debug_id, is_try, refresh)
            symbol_file = symbol_file_for(target) if target is not None else ""
            if target is not None and is_same_key(key, target):
                outcome = "self"
            elif target is not None and looks_like_code_id(
                SymbolKey(target.debug_file, target.debug_id, symbol_file)
            ) and self.codeids.lookup(target.debug_file, target.debug_id, is_try) is not None:
                outcome = "chained"  # one hop at most: the target would be redirected again
                log.warning("code id %s/%s maps to %s/%s, itself a mapped code id: not redirected",
                            key.debug_file, key.debug_id, target.debug_file, target.debug_id)
            elif target is not None:
                outcome = "hit"
                answer = Answer(
                    REDIRECT, key=key, is_try=is_try,
                    reason=f"{step_name} maps it to {target.debug_file}/{target.debug_id}",
                    target_path=redirect_path(target, symbol_file, try_path),
                )
        except CodeIdIndexUnavailable as exc:
            outcome, failure = "error", str(exc)
            if exc.fresh:
                log.warning("%s; code-id lookups fall back to storage for a while", exc)
        except Exception as exc:  # a bug must not turn a download into a 500
            outcome, failure = "error", f"code-id index: {type(exc).__name__}"
            log.exception("%s lookup failed for %s", step_name, key.path)
        if trace is not None:
            trace.append(Step(step_name, 0, outcome, time.perf_counter() - started))
        return answer, failure

    def never_served(self, key: SymbolKey) -> str:
        """A reason when no store serves this symbol file, so we answer 404 without asking."""
        # Windows symsrv clients ask for file.ptr (a pointer file of local symbol stores).
        if key.symbol_file.lower() == "file.ptr":
            return "file.ptr is not served"
        # debuginfod's `debuginfo` and `executable` have no extension: allowed by exact name;
        # so is a binary stored under its own name (`libc.so.6/<id>/libc.so.6`, `firefox/<id>/
        # firefox`: where a build-id redirect sends debuginfod clients for an executable).
        if key.symbol_file in self.cfg.allowed_names or key.symbol_file == key.debug_file:
            return ""
        if not has_allowed_extension(key.symbol_file, self.cfg.allowed_extensions):
            return "symbol file extension not served"
        return ""


def as_sent_key(key: SymbolKey, segments: tuple[str, ...]) -> SymbolKey | None:
    """The key with the debug id byte for byte as the client sent it, when that differs from
    the canonical id (upper-cased; lower-cased for debuginfod) only by case; otherwise None.

    Field case C-02: a case-sensitive mirror may store a PE code id as `%08X%x` produces it
    (`61015E74442b000`). The id is the path's next-to-last segment in every URL form the
    parse hooks accept; anything else (a hook that builds the id some other way) gets no
    alternate, and an id sent upper-case costs no second probe.
    """
    if len(segments) < 3:
        return None
    sent = segments[-2]
    if sent == key.debug_id or sent.upper() != key.debug_id.upper():
        return None
    return SymbolKey(key.debug_file, sent, key.symbol_file)
