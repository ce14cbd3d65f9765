"""The farm log in the manager's console, the subscriber's plot page, photos, the trace page."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from farm import units
from farm.accounts.models import User
from farm.errors import NotFound
from farm.fieldwork import lists, plot_choice, rules, services, timeline
from farm.fieldwork.models import Activity, LandTransfer
from farm.fieldwork.photos import MAX_BYTES, MAX_PHOTOS, PhotoStore
from farm.i18n import _
from farm.notifications.services import Unsubscribing
from farm.paging import parse_day_span, parse_page, search_text
from farm.storage import streamed
from farm.web import (
    Shown,
    form_page,
    int_param,
    links,
    manager_list,
    now,
    parse_id,
    posted_by_id,
    render,
    require_manager,
    today,
)

INPUT_LINES = 3


def photo_store(request: Request) -> PhotoStore:
    return PhotoStore(request.app.state.runtime.storage)


async def photo_response(request: Request, name: str, *, public: bool = False) -> Response:
    """The stored photo `name`, or its thumbnail when the address ends in /thumb, as JPEG a
    browser keeps for a day (a shared cache too when `public`). Call it after the access
    check: the photo is streamed from the storage, for a bucket too (a redirect to a
    presigned URL would need the bucket's origin in the CSP's img-src, and would let the
    link be passed on while it lasts)."""
    stored = await photo_store(request).open(name, thumb=request.url.path.endswith("/thumb"))
    if stored is None:  # the row outlived its file (a restore, a lost disk)
        raise NotFound(_("Page not found."))
    cache = "public" if public else "private"
    return streamed(
        stored, media_type="image/jpeg", headers={"Cache-Control": f"{cache}, max-age=86400"}
    )


def unsubscribing(request: Request) -> Unsubscribing:
    """What a bulk mail's unsubscribe link needs (photo mail is bulk)."""
    return Unsubscribing(links=links(request), secret=request.app.state.runtime.secret)


async def read_photos(form: FormData, *, most: int = MAX_PHOTOS) -> list[bytes]:
    """The files chosen in the form's "photos" input, and the form closed: one past `most` of
    them at most, each read to one byte past MAX_BYTES at most (enough to refuse, never the
    whole of a huge file)."""
    files = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    try:
        return [await f.read(MAX_BYTES + 1) for f in files[: most + 1]]
    finally:
        await form.close()


def _work_form(form: FormData, photos: list[bytes], field_id: int) -> services.WorkInputForm:
    return services.WorkInputForm(
        field_id=field_id,
        plot_ids=[p for p in (parse_id(v) for v in form.getlist("plot_ids")) if p is not None],
        whole_field=form.get("whole_field") == "1",
        plot_codes=str(form.get("plot_codes") or ""),
        activity=str(form.get("activity") or ""),
        worked_on=str(form.get("worked_on") or ""),
        notes=str(form.get("notes") or ""),
        inputs=[
            services.InputLine(
                name=str(form.get(f"input_name_{i}") or ""),
                organic=form.get(f"input_organic_{i}") == "1",
                dose=str(form.get(f"input_dose_{i}") or ""),
            )
            for i in range(INPUT_LINES)
        ],
        shifts=[
            services.ShiftLine(household_id=household_id, hours=hours)
            for household_id, hours in posted_by_id(form, "hours_")
        ],
        photos=photos,
    )


# ---- console ----


def _date_problem(days) -> str:
    return _("A date was not understood; write it as YYYY-MM-DD.") if days.problem else ""


household_list = manager_list(
    "fieldwork/households.html",
    section="households",
    name="page",
    lister=lists.household_page,
    dated=True,
)


async def plot_search(request: Request) -> Response:
    """Plots whose code starts with ?q=, for a plot box's suggestions (JSON)."""
    manager = require_manager(request)
    found = await plot_choice.search_plots(
        manager=manager,
        text=search_text(request.query_params.get("q"), limit=20),
        field_id=parse_id(request.query_params.get("field")),
    )
    return JSONResponse(
        {"plots": [{"id": p.id, "code": p.code, "field": p.field} for p in found]},
        headers={"Cache-Control": "private, no-store"},
    )


