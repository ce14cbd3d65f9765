"""The customer's deliveries: ship days, holds, past boxes and tracking."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import forms
from farm.accounts.models import Role
from farm.errors import DomainError
from farm.i18n import _
from farm.shipments import box, services
from farm.subscriptions.rules import PROVINCES
from farm.web import Shown, form_page, int_param, links, now, render, require_user, today


def _day_param(request: Request, name: str) -> str:
    """A date from the query string (shown in a notice after a change), else nothing."""
    try:
        return forms.day(request.query_params.get(name, "")).isoformat()
    except forms.Problem:
        return ""


def _choose_day() -> str:
    return _("Choose a ship day from the list.")


def _listed_day(value: str) -> date:
    """A day picked from the page's list of ship days (it sends YYYY-MM-DD)."""
    try:
        return forms.day(value)
    except forms.Problem:
        raise forms.Problem("invalid", _choose_day()) from None


async def _page(request: Request, sub_id: int, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    view = await services.deliveries_view(
        customer=customer, subscription_id=sub_id, today=today(request)
    )
    context = {
        "view": view,
        "sub": view.subscription,
        "provinces": PROVINCES,
        "today": today(request),
        "held": _day_param(request, "held"),
        "released": _day_param(request, "released"),
        "error": "",
        # the season's running total, by crop, from the boxes that went
        "received": await box.received_by_crop(subscription=view.subscription),
        **extra,
    }
    return render(request, "shipments/deliveries.html", context, extra.get("status", 200))


async def deliveries(request: Request) -> Response:
    return await _page(request, int_param(request, "sub_id"))


async def change_hold(request: Request) -> Response:
    """Hold a ship day, or deliver it as usual after all (action=hold|release)."""
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")

    async def show(shown: Shown) -> Response:  # refused: this route takes POSTs
        error = shown.notice or next(iter(shown.errors.values()), "")
        return await _page(request, sub_id, error=error, status=shown.status_code)

    async def save(values: dict[str, str]) -> str:
        form = forms.Form()
        ship_on = form.read("ship_on", _listed_day, values["ship_on"])
        action = form.read(
            "action", forms.choice, values["action"], ("hold", "release"), message=_choose_day()
        )
        form.check()
        assert ship_on is not None
        if action == "hold":
            await services.hold_ship_day(
                customer=customer,
                subscription_id=sub_id,
                ship_on=ship_on,
                today=today(request),
                now=now(),
                links=links(request),
            )
        else:
            await services.release_hold(
                customer=customer, subscription_id=sub_id, ship_on=ship_on, today=today(request)
            )
        done = "held" if action == "hold" else "released"
        return f"/account/subscriptions/{sub_id}/deliveries?{done}={ship_on.isoformat()}"

    return await form_page(
        request, show=show, save=save, names=("action", "ship_on"), notices=(DomainError,)
    )


routes = [
    Route("/account/subscriptions/{sub_id}/deliveries", deliveries, name="deliveries"),
    Route("/account/subscriptions/{sub_id}/holds", change_hold, methods=["POST"], name="holds"),
]
