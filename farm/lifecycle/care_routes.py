"""A subscriber's page in the manager's console, and cancelling for the customer: the
confirmation page shows the refund of the day and asks why; the POST cancels through the
customer's own cancellation (farm.lifecycle.care)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.errors import Conflict
from farm.lifecycle import care
from farm.payments import rules as refund_rules
from farm.web import Shown, form_page, int_param, links, now, render, require_manager, today


async def subscriber_page(request: Request) -> Response:
    manager = require_manager(request)
    found = await care.subscriber(
        manager=manager, subscription_id=int_param(request, "sub_id"), today=today(request)
    )
    context = {"section": "subscribers", "s": found, "sub": found.subscription,
               "cancelled": request.query_params.get("cancelled") == "1"}  # fmt: skip
    return render(request, "manage/subscriber.html", context)


async def cancel(request: Request) -> Response:
    manager = require_manager(request)
    sub_id = int_param(request, "sub_id")

    async def show(shown: Shown) -> Response:
        found = await care.subscriber(manager=manager, subscription_id=sub_id, today=today(request))
        context = {"section": "subscribers", "s": found, "sub": found.subscription,
                   "form": shown.form({}), "errors": shown.errors, "notice": shown.notice,
                   "refund_rules": refund_rules}  # fmt: skip
        return render(request, "manage/subscriber_cancel.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await care.cancel_for_customer(
            manager=manager, subscription_id=sub_id, reason=values["reason"],
            refund_fen=values["refund_fen"], today=today(request), now=now(),
            gateway=request.app.state.gateway, links=links(request),
        )  # fmt: skip
        return f"/manage/subscribers/{sub_id}?cancelled=1"

    return await form_page(
        request, show=show, save=save, names=("reason", "refund_fen"), notices=(Conflict,)
    )


routes = [
    Route("/manage/subscribers/{sub_id}", subscriber_page, name="manage_subscriber"),
    Route(
        "/manage/subscribers/{sub_id}/cancel",
        cancel,
        methods=["GET", "POST"],
        name="manage_subscriber_cancel",
    ),  # fmt: skip
]
