"""The harvests page of the manager's console: fieldwork's lots (recorded by
fieldwork.services.record_harvest), with what shipments decides about their grams: the warning
for a lot harvested too early to keep until the next ship day, and diverting a lot by hand."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import User
from farm.fieldwork import routes as fieldwork_routes
from farm.fieldwork import services
from farm.shipments import diversions
from farm.web import Shown, form_page, int_param, now, parse_id, render, require_manager, today


async def _harvest_page(
    request: Request, manager: User, shown: Shown, prefix: str = ""
) -> Response:
    context = await fieldwork_routes.harvest_context(request, manager)
    logged = request.query_params.get("logged")
    context.update(
        # A lot just logged that would spoil before the next ship day: warn the manager.
        early=await diversions.early_harvest(manager=manager, code=logged) if logged else None,
        divert_reasons=diversions.MANUAL_REASONS,
        divert_lot=None,
        divert_form={},
        divert_errors={},
    )
    context.update(shown.context(prefix))
    if prefix and shown.posted is not None:
        context["divert_lot"] = int_param(request, "lot_id")
    return render(request, "fieldwork/harvests.html", context, shown.status_code)


async def harvests(request: Request) -> Response:
    manager = require_manager(request)

    async def save(form: FormData) -> str:
        lot = await services.record_harvest(
            manager=manager,
            crop_id=parse_id(form.get("crop_id")) or 0,
            target=str(form.get("target") or ""),
            field_id=parse_id(form.get("field_id")),
            plot_code=str(form.get("plot_code") or ""),
            kg=str(form.get("kg") or ""),
            harvested_on=str(form.get("harvested_on") or ""),
            today=today(request),
            now=now(),
            confirmed=form.get("confirm_heavy") == "1",
        )
        return f"/manage/harvests?logged={lot.code}"

    return await form_page(
        request, show=lambda shown: _harvest_page(request, manager, shown), save=save
    )


async def divert_harvest(request: Request) -> Response:
    manager = require_manager(request)
    lot_id = int_param(request, "lot_id")

    async def save(form: FormData) -> str:
        await diversions.divert_lot(
            manager=manager, lot_id=lot_id, kg=str(form.get("kg") or ""),
            reason=str(form.get("reason") or ""), note=str(form.get("note") or ""), now=now(),
        )  # fmt: skip
        return f"/manage/harvests?diverted={lot_id}"

    return await form_page(
        request, show=lambda shown: _harvest_page(request, manager, shown, "divert"), save=save
    )


routes = [
    Route("/manage/harvests", harvests, methods=["GET", "POST"], name="manage_harvests"),
    Route("/manage/harvests/{lot_id}/divert", divert_harvest, methods=["POST"]),
]