async def household_form(request: Request) -> Response:
    manager = require_manager(request)
    household_id = (
        int_param(request, "household_id") if "household_id" in request.path_params else None
    )
    household = (
        await services.own_household(manager=manager, household_id=household_id)
        if household_id
        else None
    )
    fields = await services.fields_of(manager=manager)
    values: dict[str, object] = {}
    history: list[LandTransfer] = []
    if household is not None:
        history = await services.land_history(household)
        held = [t for t in history if services.held_on(t, today(request))]
        values = {
            "name": household.name,
            "village": household.village,
            "is_poor": household.is_poor,
            "rent": units.yuan_text(household.rent_fen_per_mu_year),
            "shown_to_subscribers": household.shown_to_subscribers,
            "about": household.about,
            "wage": units.yuan_text(household.wage_fen_per_hour),
            **{f"land_{t.field_id}": str(t.area_m2) for t in held},
        }
    values["land_from"] = today(request).isoformat()

    async def show(shown: Shown) -> Response:
        context = {"section": "households", "household": household, "fields": fields,
                   "history": history, "today": today(request),
                   "form": shown.form(values), "errors": shown.errors}  # fmt: skip
        return render(request, "fieldwork/household_form.html", context, shown.status_code)

    async def save(form: FormData) -> str:
        upload = form.get("picture")
        try:  # one byte past the limit is enough to refuse
            picture = (
                await upload.read(MAX_BYTES + 1)
                if isinstance(upload, UploadFile) and upload.filename
                else b""
            )
        finally:
            await form.close()
        data = services.HouseholdInput(
            name=str(form.get("name") or ""),
            shown_to_subscribers=form.get("shown_to_subscribers") == "1",
            about=str(form.get("about") or ""),
            picture=picture,
            village=str(form.get("village") or ""),
            is_poor=form.get("is_poor") == "1",
            rent_yuan_per_mu=str(form.get("rent") or ""),
            wage_yuan_per_hour=str(form.get("wage") or ""),
            land_from=str(form.get("land_from") or ""),
            land=dict(posted_by_id(form, "land_")),
        )
        await services.save_household(
            manager=manager, household_id=household_id, data=data, today=today(request),
            store=photo_store(request),
        )  # fmt: skip
        return "/manage/households"

    return await form_page(request, show=show, save=save, max_files=1)


async def _log_context(request: Request, manager, field_id: int | None) -> dict:
    fields = await services.fields_of(manager=manager)
    field = next((f for f in fields if f.id == field_id), None)
    params = request.query_params
    days = parse_day_span(params.get("from"), params.get("to"))
    filters = lists.WorkFilter(
        field_id=parse_id(params.get("in_field")),
        activity=str(params.get("activity") or ""),
        days=days,
        household_id=parse_id(params.get("household")),
    )
    return {
        "section": "log",
        "fields": fields,
        "field": field,
        "households": await services.households(manager=manager),
        "activities": [a for a in Activity if a != Activity.VISIT],
        "all_activities": list(Activity),
        "entries": await lists.work_page(
            manager=manager, filters=filters, page=parse_page(params.get("page"))
        ),
        "filters": filters,
        "filter_problem": _date_problem(days),
        "today": today(request),
        "input_lines": range(INPUT_LINES),
        "form": {},
        "errors": {},
    }


async def work_log(request: Request) -> Response:
    manager = require_manager(request)

    async def show(shown: Shown) -> Response:
        posted = shown.posted
        chosen = posted.get("field_id") if posted else request.query_params.get("field")
        context = await _log_context(request, manager, parse_id(chosen))
        context.update(shown.context())
        return render(request, "fieldwork/log.html", context, shown.status_code)

    async def save(form: FormData) -> str:
        field_id = parse_id(form.get("field_id"))
        work = _work_form(form, await read_photos(form), field_id or 0)
        await services.log_work(
            manager=manager, form=work, today=today(request), now=now(),
            store=photo_store(request), unsubscribing=unsubscribing(request),
        )  # fmt: skip
        return f"/manage/log?field={field_id}&saved=1"

    return await form_page(request, show=show, save=save, max_files=MAX_PHOTOS + 1)


async def harvest_context(request: Request, manager: User) -> dict:
    """The harvests page's lists and filters (farm.shipments.harvest_routes serves the page,
    with what happens to a lot's grams)."""
    params = request.query_params
    days = parse_day_span(params.get("from"), params.get("to"))
    filters = lists.HarvestFilter(
        text=search_text(params.get("q"), limit=20),
        crop_id=parse_id(params.get("crop")),
        field_id=parse_id(params.get("in_field")),
        days=days,
    )
    return {
        "section": "harvests",
        "fields": await services.fields_of(manager=manager),
        "crops": await services.crops(cooperative_id=manager.cooperative_id),
        "lots": await lists.harvest_page(
            manager=manager, filters=filters, page=parse_page(params.get("page"))
        ),
        "filters": filters,
        "filter_problem": _date_problem(days),
        "today": today(request),
        "form": {},
        "errors": {},
    }


# ---- photos (a plot's page is farm.story's) ----


async def photo(request: Request) -> Response:
    found = await timeline.photo_for(
        user=request.state.user, photo_id=int_param(request, "photo_id")
    )
    return await photo_response(request, found.file_name)


# ---- public ----


async def trace(request: Request) -> Response:
    code = request.path_params.get("code") or request.query_params.get("code", "")
    if not code:
        return render(request, "fieldwork/trace_lookup.html", {})
    if not rules.is_lot_code(code.strip().upper()) and "code" in request.query_params:
        return render(
            request, "fieldwork/trace_lookup.html", {"code": code, "not_found": True}, 404
        )
    return render(request, "fieldwork/trace.html", {"trace": await timeline.trace(code=code)})


routes = [
    Route("/manage/households", household_list, name="manage_households"),
    Route("/manage/plots/search", plot_search, name="manage_plot_search"),
    Route("/manage/households/new", household_form, methods=["GET", "POST"]),
    Route("/manage/households/{household_id}", household_form, methods=["GET", "POST"]),
    Route("/manage/log", work_log, methods=["GET", "POST"], name="manage_log"),
    Route("/photos/{photo_id}", photo, name="photo"),
    Route("/photos/{photo_id}/thumb", photo, name="photo_thumb"),
    Route("/trace", trace, name="trace_lookup"),
    Route("/trace/{code}", trace, name="trace"),
]
