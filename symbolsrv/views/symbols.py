"""GET/HEAD/OPTIONS on /<debug_file>/<debug_id>/<symbol_file> and its legacy forms."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from pyramid.view import view_config

from symbolsrv import serving, trace
from symbolsrv.accesslog import logger as access_logger
from symbolsrv.codeids import ascii_query
from symbolsrv.db import MissKey
from symbolsrv.errors import StorageError
from symbolsrv.lookup import ERROR, HIT, MISS, REDIRECT, REJECTED
from symbolsrv.query import parse_query

log = logging.getLogger(__name__)

# parse_query is pure and clients repeat the same few query strings (code_file/code_id of
# popular modules): remember what each parses to, as Resolver remembers parsed paths.
_QUERIES: dict[str, object] = {}
_QUERIES_MAX = 10_000


def _query(query_string: str):
    parsed = _QUERIES.get(query_string)
    if parsed is None:
        parsed = parse_query(query_string)
        if len(_QUERIES) >= _QUERIES_MAX:
            _QUERIES.clear()
        _QUERIES[query_string] = parsed
    return parsed


@view_config(route_name="home")
def home(request):
    """Not a symbol; say what is, without a 200 a debugger could save as a file."""
    return serving.text(404, "Not Found: ask for /<debug_file>/<debug_id>/<symbol_file>")


@view_config(route_name="symbol")
def symbol(request):
    started = time.perf_counter()
    method = request.method
    if method == "OPTIONS":
        return serving.preflight()
    if method not in ("GET", "HEAD"):
        return serving.method_not_allowed()
    app = request.registry["symbolsrv.app"]
    environ = request.environ
    query = _query(environ.get("QUERY_STRING", ""))
    debug = environ.get("HTTP_DEBUG", "").lower() == "true"
    steps = [] if (debug or query.trace) else None
    # Loop protection: a request another symbol server forwarded (it says Symbolsrv-Hops) is
    # answered from this server's own stores, never forwarded again.
    hops = environ.get("HTTP_SYMBOLSRV_HOPS")
    forwarded = hops is not None and hops.strip(" \t0") != ""
    answer = app.resolver.resolve(
        environ["PATH_INFO"], try_flag=query.try_, refresh=query.refresh, trace=steps,
        forward=not forwarded,
    )
    response = respond(request, app, answer)
    if query.trace:
        # A diagnosis, not a download: neither counted nor logged as a miss.
        close = getattr(response.app_iter, "close", None)
        if close is not None:
            close()  # a local file opened to answer; the trace is sent instead
        return serving.json_response(
            200,
            trace.body(request.environ["PATH_INFO"], answer, response.status_int, steps),
            *serving.CORS,
        )
    if method == "GET":
        app.counters.add(answer.outcome)
        if answer.outcome == MISS:
            key = answer.key
            app.misslog.count(
                MissKey(key.debug_file, key.debug_id, key.symbol_file, query.code_file, query.code_id)
            )
    elapsed = time.perf_counter() - started
    if debug:
        response.headers["Debug-Time"] = f"{elapsed:.6f}"
        response.headers["Symbolsrv-Trace"] = trace.header(
            steps, answer.hit.location if answer.hit else None
        )
    if access_logger.isEnabledFor(logging.INFO):
        app.accesslog.add(
            method,
            request.environ["PATH_INFO"],
            response.status_int,
            answer.hit.location if answer.hit else "code-id" if answer.outcome == REDIRECT else "-",
            elapsed,
            request.environ.get("HTTP_USER_AGENT", ""),
        )
    return response


def respond(request, app, answer):
    cfg = app.cfg
    if answer.outcome == HIT:
        hit = answer.hit
        max_age = cfg.redirect_max_age_seconds
        if hit.max_age_seconds is not None:
            max_age = min(max_age, hit.max_age_seconds)
        if hit.path is not None:
            try:
                return serving.local_file(request, hit.path, hit.location, max_age)
            except StorageError as exc:
                log.warning("storage %s failed to open %s: %s", exc.location, hit.path, exc.original)
                return unavailable(cfg)
        if request.method == "HEAD":
            return serving.exists(max_age)
        return serving.redirect(hit.url, max_age)
    if answer.outcome == REDIRECT:
        return code_id_redirect(request, answer, cfg)
    if answer.outcome == MISS:
        return serving.text(404, "Symbol Not Found")
    if answer.outcome == REJECTED:
        return serving.text(400, f"Bad Request: {answer.reason}")
    if answer.outcome == ERROR:
        return unavailable(cfg)
    return serving.text(404, f"Not Found: {answer.reason}")


def code_id_redirect(request, answer, cfg):
    """302 to the mapped debug key on symbolsrv itself, for GET and HEAD alike (the target is
    ours, not a presigned URL). rust-minidump accepts only 301/302 here and reads the debug
    file and id from the end of Location; the query (code_file, code_id, try) goes along."""
    # Mounted under a prefix (SCRIPT_NAME), the target is under it too.
    prefix = quote(request.environ.get("SCRIPT_NAME", "").encode("latin-1", "replace"),
                   safe="/%-_.~")
    location = prefix + answer.target_path
    query = request.environ.get("QUERY_STRING", "")
    if query:
        location += "?" + ascii_query(query)
    return serving.redirect(location, cfg.redirect_max_age_seconds)


def unavailable(cfg):
    return serving.text(
        503,
        "Storage Unavailable: a location failed; try again later",
        ("Retry-After", str(cfg.retry_after_seconds)),
    )
