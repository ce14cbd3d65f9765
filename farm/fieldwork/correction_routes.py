"""The work entry's correction page, and the audit of every correction (a page at a time, all
or a season's), in the manager's console."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import units
from farm.audit import records
from farm.errors import Conflict
from farm.fieldwork import corrections, plot_corrections
from farm.fieldwork.models import Activity
from farm.land.services import seasons_and_chosen
from farm.paging import parse_page
from farm.web import (
    Shown,
    form_page,
    int_param,
    now,
    posted_by_id,
    render,
    require_manager,
    season_param,
    today,
)


async def correct_entry(request: Request) -> Response:
    manager = require_manager(request)
    entry_id = int_param(request, "entry_id")

    async def show(shown: Shown) -> Response:
        view = await corrections.entry_correction(manager=manager, entry_id=entry_id)
        e = view.entry
        fresh = {"activity": str(e.activity), "worked_on": e.worked_on.isoformat(),
                 "notes": e.notes,
                 **{f"hours_{s.household_id}": str(s.hours) for s in e.shifts}}  # fmt: skip
        context = {"section": "log", "view": view, "activities": list(Activity),
                   "today": today(request), "form": shown.form(fresh), "errors": shown.errors,
                   "notice": shown.notice}  # fmt: skip
        return render(request, "manage/corrections/entry.html", context, shown.status_code)

    async def save(form: FormData) -> str:
        fix = corrections.EntryFix(
            activity=str(form.get("activity") or ""),
            worked_on=str(form.get("worked_on") or ""),
            notes=str(form.get("notes") or ""),
            reason=str(form.get("reason") or ""),
            void=form.get("void") == "1",
            hours=dict(posted_by_id(form, "hours_")),
        )
        await corrections.correct_entry(
            manager=manager, entry_id=entry_id, fix=fix, today=today(request), now=now()
        )
        return f"/manage/log/{entry_id}/correct?saved=1"

    return await form_page(request, show=show, save=save, notices=(Conflict,))


PLOT_NAMES = ("code", "x", "y", "w", "h", "area_m2", "reason", "void")


async def correct_plot(request: Request) -> Response:
    manager = require_manager(request)
    plot_id = int_param(request, "plot_id")

    async def show(shown: Shown) -> Response:
        view = await plot_corrections.plot_correction(manager=manager, plot_id=plot_id)
        p, n = view.plot, units.plain_number
        fresh = {"code": p.code, "x": n(p.x_m), "y": n(p.y_m), "w": n(p.w_m), "h": n(p.h_m),
                 "area_m2": n(p.area_m2)}  # fmt: skip
        context = {"section": "fields", "view": view, "form": shown.form(fresh),
                   "errors": shown.errors, "notice": shown.notice}  # fmt: skip
        return render(request, "manage/corrections/plot.html", context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        fix = plot_corrections.PlotFix(**{**values, "void": values["void"] == "1"})
        plot = await plot_corrections.correct_plot(
            manager=manager, plot_id=plot_id, fix=fix, today=today(request), now=now()
        )
        if plot is None:
            return "/manage/corrections?kind=plot"
        return f"/manage/plots/{plot_id}/correct?saved=1"

    return await form_page(request, show=show, save=save, names=PLOT_NAMES, notices=(Conflict,))


async def audit(request: Request) -> Response:
    """Every correction of the cooperative, newest first; ?season= those of its records."""
    manager = require_manager(request)
    seasons, season = await seasons_and_chosen(manager.cooperative_id, season_param(request))
    kind = str(request.query_params.get("kind") or "")
    assert manager.cooperative_id is not None
    rows = await records.page(
        cooperative_id=manager.cooperative_id,
        page=parse_page(request.query_params.get("page")),
        since=season.starts_on if season else None,
        until_exclusive=season.ends_on if season else None,
        kind=kind,
    )
    context = {"section": "log", "rows": rows, "seasons": seasons, "season": season,
               "kind": kind}  # fmt: skip
    return render(request, "manage/corrections/audit.html", context)


routes = [
    Route("/manage/log/{entry_id}/correct", correct_entry, methods=["GET", "POST"],
          name="manage_correct_entry"),
    Route("/manage/plots/{plot_id}/correct", correct_plot, methods=["GET", "POST"],
          name="manage_correct_plot"),
    Route("/manage/corrections", audit, name="manage_corrections"),
]  # fmt: skip
