"""The family's page that chooses what its plot grows: the field's calendar with an area for
each crop, until the cut-off; after it, the plan read-only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.cropplans import choosing
from farm.cropplans.calendar import months_text
from farm.errors import Conflict
from farm.web import Shown, form_page, int_param, now, render, require_user, today


async def crops_page(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")

    async def show(shown: Shown) -> Response:
        view = await choosing.choice_view(
            customer=customer, subscription_id=sub_id, today=today(request)
        )
        fresh = {f"area_{line.crop_id}": str(line.area_m2) for line in view.lines} | {
            f"sow_{line.crop_id}": line.sow_on.isoformat() for line in view.lines
        }
        context = {
            "view": view,
            "months_text": months_text,
            "sub": view.subscription,
            "form": shown.form(fresh),
            "errors": shown.errors,
            "notice": shown.notice,
            "saved": request.query_params.get("saved") == "1",
        }
        return render(request, "cropplans/choose.html", context, shown.status_code)

    async def save(posted) -> str:
        await choosing.choose_crops(
            customer=customer, subscription_id=sub_id, posted=posted, today=today(request),
            now=now(),
        )  # fmt: skip
        return f"/account/subscriptions/{sub_id}/crops?saved=1"

    return await form_page(request, show=show, save=save, notices=(Conflict,))


routes = [
    Route(
        "/account/subscriptions/{sub_id}/crops",
        crops_page,
        methods=["GET", "POST"],
        name="choose_crops",
    ),
]
