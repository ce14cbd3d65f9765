"""The households' yearly ledger in the manager's console: the year's rent and wages per
household (a page, a chart by month, a CSV) and one household's year (a page and a CSV).
?year=YYYY picks the calendar year; without it, this year; anything else is not found."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import i18n
from farm.csvfiles import csv_response
from farm.errors import NotFound
from farm.fieldwork import ledger, ledger_csv
from farm.paging import parse_page
from farm.web import int_param, render, require_manager, today

FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_param(request: Request) -> int:
    raw = request.query_params.get("year", "")
    if not raw:
        return today(request).year
    if not (raw.isascii() and raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR):
        raise NotFound(i18n._("Page not found."))
    return int(raw)


async def ledger_page(request: Request) -> Response:
    manager = require_manager(request)
    year = year_param(request)
    book = await ledger.ledger(
        manager=manager, year=year, page=parse_page(request.query_params.get("page"))
    )
    return render(request, "manage/ledger.html", {"section": "reports", "ledger": book})


async def ledger_file(request: Request) -> Response:
    manager = require_manager(request)
    year = year_param(request)
    rows, figures = await ledger.every_household_year(manager=manager, year=year)
    return csv_response(ledger_csv.ledger_csv(year, rows, figures))


async def household_year(request: Request) -> Response:
    manager = require_manager(request)
    statement = await ledger.household_statement(
        manager=manager, household_id=int_param(request, "household_id"),
        year=year_param(request), page=parse_page(request.query_params.get("page")),
    )  # fmt: skip
    return render(request, "manage/household_year.html", {"section": "households", "s": statement})


async def household_year_file(request: Request) -> Response:
    manager = require_manager(request)
    statement = await ledger.household_statement(
        manager=manager, household_id=int_param(request, "household_id"),
        year=year_param(request), every_shift=True,
    )  # fmt: skip
    return csv_response(ledger_csv.household_csv(statement))


routes = [
    Route("/manage/ledger", ledger_page, name="manage_ledger"),
    Route("/manage/ledger.csv", ledger_file, name="manage_ledger_csv"),
    Route("/manage/households/{household_id}/year", household_year, name="manage_household_year"),
    Route(
        "/manage/households/{household_id}/year.csv",
        household_year_file,
        name="manage_household_year_csv",
    ),
]
