"""The cooperative's reports in the manager's console: a season's household earnings and
yields as tables and charts, and each as a CSV download. ?season=ID picks the season; without
it, the latest."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.csvfiles import csv_response
from farm.fieldwork import report_csv, reports
from farm.paging import parse_page
from farm.web import render, require_manager, season_param, timezone_of


async def reports_page(request: Request) -> Response:
    manager = require_manager(request)
    page = await reports.reports_page(
        cooperative_id=manager.cooperative_id,
        season_id=season_param(request),
        plot_page=parse_page(request.query_params.get("page")),
        timezone=timezone_of(request),
    )
    return render(request, "manage/reports/index.html", {"section": "reports", "page": page})


async def households_csv(request: Request) -> Response:
    manager = require_manager(request)
    report = await reports.household_report(
        cooperative_id=manager.cooperative_id, season_id=season_param(request)
    )
    return csv_response(report_csv.households_csv(report))


async def yields_csv(request: Request) -> Response:
    manager = require_manager(request)
    report = await reports.yield_report(
        cooperative_id=manager.cooperative_id, season_id=season_param(request)
    )
    return csv_response(report_csv.yields_csv(report))


routes = [
    Route("/manage/reports", reports_page, name="manage_reports"),
    Route("/manage/reports/households.csv", households_csv, name="manage_reports_households"),
    Route("/manage/reports/yields.csv", yields_csv, name="manage_reports_yields"),
]
