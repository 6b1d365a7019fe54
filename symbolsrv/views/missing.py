"""For the people who run symbolsrv: what is missing, as JSON and as one HTML page.

GET /api/v1/missing  misses summed per key over a range of UTC days; filters, sort, pages.
GET /missing/        the last 30 days: a bar chart, the top modules, the daily CSV links.

The page is plain HTML from string templates: every value goes through html.escape, no
script, no external asset, and a Content-Security-Policy that would block any that slipped in.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy.exc import SQLAlchemyError

from symbolsrv import db, serving
from symbolsrv.query import clean_code_file

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7  # the API's default range: today and the 6 days before (UTC)
PAGE_DAYS = 30  # the page's chart
PAGE_TOP = 50  # the page's table
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_TEXT = 200  # q and code_file: no name is longer (symbolsrv.keys.MAX_NAME_LENGTH)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_WHOLE = re.compile(r"[0-9]{1,9}\Z")
# What no name holds (symbolsrv.keys: C0 controls, DEL, C1 controls), the Unicode line and
# paragraph separators, and U+FFFD, which is what bytes that are not UTF-8 become. Such a q or
# code_file can only be a probe, and must never reach SQL: PostgreSQL's driver refuses a NUL
# outright, SQLite's LIKE stops at it (so `q=%00` matched every row).
_NOT_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffd]")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


class BadParameter(ValueError):
    """A query parameter of /api/v1/missing is malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class MissingQuery:
    flt: db.MissingFilter
    sort: str = "count"
    descending: bool = True
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def _date(params: dict[str, str], name: str) -> dt.date | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise BadParameter(f"{name}: expected a date YYYY-MM-DD, got {value[:40]!r}")


