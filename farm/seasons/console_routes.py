"""The manager's console for seasons and their plans. Each route reads the form, calls one
service, and renders or redirects; bad input is shown beside its field (422)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import units
from farm.accounts.models import User
from farm.errors import Conflict
from farm.fieldwork import lists
from farm.land.models import CareMode, Season
from farm.paging import parse_page, search_text
from farm.seasons import console, ship_days, todo
from farm.seasons.console import PERK_ROWS, PerkInput, PlanInput, SeasonInput
from farm.web import (
    Shown,
    form_page,
    form_template,
    int_param,
    manager_list,
    now,
    redirect,
    render,
    require_manager,
    today,
)

SEASON_NAMES = (
    "name", "name_en", "starts_on", "ends_on", "sale_starts_on", "sale_ends_on",
    "ship_days_of_month", "cutoff_days",
)  # fmt: skip
PLAN_NAMES = (
    "name", "name_en", "field_id", "plot_area_m2", "care_mode", "crop_plan", "crop_plan_en",
    "price", "max_plots", "max_plots_per_customer",
)  # fmt: skip
PERK_NAMES = tuple(
    f"perk_{part}_{i}" for i in range(PERK_ROWS) for part in ("kind", "partner", "count")
)


seasons_page = manager_list(
    "manage/land/seasons.html", section="seasons", name="views", lister=console.list_seasons
)


def _season_form(season: Season) -> dict[str, str]:
    """The season as its form shows it: end dates as the last day included, as lists do."""
    values = {name: str(getattr(season, name)) for name in SEASON_NAMES}
    for name in console.LAST_DAYS:
        values[name] = str(getattr(season, name) - timedelta(days=1))
    return values


async def season_new(request: Request) -> Response:
    manager = require_manager(request)

    async def save(values: dict[str, str]) -> str:
        season = await console.create_season(manager=manager, data=SeasonInput(**values))
        return f"/manage/seasons/{season.id}"

    fresh = {"ship_days_of_month": "1,16", "cutoff_days": "2"}
    context = {"section": "seasons", "view": None, "form": fresh, "errors": {}}
    return await form_template(
        request, "manage/land/season.html", context, save=save, names=SEASON_NAMES
    )


async def season_page(request: Request) -> Response:
    manager = require_manager(request)
    season_id = int_param(request, "season_id")

    async def show(shown: Shown) -> Response:
        text = search_text(request.query_params.get("q"))
        view = await console.season_view(
            manager=manager,
            season_id=season_id,
            text=text,
            page=parse_page(request.query_params.get("page")),
        )
        context = {
            "q": text,
            "section": "seasons",
            "view": view,
            "form": shown.form(_season_form(view.season)),
            "errors": shown.errors,
            "saved": request.query_params.get("saved") == "1",
        }
        return render(request, "manage/land/season.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await console.update_season(
            manager=manager, season_id=season_id, data=SeasonInput(**values), today=today(request)
        )
        return f"/manage/seasons/{season_id}?saved=1"

    return await form_page(request, show=show, save=save, names=SEASON_NAMES)


SHIP_DAY_NAMES = ("day", "action", "new_day", "reason")


async def season_ship_days(request: Request) -> Response:
    """Skip or move a coming ship day of the season, with the reason subscribers are told."""
    manager = require_manager(request)
    season_id = int_param(request, "season_id")

    async def show(shown: Shown) -> Response:
        view = await ship_days.ship_days_view(
            manager=manager, season_id=season_id, today=today(request)
        )
        context = {
            "section": "seasons",
            "view": view,
            "form": shown.form({"action": "move"}),
            "errors": shown.errors,
            "notice": shown.notice,
            "saved": request.query_params.get("saved") == "1",
        }
        return render(request, "manage/land/ship_days.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        change = ship_days.read_change(**values)
        await ship_days.change_ship_day(
            manager=manager, season_id=season_id, day=change["day"], new_day=change["new_day"],
            reason=change["reason"], today=today(request), now=now(),
        )  # fmt: skip
        return f"/manage/seasons/{season_id}/ship-days?saved=1"

    return await form_page(request, show=show, save=save, names=SHIP_DAY_NAMES, notices=(Conflict,))


def _plan_input(form: dict[str, str]) -> PlanInput:
    perks = [
        PerkInput(
            kind=form[f"perk_kind_{i}"],
            partner_id=form[f"perk_partner_{i}"],
            count=form[f"perk_count_{i}"],
        )
        for i in range(PERK_ROWS)
    ]
    return PlanInput(**{name: form[name] for name in PLAN_NAMES}, perks=perks)


def _plan_form(view: console.PlanView) -> dict[str, str]:
    plan = view.plan
    form = {
        "name": plan.name,
        "name_en": plan.name_en,
        "field_id": str(plan.field_id),
        "plot_area_m2": units.plain_number(plan.plot_area_m2),
        "care_mode": str(plan.care_mode),
        "crop_plan": plan.crop_plan,
        "crop_plan_en": plan.crop_plan_en,
        "price": units.yuan_text(plan.price_fen),
        "max_plots": str(plan.max_plots),
        "max_plots_per_customer": str(plan.max_plots_per_customer),
    }
    for i, perk in enumerate(view.perks):
        form[f"perk_kind_{i}"] = str(perk.kind)
        form[f"perk_partner_{i}"] = str(perk.partner_id or "")
        form[f"perk_count_{i}"] = str(perk.count)
    return form


async def _plan_page(
    request: Request,
    manager: User,
    *,
    season: Season,
    view: console.PlanView | None,
    form: Mapping[str, Any],
    shown: Shown,
) -> Response:
    choices = await console.plan_choices(manager=manager)
    context = {
        "section": "seasons",
        "season": season,
        "view": view,
        "choices": choices,
        "form": shown.form(form),
        "errors": shown.errors,
        "perk_rows": range(PERK_ROWS),
        "saved": request.query_params.get("saved") == "1",
    }
    return render(request, "manage/land/plan.html", context, shown.status_code)


async def plan_new(request: Request) -> Response:
    manager = require_manager(request)
    season_id = int_param(request, "season_id")

    async def show(shown: Shown) -> Response:
        season = await console.own_season(manager=manager, season_id=season_id)
        fresh = {
            "care_mode": CareMode.MANAGED.value,
            "max_plots": "1",
            "max_plots_per_customer": "1",
        }
        return await _plan_page(request, manager, season=season, view=None, form=fresh, shown=shown)

    async def save(values: dict[str, str]) -> str:
        plan = await console.create_plan(
            manager=manager, season_id=season_id, data=_plan_input(values)
        )
        return f"/manage/plans/{plan.id}?saved=1"

    return await form_page(request, show=show, save=save, names=PLAN_NAMES + PERK_NAMES)


async def plan_page(request: Request) -> Response:
    manager = require_manager(request)
    plan_id = int_param(request, "plan_id")

    async def show(shown: Shown) -> Response:
        view = await console.plan_view(manager=manager, plan_id=plan_id)
        return await _plan_page(
            request, manager, season=view.season, view=view, form=_plan_form(view), shown=shown
        )

    async def save(values: dict[str, str]) -> str:
        await console.update_plan(manager=manager, plan_id=plan_id, data=_plan_input(values))
        return f"/manage/plans/{plan_id}?saved=1"

    return await form_page(request, show=show, save=save, names=PLAN_NAMES + PERK_NAMES)


async def plan_publish(request: Request) -> Response:
    """Publish a draft plan (a button on its console page, after the preview)."""
    manager = require_manager(request)
    plan_id = int_param(request, "plan_id")

    async def show(shown: Shown) -> Response:
        return redirect(f"/manage/plans/{plan_id}")  # a button only: nothing to refuse

    async def save(values: dict[str, str]) -> str:
        await console.publish_plan(manager=manager, plan_id=plan_id)
        return f"/manage/plans/{plan_id}?published=1"

    return await form_page(request, show=show, save=save, names=())


async def console_home(request: Request) -> Response:
    """The console's first page: what needs the manager, then the latest work and harvests."""
    manager = require_manager(request)
    context = {
        "section": "home",
        "todo": await todo.todo_list(manager=manager, today=today(request), now=now()),
        "entries": await lists.latest_entries(manager=manager, limit=5),
        "lots": await lists.latest_lots(manager=manager, limit=5),
    }
    return render(request, "fieldwork/console.html", context)


routes = [
    Route("/manage", console_home, name="manage_home"),
    Route("/manage/seasons", seasons_page, name="manage_seasons"),
    Route("/manage/seasons/new", season_new, methods=["GET", "POST"], name="manage_season_new"),
    Route(
        "/manage/seasons/{season_id}", season_page, methods=["GET", "POST"], name="manage_season"
    ),
    Route(
        "/manage/seasons/{season_id}/ship-days",
        season_ship_days,
        methods=["GET", "POST"],
        name="manage_season_ship_days",
    ),
    Route(
        "/manage/seasons/{season_id}/plans/new",
        plan_new,
        methods=["GET", "POST"],
        name="manage_plan_new",
    ),
    Route("/manage/plans/{plan_id}", plan_page, methods=["GET", "POST"], name="manage_plan"),
    Route(
        "/manage/plans/{plan_id}/publish",
        plan_publish,
        methods=["POST"],
        name="manage_plan_publish",
    ),
]
