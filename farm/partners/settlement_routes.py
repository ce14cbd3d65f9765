"""The manager's settlement with a partner: its prices per voucher kind (a form on their own
page) and its statement for a period, as a page and a CSV. Each route reads the form or the
query, calls one service, and renders or redirects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.csvfiles import csv_response
from farm.partners import console_redemptions, console_routes, settlement
from farm.web import Shown, form_page, int_param, now, render, require_manager, timezone_of, today

PRICE_NAMES = ("kind", "price", "valid_from")


async def prices_page(request: Request) -> Response:
    manager = require_manager(request)
    partner_id = int_param(request, "partner_id")

    async def show(shown: Shown) -> Response:
        view = await settlement.prices_view(
            manager=manager, partner_id=partner_id, today=today(request)
        )
        fresh = {"kind": settlement.KINDS[0], "valid_from": today(request).isoformat()}
        context = {"section": "partners", "view": view, "kinds": settlement.KINDS,
                   "form": shown.form(fresh), "errors": shown.errors,
                   "done": request.query_params.get("done", "")}  # fmt: skip
        return render(request, "partners/manage_prices.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await settlement.set_price(
            manager=manager, partner_id=partner_id, data=settlement.PriceInput(**values),
            now=now(),
        )  # fmt: skip
        return f"/manage/partners/{partner_id}/prices?done=saved"

    return await form_page(request, show=show, save=save, names=PRICE_NAMES)


async def statement_page(request: Request) -> Response:
    return await console_routes.period_page(request, template="partners/manage_statement.html",
                                            load=settlement.statement)  # fmt: skip


async def statement_csv(request: Request) -> Response:
    manager = require_manager(request)
    partner_id = int_param(request, "partner_id")
    period = console_redemptions.read_period(
        request.query_params.get("from", ""), request.query_params.get("to", ""),
        today=today(request),
    )  # fmt: skip
    stream = await settlement.statement_csv(
        manager=manager, partner_id=partner_id, period=period, timezone=timezone_of(request)
    )
    return csv_response(stream)


routes = [
    Route(
        "/manage/partners/{partner_id}/prices",
        prices_page,
        methods=["GET", "POST"],
        name="manage_partner_prices",
    ),
    Route(
        "/manage/partners/{partner_id}/statement", statement_page, name="manage_partner_statement"
    ),
    Route(
        "/manage/partners/{partner_id}/statement.csv",
        statement_csv,
        name="manage_partner_statement_csv",
    ),
]
