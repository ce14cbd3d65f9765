"""The manager's console for land: fields cut into plots (seasons and plans: farm.seasons).
Each route reads the form, calls one service, and renders or redirects; bad input is shown
beside its field (422)."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import units
from farm.accounts.models import User
from farm.errors import NotFound
from farm.i18n import _
from farm.land import console
from farm.paging import parse_page, search_text
from farm.web import (
    form_on_page,
    form_template,
    manager_list,
    now,
    parse_id,
    render,
    require_manager,
    today,
)

FIELD_NAMES = ("name", "width_m", "height_m")
GRID_NAMES = ("prefix", "plot_w", "plot_h", "cols", "rows", "x", "y", "first_number", "area_m2")
PLOT_NAMES = ("code", "x", "y", "w", "h", "area_m2")


def _count_param(request: Request, name: str) -> int:
    return parse_id(request.query_params.get(name)) or 0


# ---- fields and plots ----


fields_page = manager_list(
    "manage/land/fields.html", section="fields", name="rows", lister=console.list_fields
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
    await console.update_field(
        manager=manager, field_id=field_id, data=console.FieldInput(**values),
        today=today(request), resize_check=request.app.state.field_resize_check,
    )  # fmt: skip
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
]
