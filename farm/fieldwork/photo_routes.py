"""Field photos in the manager's console (a set uploaded in one go, tagged to plots by tapping
them on the field's map), and a household's photo."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.errors import NotFound
from farm.fieldwork import field_photos, services, timeline
from farm.fieldwork.routes import photo_response, photo_store, read_photos, unsubscribing
from farm.i18n import _
from farm.land.models import Plot
from farm.web import Shown, form_page, int_param, now, parse_id, render, require_manager
from farm.web import today as today_of


async def upload(request: Request) -> Response:
    manager = require_manager(request)
    fields = await services.fields_of(manager=manager)
    chosen = parse_id(request.query_params.get("field"))
    field = next((f for f in fields if f.id == chosen), None)
    if chosen is not None and field is None:  # another cooperative's, or none
        raise NotFound(_("This field does not exist."))
    field = field or (fields[0] if fields else None)
    plots = list(await Plot.filter(field_id=field.id).order_by("y_m", "x_m")) if field else []

    async def show(shown: Shown) -> Response:
        posted = shown.posted.getlist("plot_ids") if shown.posted else []
        context = {"section": "photos", "fields": fields, "field": field, "plots": plots,
                   "today": today_of(request), "form": {}, "errors": {},
                   "tapped": {parse_id(v) for v in posted}, **shown.context()}  # fmt: skip
        return render(request, "fieldwork/photos_upload.html", context, shown.status_code)

    async def save(form: FormData) -> str:
        if field is None:
            raise NotFound(_("This field does not exist."))
        data = field_photos.PhotoSet(
            field_id=field.id,
            plot_ids=[p for p in (parse_id(v) for v in form.getlist("plot_ids")) if p],
            whole_field=form.get("whole_field") == "1",
            sign=form.get("sign") == "1",
            taken_on=str(form.get("taken_on") or ""),
            caption=str(form.get("caption") or ""),
            photos=await read_photos(form, most=field_photos.MAX_SET),
        )
        await field_photos.upload_photos(
            manager=manager, upload=data, today=today_of(request), now=now(),
            store=photo_store(request), unsubscribing=unsubscribing(request),
        )  # fmt: skip
        return f"/manage/photos?field={field.id}&saved=1"

    return await form_page(request, show=show, save=save, max_files=field_photos.MAX_SET + 1)


async def household_picture(request: Request) -> Response:
    """A household's photo: for its cooperative's managers, and, with its consent, for the
    families whose plots it tends."""
    household = await timeline.household_for(
        user=request.state.user, household_id=int_param(request, "household_id")
    )
    return await photo_response(request, household.picture)


routes = [
    Route("/manage/photos", upload, methods=["GET", "POST"], name="manage_photos"),
    Route("/households/{household_id}/picture", household_picture),
    Route("/households/{household_id}/picture/thumb", household_picture),
]
