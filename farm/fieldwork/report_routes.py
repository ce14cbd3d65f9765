"""The cooperative's reports in the manager's console: a season's household earnings and
yields as tables and charts, and each as a CSV download. ?season=ID picks the season; without
it, the latest."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from farm.errors import NotFound
from farm.fieldwork import report_csv, reports
from farm.i18n import _
from farm.paging import parse_page
from farm.web import parse_id, render, require_manager


def season_param(request: Request) -> int | None:
    """?season=ID, or None without one (the latest season); anything but an id is a 404."""
    raw = request.query_params.get("season", "")
    if not raw:
        return None
    season_id = parse_id(raw)
    if season_id is None:
        raise NotFound(_("This season does not exist."))
    return season_id


def csv_response(file: report_csv.CsvFile | report_csv.CsvStream) -> Response:
    headers = {"Content-Disposition": file.disposition}
    if isinstance(file, report_csv.CsvStream):
        return StreamingResponse(file.chunks, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(file.content, media_type="text/csv; charset=utf-8", headers=headers)


async def reports_page(request: Request) -> Response:
    manager = require_manager(request)
    page = await reports.reports_page(
        cooperative_id=manager.cooperative_id,
        season_id=season_param(request),
        plot_page=parse_page(request.query_params.get("page")),
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
