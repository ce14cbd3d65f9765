"""The console's renewal window of a season: open it, and the renewal rate per field."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.paging import parse_page
from farm.renewals import services
from farm.web import Shown, form_page, int_param, render, require_manager, today


async def season_renewals(request: Request) -> Response:
    manager = require_manager(request)
    season_id = int_param(request, "season_id")

    async def show(shown: Shown) -> Response:
        view = await services.renewals_view(
            manager=manager, season_id=season_id, today=today(request),
            page=parse_page(request.query_params.get("page")),
        )  # fmt: skip
        fresh = {"opens_on": str(view.window.opens_on) if view.window else ""}
        context = {
            "section": "seasons",
            "view": view,
            "form": shown.form(fresh),
            "errors": shown.errors,
            "saved": request.query_params.get("saved") == "1",
        }
        return render(request, "manage/land/renewals.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await services.set_window(
            manager=manager, season_id=season_id, opens_on=values["opens_on"],
            today=today(request),
        )  # fmt: skip
        return f"/manage/seasons/{season_id}/renewals?saved=1"

    return await form_page(request, show=show, save=save, names=("opens_on",))


routes = [
    Route(
        "/manage/seasons/{season_id}/renewals",
        season_renewals,
        methods=["GET", "POST"],
        name="manage_season_renewals",
    ),
]
