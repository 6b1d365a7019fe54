"""GET /missingsymbols.csv: distinct misses of one UTC day, streamed."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
from urllib.parse import parse_qsl

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy.exc import SQLAlchemyError

from symbolsrv import csvreport, db, serving

log = logging.getLogger(__name__)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def report_params(query_string: str) -> dict[str, str]:
    """Last value wins; undecodable bytes never raise (unknown parameters are ignored)."""
    return dict(parse_qsl(query_string, keep_blank_values=True, errors="replace"))


def report_day(params, today: dt.date) -> dt.date:
    """?date=YYYY-MM-DD, else ?today (any value) for today, else yesterday (UTC).

    Raises ValueError for a malformed date.
    """
    if "date" in params:
        if not _DATE.match(params["date"]):
            raise ValueError("not YYYY-MM-DD")
        return dt.date.fromisoformat(params["date"])
    if "today" in params:
        return today
    return today - dt.timedelta(days=1)


@view_config(route_name="missing_symbols_csv", request_method="GET")
def missing_symbols_csv(request):
    app = request.registry["symbolsrv.app"]
    today = dt.datetime.now(dt.timezone.utc).date()
    try:
        params = report_params(request.environ.get("QUERY_STRING", ""))
        day = report_day(params, today)
    except ValueError:
        return serving.text(400, "Bad Request: date must be YYYY-MM-DD")
    headers = [
        ("Content-Type", "text/csv; charset=utf-8"),
        ("Content-Disposition", f'attachment; filename="missing-symbols-{day.isoformat()}.csv"'),
        ("Cache-Control", "no-store"),
    ]
    if request.method == "HEAD":
        return _head(app.engine, headers)
    microsoft_only = params.get("microsoft") == "only"
    # This process's buffered counts belong in the report it serves.
    app.misslog.flush()
    rows = db.missing_rows(app.engine, day, microsoft_only)
    try:
        first = next(rows, None)  # runs the query now, so a database fault is a clean 503
    except SQLAlchemyError as exc:
        log.warning("missing-symbols report: database failed: %s", exc)
        return serving.text(503, "Database Unavailable", ("Retry-After", "30"))
    body = rows if first is None else itertools.chain((first,), rows)
    return Response(status=200, headerlist=headers, app_iter=csvreport.render(body))


def _head(engine, headers: list[tuple[str, str]]) -> Response:
    """HEAD: the GET's status and headers, without flushing the miss log or running the report
    (a day may be a million rows). The database is only pinged, so an outage is still a 503.

    The GET streams a body of unknown length, so it has no Content-Length and waitress frames
    it chunked. A HEAD without one is framed the same way, and waitress then writes the last
    chunk `0\r\n\r\n` after the headers: bytes no HEAD may carry. `Content-Length: 0` is the
    only framing a WSGI application can ask for that sends nothing after the headers.
    """
    try:
        db.ping(engine)
    except SQLAlchemyError as exc:
        log.warning("missing-symbols report: database failed: %s", exc)
        return serving.text(503, "Database Unavailable", ("Retry-After", "30"))
    return Response(status=200, headerlist=[*headers, ("Content-Length", "0")])
