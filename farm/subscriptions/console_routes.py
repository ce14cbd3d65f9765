"""The manager's subscribers page and its CSV file: ?season=ID (default the running one),
?status=, ?q= (a name, phone, email or plot code), ?field=ID, ?plan=ID, ?page=."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.csvfiles import csv_response
from farm.paging import parse_page, search_text
from farm.parsing import parse_id
from farm.subscriptions import console
from farm.subscriptions.models import Status
from farm.web import render, require_manager, season_param, timezone_of, today


def _filters(request: Request) -> console.SubscriberFilter:
    status = str(request.query_params.get("status") or "")
    return console.SubscriberFilter(
        season_id=season_param(request),
        status=status if status in set(Status) else "",
        text=search_text(request.query_params.get("q"), limit=60),
        # another cooperative's field or plan matches nothing: the season is the manager's
        field_id=parse_id(request.query_params.get("field")),
        plan_id=parse_id(request.query_params.get("plan")),
    )


async def subscribers(request: Request) -> Response:
    manager = require_manager(request)
    page = await console.subscribers_page(
        manager=manager,
        filters=_filters(request),
        page=parse_page(request.query_params.get("page")),
        today=today(request),
    )
    return render(
        request,
        "manage/subscribers.html",
        {"section": "subscribers", "page": page, "statuses": list(Status)},
    )


async def subscribers_csv(request: Request) -> Response:
    manager = require_manager(request)
    file = await console.subscribers_csv(
        manager=manager,
        filters=_filters(request),
        timezone=timezone_of(request),
        today=today(request),
    )
    return csv_response(file)


routes = [
    Route("/manage/subscribers", subscribers, name="manage_subscribers"),
    Route("/manage/subscribers.csv", subscribers_csv, name="manage_subscribers_csv"),
]
