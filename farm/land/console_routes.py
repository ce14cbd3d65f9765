"""The manager's console for land: fields and plots, seasons and plans. Each route reads the
form, calls one service, and renders or redirects; bad input is shown beside its field (422)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import units
from farm.accounts.models import User
from farm.errors import NotFound
from farm.i18n import _
from farm.land import console, console_seasons
from farm.land.console_seasons import PERK_ROWS, PerkInput, PlanInput, SeasonInput
from farm.land.models import CareMode, Season
from farm.paging import parse_page, search_text
from farm.web import (
    Shown,
    form_on_page,
    form_page,
    form_template,
    int_param,
    now,
    parse_id,
    render,
    require_manager,
)

FIELD_NAMES = ("name", "width_m", "height_m")
GRID_NAMES = ("prefix", "plot_w", "plot_h", "cols", "rows", "x", "y", "first_number", "area_m2")
PLOT_NAMES = ("code", "x", "y", "w", "h", "area_m2")
SEASON_NAMES = (
    "name", "name_en", "starts_on", "ends_on", "sale_starts_on", "sale_ends_on",
    "ship_days_of_month", "cutoff_days",
)  # fmt: skip
PLAN_NAMES = (
    "name", "name_en", "field_id", "plot_area_m2", "care_mode", "crop_plan", "crop_plan_en",
    "price", "max_plots",
)  # fmt: skip
PERK_NAMES = tuple(
    f"perk_{part}_{i}" for i in range(PERK_ROWS) for part in ("kind", "partner", "count")
)


def _count_param(request: Request, name: str) -> int:
    return parse_id(request.query_params.get(name)) or 0


# ---- fields and plots ----


async def fields_page(request: Request) -> Response:
    manager = require_manager(request)
    text = search_text(request.query_params.get("q"))
    rows = await console.list_fields(
        manager=manager, text=text, page=parse_page(request.query_params.get("page"))
    )
    return render(
        request, "manage/land/fields.html", {"section": "fields", "rows": rows, "q": text}
    )


async def field_new(request: Request) -> Response:
    manager = require_manager(request)

    async def save(values: dict[str, str]) -> str:
        found = await console.create_field(manager=manager, data=console.FieldInput(**values))
        return f"/manage/fields/{found.id}"

    context = {"section": "fields", "form": {}, "errors": {}}
    return await form_template(
        request, "manage/land/field_new.html", context, save=save, names=FIELD_NAMES
    )


async def _field_page(
    request: Request, manager: User, field_id: int, status_code: int = 200, **forms: Any
) -> Response:
    raw_season = request.query_params.get("season")
    season_id = parse_id(raw_season)
    if raw_season and season_id is None:
        raise NotFound(_("This season does not exist."))
    params = request.query_params
    view = await console.field_map(
        manager=manager,
        field_id=field_id,
        season_id=season_id,
        now=now(),
        code=search_text(params.get("code"), limit=20),
        status=str(params.get("status") or ""),
        page=parse_page(params.get("page")),
    )
    found = view.field
    context = {
        "section": "fields",
        "view": view,
        "edit_form": {
            "name": found.name,
            "width_m": units.plain_number(found.width_m),
            "height_m": units.plain_number(found.height_m),
        },
        "grid_form": {"x": "0", "y": "0", "first_number": "1"},
        "plot_form": {},
        "edit_errors": {},
        "grid_errors": {},
        "plot_errors": {},
        "cut": _count_param(request, "cut"),
        "saved": request.query_params.get("saved") == "1",
        **forms,
    }
    return render(request, "manage/land/field.html", context, status_code=status_code)


async def _update_field(
    request: Request, manager: User, field_id: int, values: dict[str, str]
) -> str:
    data = console.FieldInput(**values)
    await console.update_field(manager=manager, field_id=field_id, data=data)
    return f"/manage/fields/{field_id}?saved=1"


async def _cut_grid(request: Request, manager: User, field_id: int, values: dict[str, str]) -> str:
    data = console.GridInput(**values)
    plots = await console.cut_grid(manager=manager, field_id=field_id, data=data)
    return f"/manage/fields/{field_id}?cut={len(plots)}"


async def _add_plot(request: Request, manager: User, field_id: int, values: dict[str, str]) -> str:
    await console.add_plot(manager=manager, field_id=field_id, data=console.PlotInput(**values))
    return f"/manage/fields/{field_id}?cut=1"


_field_form = partial(form_on_page, guard=require_manager, param="field_id", page=_field_page)
field_page = _field_form(prefix="edit", names=FIELD_NAMES, save=_update_field)
cut_grid = _field_form(prefix="grid", names=GRID_NAMES, save=_cut_grid)
add_plot = _field_form(prefix="plot", names=PLOT_NAMES, save=_add_plot)


# ---- seasons and plans ----


async def seasons_page(request: Request) -> Response:
    manager = require_manager(request)
    text = search_text(request.query_params.get("q"))
    views = await console_seasons.list_seasons(
        manager=manager, text=text, page=parse_page(request.query_params.get("page"))
    )
    return render(
        request, "manage/land/seasons.html", {"section": "seasons", "views": views, "q": text}
    )


def _season_form(season: Season) -> dict[str, str]:
    """The season as its form shows it: end dates as the last day included, as lists do."""
    values = {name: str(getattr(season, name)) for name in SEASON_NAMES}
    for name in console_seasons.LAST_DAYS:
        values[name] = str(getattr(season, name) - timedelta(days=1))
    return values


async def season_new(request: Request) -> Response:
    manager = require_manager(request)

    async def save(values: dict[str, str]) -> str:
        season = await console_seasons.create_season(manager=manager, data=SeasonInput(**values))
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
        view = await console_seasons.season_view(
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
        await console_seasons.update_season(
            manager=manager, season_id=season_id, data=SeasonInput(**values)
        )
        return f"/manage/seasons/{season_id}?saved=1"

    return await form_page(request, show=show, save=save, names=SEASON_NAMES)


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


def _plan_form(view: console_seasons.PlanView) -> dict[str, str]:
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
    view: console_seasons.PlanView | None,
    form: Mapping[str, Any],
    shown: Shown,
) -> Response:
    choices = await console_seasons.plan_choices(manager=manager)
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
        season = await console_seasons.own_season(manager=manager, season_id=season_id)
        fresh = {"care_mode": CareMode.MANAGED.value, "max_plots": "1"}
        return await _plan_page(request, manager, season=season, view=None, form=fresh, shown=shown)

    async def save(values: dict[str, str]) -> str:
        plan = await console_seasons.create_plan(
            manager=manager, season_id=season_id, data=_plan_input(values)
        )
        return f"/manage/plans/{plan.id}?saved=1"

    return await form_page(request, show=show, save=save, names=PLAN_NAMES + PERK_NAMES)


async def plan_page(request: Request) -> Response:
    manager = require_manager(request)
    plan_id = int_param(request, "plan_id")

    async def show(shown: Shown) -> Response:
        view = await console_seasons.plan_view(manager=manager, plan_id=plan_id)
        return await _plan_page(
            request, manager, season=view.season, view=view, form=_plan_form(view), shown=shown
        )

    async def save(values: dict[str, str]) -> str:
        await console_seasons.update_plan(
            manager=manager, plan_id=plan_id, data=_plan_input(values)
        )
        return f"/manage/plans/{plan_id}?saved=1"

    return await form_page(request, show=show, save=save, names=PLAN_NAMES + PERK_NAMES)


routes = [
    Route("/manage/fields", fields_page, name="manage_fields"),
    Route("/manage/fields/new", field_new, methods=["GET", "POST"], name="manage_field_new"),
    Route("/manage/fields/{field_id}", field_page, methods=["GET", "POST"], name="manage_field"),
    Route(
        "/manage/fields/{field_id}/grid", cut_grid, methods=["GET", "POST"], name="manage_cut_grid"
    ),
    Route(
        "/manage/fields/{field_id}/plots", add_plot, methods=["GET", "POST"], name="manage_add_plot"
    ),
    Route("/manage/seasons", seasons_page, name="manage_seasons"),
    Route("/manage/seasons/new", season_new, methods=["GET", "POST"], name="manage_season_new"),
    Route(
        "/manage/seasons/{season_id}", season_page, methods=["GET", "POST"], name="manage_season"
    ),
    Route(
        "/manage/seasons/{season_id}/plans/new",
        plan_new,
        methods=["GET", "POST"],
        name="manage_plan_new",
    ),
    Route("/manage/plans/{plan_id}", plan_page, methods=["GET", "POST"], name="manage_plan"),
]
