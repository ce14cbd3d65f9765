"""The console's crop calendars and sowing lists: the fields, a field's calendar (its cut-off,
its crops added, edited, removed), and a field's sowing list of a season by week, as a page
and a CSV, with the button that logs a week's sowing."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import User
from farm.cropplans import calendar, sowing
from farm.csvfiles import csv_response
from farm.errors import Conflict
from farm.fieldwork.routes import photo_store
from farm.paging import parse_page
from farm.web import (
    Shown,
    form_on_page,
    form_page,
    int_param,
    manager_list,
    now,
    render,
    require_manager,
    season_param,
    today,
)

SECTION = "crop_calendars"

calendars_page = manager_list(
    "cropplans/calendars.html", section=SECTION, name="fields", lister=calendar.list_fields
)


async def _calendar_page(
    request: Request, manager: User, field_id: int, status_code: int = 200, **forms: Any
) -> Response:
    """The calendar with its two forms: a crop to add ('form') and the cut-off ('cutoff_')."""
    view = await calendar.calendar_view(
        manager=manager, field_id=field_id, page=parse_page(request.query_params.get("page"))
    )
    context = {
        "section": SECTION,
        "view": view,
        "months_text": calendar.months_text,
        "cutoff_form": {
            "cutoff_days": str(view.calendar.cutoff_days if view.calendar else 14),
            "monthly": "1" if view.calendar and view.calendar.monthly else "",
        },
        "cutoff_errors": {},
        "form": {"default_area_m2": "0"},
        "errors": {},
        "saved": request.query_params.get("saved") == "1",
        **forms,
    }
    return render(request, "cropplans/calendar.html", context, status_code)


async def _add_row(request: Request, manager: User, field_id: int, values: dict[str, str]) -> str:
    await calendar.add_row(manager=manager, field_id=field_id, values=values)
    return f"/manage/crop-calendars/{field_id}?saved=1"


async def _set_cutoff(
    request: Request, manager: User, field_id: int, values: dict[str, str]
) -> str:
    await calendar.set_cutoff(
        manager=manager, field_id=field_id, cutoff_days=values["cutoff_days"],
        monthly=values["monthly"] == "1",
    )  # fmt: skip
    return f"/manage/crop-calendars/{field_id}?saved=1"


_calendar_form = partial(form_on_page, guard=require_manager, param="field_id", page=_calendar_page)
# GET: the calendar; POST: add a crop to it
calendar_page = _calendar_form(prefix="", names=calendar.ROW_NAMES, save=_add_row)
calendar_cutoff = _calendar_form(
    prefix="cutoff", names=("cutoff_days", "monthly"), save=_set_cutoff
)


async def calendar_row(request: Request) -> Response:
    manager = require_manager(request)
    field_id = int_param(request, "field_id")
    row_id = int_param(request, "row_id")

    async def show(shown: Shown) -> Response:
        row = await calendar.own_row(manager=manager, field_id=field_id, row_id=row_id)
        view = await calendar.calendar_view(manager=manager, field_id=field_id)
        context = {
            "section": SECTION,
            "row": row,
            "crops": view.crops,
            "form": shown.form(calendar.row_form(row)),
            "errors": shown.errors,
        }
        return render(request, "cropplans/row.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await calendar.update_row(manager=manager, field_id=field_id, row_id=row_id, values=values)
        return f"/manage/crop-calendars/{field_id}?saved=1"

    return await form_page(request, show=show, save=save, names=calendar.ROW_NAMES)


async def calendar_row_remove(request: Request) -> Response:
    manager = require_manager(request)
    field_id = int_param(request, "field_id")
    row_id = int_param(request, "row_id")

    async def show(shown: Shown) -> Response:
        return await _calendar_page(
            request, manager, field_id, shown.status_code, **shown.context()
        )

    async def save(values: dict[str, str]) -> str:
        await calendar.remove_row(manager=manager, field_id=field_id, row_id=row_id)
        return f"/manage/crop-calendars/{field_id}?saved=1"

    return await form_page(request, show=show, save=save, names=())


async def _sowing_page(request: Request, field_id: int, shown: Shown) -> Response:
    manager = require_manager(request)
    view = await sowing.sowing_view(
        manager=manager, field_id=field_id, season_id=season_param(request),
        week=request.query_params.get("week", ""),
        page=parse_page(request.query_params.get("page")),
    )  # fmt: skip
    context = {
        "section": SECTION,
        "view": view,
        "seed_text": sowing.seed_text,
        "notice": shown.notice,
        "logged": request.query_params.get("logged") == "1",
    }
    return render(request, "cropplans/sowing.html", context, shown.status_code)


async def sowing_page(request: Request) -> Response:
    return await _sowing_page(request, int_param(request, "field_id"), Shown())


async def sowing_csv(request: Request) -> Response:
    manager = require_manager(request)
    season_id = season_param(request)
    field_id = int_param(request, "field_id")
    if season_id is None:
        view = await sowing.sowing_view(
            manager=manager, field_id=field_id, season_id=None, week="", page=1
        )
        if view.season is None:
            return await _sowing_page(request, field_id, Shown())
        season_id = view.season.id
    file = await sowing.sowing_csv(manager=manager, field_id=field_id, season_id=season_id)
    return csv_response(file)


async def sowing_log(request: Request) -> Response:
    """Log the week's sowing as one work entry; a second click shows that it is logged."""
    manager = require_manager(request)
    field_id = int_param(request, "field_id")
    names = ("season", "week")

    async def show(shown: Shown) -> Response:
        return await _sowing_page(request, field_id, shown)

    async def save(values: dict[str, str]) -> str:
        season_id = int(values["season"]) if values["season"].isdigit() else 0
        await sowing.log_sowing(
            manager=manager, field_id=field_id, season_id=season_id, week=values["week"],
            today=today(request), now=now(), store=photo_store(request),
        )  # fmt: skip
        return (
            f"/manage/crop-calendars/{field_id}/sowing?season={season_id}"
            f"&week={values['week']}&logged=1"
        )

    return await form_page(request, show=show, save=save, names=names, notices=(Conflict,))


routes = [
    Route("/manage/crop-calendars", calendars_page, name="manage_crop_calendars"),
    Route(
        "/manage/crop-calendars/{field_id}",
        calendar_page,
        methods=["GET", "POST"],
        name="manage_crop_calendar",
    ),
    Route(
        "/manage/crop-calendars/{field_id}/cutoff",
        calendar_cutoff,
        methods=["GET", "POST"],
        name="manage_crop_calendar_cutoff",
    ),
    Route(
        "/manage/crop-calendars/{field_id}/crops/{row_id}",
        calendar_row,
        methods=["GET", "POST"],
        name="manage_crop_calendar_row",
    ),
    Route(
        "/manage/crop-calendars/{field_id}/crops/{row_id}/remove",
        calendar_row_remove,
        methods=["POST"],
        name="manage_crop_calendar_row_remove",
    ),
    Route("/manage/crop-calendars/{field_id}/sowing", sowing_page, name="manage_sowing"),
    Route("/manage/crop-calendars/{field_id}/sowing.csv", sowing_csv, name="manage_sowing_csv"),
    Route(
        "/manage/crop-calendars/{field_id}/sowing/log",
        sowing_log,
        methods=["POST"],
        name="manage_sowing_log",
    ),
]