def _whole(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    number = int(value) if _WHOLE.match(value) else None
    if number is None or not low <= number <= high:
        raise BadParameter(f"{name}: expected a whole number from {low} to {high}, got {value[:40]!r}")
    return number


def _text(params: dict[str, str], name: str, whole_name: bool = False) -> str | None:
    """q (a substring: any text without what no name holds) or code_file (`whole_name`: a
    value the miss log can store, by the same rule as path names; any other is stored as '')."""
    value = params.get(name, "")
    if len(value) > MAX_TEXT:
        raise BadParameter(f"{name}: longer than {MAX_TEXT} characters")
    bad = _NOT_IN_NAMES.search(value)
    if bad:
        what = "not valid UTF-8" if bad.group() == "\ufffd" else f"U+{ord(bad.group()):04X}"
        raise BadParameter(f"{name}: no name holds a control character, a line separator or"
                           f" bytes that are not UTF-8 (found {what})")
    if whole_name and value and clean_code_file(value) != value:
        raise BadParameter(f"{name}: not a file name symbolsrv stores, got {value[:40]!r}")
    return value or None


def parse_missing_query(query_string: str, today: dt.date) -> MissingQuery:
    """Read the API's parameters (a repeated one takes its last value; others are ignored).

    Defaults: from..to = the last DEFAULT_DAYS UTC days ending today (a lone `to` ends the
    range there, a lone `from` runs to today), sort=count, order=desc, page=1, per_page=50.
    Raises BadParameter naming the parameter.
    """
    # PEP 3333: raw bytes arrive as latin-1; values are UTF-8 (as in symbolsrv.query), and
    # what is not UTF-8 becomes U+FFFD, which _text refuses.
    query_string = query_string.encode("latin-1", "replace").decode("utf-8", "replace")
    params = dict(parse_qsl(query_string, keep_blank_values=True, errors="replace"))
    day_to = _date(params, "to")
    day_from = _date(params, "from")
    if day_to is None:
        day_to = today if day_from is None or day_from <= today else day_from
    if day_from is None:
        try:
            day_from = day_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:  # the range would start before 0001-01-01
            raise BadParameter(f"to: {day_to.isoformat()} leaves no room for the default"
                               f" {DEFAULT_DAYS} days before it; give from too") from None
    if day_from > day_to:
        raise BadParameter(f"from: {day_from.isoformat()} is after to ({day_to.isoformat()})")
    sort = params.get("sort") or "count"
    if sort not in db.MISSING_SORTS:
        raise BadParameter(f"sort: expected one of {', '.join(db.MISSING_SORTS)}, got {sort[:40]!r}")
    order = params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise BadParameter(f"order: expected asc or desc, got {order[:40]!r}")
    return MissingQuery(
        flt=db.MissingFilter(day_from, day_to, _text(params, "q"),
                             _text(params, "code_file", whole_name=True)),
        sort=sort,
        descending=order == "desc",
        page=_whole(params, "page", 1, 1, 999_999_999),
        per_page=_whole(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
    )


def _timestamp(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


@view_config(route_name="missing_api", request_method="GET")
def missing_api(request):
    app = request.registry["symbolsrv.app"]
    try:
        query = parse_missing_query(request.environ.get("QUERY_STRING", ""), utc_today())
    except BadParameter as exc:
        return serving.json_response(400, {"error": str(exc)})
    app.misslog.flush()  # this process's buffered counts belong in what it reports
    try:
        total, items = db.missing_summary(
            app.engine, query.flt, query.sort, query.descending,
            limit=query.per_page, offset=(query.page - 1) * query.per_page,
        )
        per_day = db.missing_day_totals(app.engine, query.flt)
    except SQLAlchemyError as exc:
        log.warning("missing-symbols API: database failed: %s", exc)
        return serving.json_response(503, {"error": "database unavailable"}, ("Retry-After", "30"))
    return serving.json_response(
        200,
        {
            "total": total,
            "page": query.page,
            "per_page": query.per_page,
            "from": query.flt.day_from.isoformat(),
            "to": query.flt.day_to.isoformat(),
            "items": [
                {
                    "debug_file": item.debug_file,
                    "debug_id": item.debug_id,
                    "symbol_file": item.symbol_file,
                    "code_file": item.code_file,
                    "code_id": item.code_id,
                    "count": item.count,
                    "first_seen": _timestamp(item.first_seen),
                    "last_seen": _timestamp(item.last_seen),
                    "days": item.days,
                }
                for item in items
            ],
            "totals_per_day": [
                {"day": d.day.isoformat(), "distinct": d.distinct, "count": d.count}
                for d in per_day
            ],
        },
    )


@view_config(route_name="missing_page_noslash", request_method="GET")
def missing_page_noslash(request):
    return serving.Redirect(status=302, headerlist=[
        ("Location", "/missing/"), ("Content-Length", "0"), ("Cache-Control", "no-store")])


@view_config(route_name="missing_page", request_method="GET")
def missing_page(request):
    app = request.registry["symbolsrv.app"]
    today = utc_today()
    first = today - dt.timedelta(days=PAGE_DAYS - 1)
    app.misslog.flush()
    try:
        per_day = db.missing_day_totals(app.engine, db.MissingFilter(first, today))
        top = db.missing_module_totals(app.engine, first, today, PAGE_TOP)
    except SQLAlchemyError as exc:
        log.warning("missing-symbols page: database failed: %s", exc)
        return _html(503, "<!DOCTYPE html>\n<title>Database unavailable</title>\n"
                          "<p>The miss-log database is unavailable; try again later.</p>\n",
                     ("Retry-After", "30"))
    by_day = {d.day: d for d in per_day}
    days = [first + dt.timedelta(days=n) for n in range(PAGE_DAYS)]
    totals = [by_day.get(day) or db.DayTotal(day, 0, 0) for day in days]
    return _html(200, render_page(totals, top, first, today))


def _html(status: int, text: str, *extra: tuple[str, str]) -> Response:
    body = text.encode("utf-8")
    return Response(
        status=status,
        body=body,
        headerlist=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            *extra,
        ],
    )


# ------------------------------------------------------------------ the page (pure functions)


def e(value) -> str:
    """Escape any value for HTML text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Missing symbols - symbolsrv</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }}
h1 {{ font-size: 1.5em; margin: 0 0 .2em; }}
h2 {{ font-size: 1.15em; margin: 1.6em 0 .4em; }}
p.lead {{ margin: 0 0 1em; color: #555; }}
svg {{ display: block; max-width: 100%; height: auto; }}
svg .bar {{ fill: #3b6fb6; }}
svg .bar:hover {{ fill: #d9822b; }}
svg .axis {{ stroke: #888; stroke-width: 1; }}
svg .grid {{ stroke: #ddd; stroke-width: 1; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #555; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: .25em .7em; border-bottom: 1px solid #e4e4e4; text-align: left; }}
th {{ background: #f4f4f4; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.mono {{ font-family: ui-monospace, monospace; }}
td time {{ white-space: nowrap; }}
.empty {{ color: #777; font-style: italic; }}
</style>
</head>
<body>
<h1>Missing symbols</h1>
<p class="lead">Symbols asked for and found in no location, per UTC day, {first} to {last}:
{total} misses. JSON: <a href="/api/v1/missing">/api/v1/missing</a>.</p>
<h2>Misses per day</h2>
{chart}
<h2>Top {top_n} missing modules</h2>
{table}
<h2>Daily reports</h2>
{days}
</body>
</html>
"""


def render_page(totals: list[db.DayTotal], top, first: dt.date, last: dt.date) -> str:
    """The whole page: `totals` one DayTotal per day of the chart (oldest first), `top` the
    (debug_file, debug_id, code_file, count, last_seen) rows of the table."""
    return PAGE.format(
        first=e(first.isoformat()),
        last=e(last.isoformat()),
        total=e(f"{sum(t.count for t in totals):,}"),
        chart=render_chart(totals),
        top_n=e(PAGE_TOP),
        table=render_top(top),
        days=render_days(totals),
    )


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten that is >= value (an axis top)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def render_chart(totals: list[db.DayTotal]) -> str:
    """An inline SVG bar chart: one <rect class="bar"> per day with data-day, data-count and
    a <title> tooltip, a y axis with three labels, and every fifth day labelled below."""
    width, height = 1100, 260
    left, right, top, bottom = 56, 10, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_ceiling(max((t.count for t in totals), default=0))
    slot = plot_w / max(len(totals), 1)
    gap = min(4.0, slot * 0.2)
    base = top + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="misses-per-day" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="Misses per day">'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = base - plot_h * fraction
        label = peak * fraction
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f'{e(f"{label:,.0f}" if label == int(label) else f"{label:,.1f}")}</text>'
        )
    for n, t in enumerate(totals):
        x = left + n * slot + gap / 2
        h = plot_h * t.count / peak
        day = t.day.isoformat()
        noun = "miss" if t.count == 1 else "misses"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{slot - gap:.1f}" '
            f'height="{h:.1f}" data-day="{e(day)}" data-count="{e(t.count)}">'
            f"<title>{e(day)}: {e(f'{t.count:,}')} {noun}, {e(f'{t.distinct:,}')} distinct</title></rect>"
        )
        if n % 5 == 0 or n == len(totals) - 1:
            parts.append(
                f'<text x="{x + (slot - gap) / 2:.1f}" y="{base + 16}" text-anchor="middle">'
                f"{e(t.day.strftime('%m-%d'))}</text>"
            )
    parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - right}" y2="{base}"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_top(rows) -> str:
    if not rows:
        return '<p class="empty">No misses in these days.</p>'
    lines = [
        '<table id="top-modules">',
        '<thead><tr><th>debug_file</th><th>debug_id</th><th>code_file</th>'
        '<th class="num">misses</th><th>last seen (UTC)</th></tr></thead>',
        "<tbody>",
    ]
    for debug_file, debug_id, code_file, count, last_seen in rows:
        seen = last_seen.replace(microsecond=0)
        lines.append(
            f'<tr><td class="mono">{e(debug_file)}</td><td class="mono">{e(debug_id)}</td>'
            f'<td class="mono">{e(code_file)}</td>'
            f'<td class="num" data-count="{e(count)}">{e(f"{count:,}")}</td>'
            f'<td><time datetime="{e(seen.isoformat())}Z">{e(seen.isoformat(" "))}</time></td></tr>'
        )
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def render_days(totals: list[db.DayTotal]) -> str:
    """Newest day first: misses, distinct keys and the day's /missingsymbols.csv."""
    lines = [
        '<table id="daily-reports">',
        '<thead><tr><th>day (UTC)</th><th class="num">misses</th><th class="num">distinct</th>'
        "<th>report</th></tr></thead>",
        "<tbody>",
    ]
    for t in reversed(totals):
        day = t.day.isoformat()
        href = f"/missingsymbols.csv?date={quote(day)}"
        lines.append(
            f'<tr><td>{e(day)}</td><td class="num">{e(f"{t.count:,}")}</td>'
            f'<td class="num">{e(f"{t.distinct:,}")}</td>'
            f'<td><a href="{e(href)}">missing-symbols-{e(day)}.csv</a></td></tr>'
        )
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)
