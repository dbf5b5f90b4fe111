"""The plugin page's long panels, each also an htmx fragment of its own: the execution
history (filtered, paged, summarised, charted) and the channel's stock with the last push.
The page renders them with its own query string, so filters and pages work without
JavaScript too."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from tradewind.auth.service import SessionUser
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.db import utcnow
from tradewind.monitoring import executions
from tradewind.sync import stock
from tradewind.web.app import fragment
from tradewind.web.render import Point, bar_chart, line_chart
from tradewind.web.session import hub_of, reader

router = APIRouter(include_in_schema=False)

EXECUTIONS_PER_PAGE = 25
STOCK_PRODUCTS_PER_PAGE = 20
WINDOW = dt.timedelta(hours=24)


def _page_number(value: str | None) -> int:
    return max(1, min(int(value), 100_000)) if value and value.isdigit() else 1


def hour_label(hour: dt.datetime) -> str:
    """An hour on the axis with its day: "Dec 3 14:00"."""
    return f"{hour:%b} {hour.day} {hour:%H:00}"


def executions_panel(
    session: Session, plugin_id: int, query: dict[str, str], now: dt.datetime
) -> dict[str, Any]:
    """What the execution history shows for ``query`` (outcome, operation, page)."""
    outcome = query.get("outcome", "")
    operation = query.get("operation", "")[:128]
    shown = executions.ExecutionFilter(
        plugin_id,
        since=now - WINDOW,
        outcome=outcome if outcome in executions.OUTCOMES else "",
        operation=operation,
    )
    number = _page_number(query.get("page"))
    rows, total = executions.page_of(
        session,
        shown,
        offset=(number - 1) * EXECUTIONS_PER_PAGE,
        limit=EXECUTIONS_PER_PAGE,
    )
    pages = max(1, -(-total // EXECUTIONS_PER_PAGE))

    def link(to: int) -> str:
        return urlencode({"outcome": shown.outcome, "operation": shown.operation, "page": to})

    return {
        "exec_rows": rows,
        "exec_total": total,
        "exec_page": number,
        "exec_pages": pages,
        "exec_prev": link(number - 1) if number > 1 else "",
        "exec_next": link(number + 1) if number < pages else "",
        "exec_filter": shown,
        "exec_summary": executions.summary(session, shown),
        "exec_operations": executions.operations(session, plugin_id),
        "exec_outcomes": executions.OUTCOMES,
    }


def charts(session: Session, plugin_id: int, now: dt.datetime) -> dict[str, Markup]:
    """The last 24 hours of a plugin's calls, one slot an hour, each labelled with its day."""
    stats = executions.hourly_stats(session, plugin_id, since=now - WINDOW)
    by_hour = {hour.hour: hour for hour in stats}
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = [this_hour - dt.timedelta(hours=back) for back in range(23, -1, -1)]

    def points(value: Any) -> list[Point]:
        return [
            Point(hour_label(hour), value(by_hour[hour]) if hour in by_hour else None)
            for hour in hours
        ]

    return {
        "success_chart": bar_chart(
            points(lambda h: h.success_rate * 100), title="Success rate per hour"
        ),
        "latency_chart": line_chart(
            [
                ("p50", "var(--accent)", points(lambda h: h.p50_ms)),
                ("p95", "var(--warn)", points(lambda h: h.p95_ms)),
            ],
            title="Response time per hour",
        ),
    }


def stock_panel(session: Session, plugin: Plugin, query: dict[str, str]) -> dict[str, Any]:
    number = _page_number(query.get("stock_page"))
    rows, total = stock.channel_stock(
        session,
        plugin,
        offset=(number - 1) * STOCK_PRODUCTS_PER_PAGE,
        limit=STOCK_PRODUCTS_PER_PAGE,
    )
    pages = max(1, -(-total // STOCK_PRODUCTS_PER_PAGE))
    return {
        "stock_rows": rows,
        "stock_products": total,
        "stock_page": number,
        "stock_pages": pages,
        "stock_prev": urlencode({"stock_page": number - 1}) if number > 1 else "",
        "stock_next": urlencode({"stock_page": number + 1}) if number < pages else "",
    }


@router.get("/plugins/{plugin_id}/executions")
def plugin_executions(
    request: Request, plugin_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        shown = executions_panel(session, plugin.id, dict(request.query_params), utcnow())
    answer = fragment(request, "fragments/executions.html", plugin=plugin, **shown)
    answer.headers["HX-Push-Url"] = _page_url(request, plugin_id, shown["exec_filter"], shown)
    return answer


EXECUTION_KEYS = ("outcome", "operation", "page")


def _page_url(
    request: Request, plugin_id: int, shown: executions.ExecutionFilter, panel: dict[str, Any]
) -> str:
    """The plugin page's address showing these executions (the page's other parameters, as
    ``HX-Current-URL`` has them, kept): what the address bar gets, so that the filtered
    view can be linked and comes back on reload."""
    current = urlsplit(request.headers.get("hx-current-url", ""))
    kept = [(k, v) for k, v in parse_qsl(current.query) if k not in EXECUTION_KEYS]
    wanted = {"outcome": shown.outcome, "operation": shown.operation}
    if panel["exec_page"] > 1:
        wanted["page"] = str(panel["exec_page"])
    query = urlencode(kept + [(k, v) for k, v in wanted.items() if v])
    return f"/plugins/{plugin_id}{'?' + query if query else ''}#history"


@router.get("/plugins/{plugin_id}/channel-stock")
def plugin_channel_stock(
    request: Request, plugin_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        shown = stock_panel(session, plugin, dict(request.query_params))
    return fragment(request, "fragments/channel_stock.html", plugin=plugin, **shown)
