"""The console's announcements: the form (?season=ID chooses the season whose fields and ship
days it offers) above the past announcements with their mail counts, and one announcement's
page. Bad input is shown beside its field (422) and nothing is sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.announcements import services
from farm.paging import parse_page
from farm.parsing import parse_id
from farm.web import Shown, form_page, int_param, links, now, render, require_manager, season_param

NAMES = ("season", "audience", "field", "ship_on", "subject", "body")


async def announcements(request: Request) -> Response:
    manager = require_manager(request)
    season_id = season_param(request)

    async def show(shown: Shown) -> Response:
        chosen = parse_id((shown.posted or {}).get("season")) or season_id
        found = await services.choices(manager=manager, season_id=chosen)
        listed = await services.past(
            manager=manager, page=parse_page(request.query_params.get("page"))
        )
        context = {
            "section": "announcements", "choices": found, "listed": listed,
            "form": shown.form({"audience": "season"}), "errors": shown.errors,
        }  # fmt: skip
        return render(request, "manage/announcements.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        announcement = await services.announce(
            manager=manager, season_id=parse_id(values["season"]) or season_id,
            audience=values["audience"], field_id=values["field"], ship_on=values["ship_on"],
            subject=values["subject"], body=values["body"], now=now(), links=links(request),
            secret=str(request.app.state.settings.secret_key),
        )  # fmt: skip
        return f"/manage/announcements/{announcement.id}?sent=1"

    return await form_page(request, show=show, save=save, names=NAMES)


async def announcement_page(request: Request) -> Response:
    manager = require_manager(request)
    found = await services.one(
        manager=manager, announcement_id=int_param(request, "announcement_id")
    )
    context = {"section": "announcements", "listed": found,
               "sent": request.query_params.get("sent") == "1"}  # fmt: skip
    return render(request, "manage/announcement.html", context)


routes = [
    Route("/manage/announcements", announcements, methods=["GET", "POST"], name="announcements"),
    Route("/manage/announcements/{announcement_id}", announcement_page, name="announcement"),
]
