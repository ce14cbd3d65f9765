"""The manager's shipment console: batches, a batch's boxes (packed, shipped, tracking CSV),
the transit table. Diverting a harvest lot by hand is on the harvests page (harvest_routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.csvfiles import csv_response
from farm.errors import DomainError, NotFound
from farm.i18n import _
from farm.paging import parse_day_span, parse_page, search_text
from farm.parsing import parse_id
from farm.shipments import box_reports, console, couriers, dispatch, documents
from farm.shipments.models import DiversionReason, ShipmentStatus
from farm.shipments.rules import shipment_number
from farm.shipments.tracking_csv import MAX_BYTES
from farm.web import (
    Shown,
    form_page,
    int_param,
    links,
    now,
    read_form,
    redirect,
    render,
    require_manager,
    today,
)

MAX_PROBLEMS_SHOWN = 200


async def batches(request: Request) -> Response:
    manager = require_manager(request)
    params = request.query_params
    days = parse_day_span(params.get("from"), params.get("to"))
    summaries = await console.batch_summaries(
        manager=manager, page=parse_page(params.get("page")), days=days
    )
    return render(
        request,
        "shipments/manage_batches.html",
        {
            "section": "shipments",
            "summaries": summaries,
            "days": days,
            "filter_problem": _("A date was not understood; write it as YYYY-MM-DD.")
            if days.problem
            else "",
            "coming": await console.coming_ship_days(manager=manager, today=today(request)),
            "manual": await console.manual_diversions(manager=manager),
            "reasons": list(DiversionReason),
        },
    )


async def _batch_response(request: Request, status_code: int = 200, **extra) -> Response:
    manager = require_manager(request)
    view = await console.batch_page(
        manager=manager,
        batch_id=int_param(request, "batch_id"),
        page=parse_page(request.query_params.get("page")),
        status=request.query_params.get("status", ""),
        text=search_text(request.query_params.get("q"), limit=40),
    )
    context = {
        "section": "shipments",
        "view": view,
        "statuses": list(ShipmentStatus),
        "today": today(request),
        "row_errors": {},
        "row_form": {},
        "problems": [],
        "problem_message": dispatch.problem_message,
        "max_problems": MAX_PROBLEMS_SHOWN,
        "max_kb": MAX_BYTES // 1000,
        "couriers": await couriers.active_couriers(manager.cooperative_id),
        "documents": await documents.batch_documents(
            manager=manager,
            batch_id=view.batch.id,
            page=parse_page(request.query_params.get("parts_page")),
        ),
        "reports": await box_reports.batch_reports(
            manager=manager,
            batch_id=view.batch.id,
            page=parse_page(request.query_params.get("reports_page")),
        ),
        "box_number": shipment_number,
        "report_errors": {},
        "report_form": {},
        **extra,
    }
    return render(request, "shipments/manage_batch.html", context, status_code=status_code)


async def batch(request: Request) -> Response:
    return await _batch_response(request)


def _back(request: Request, form, done: str) -> Response:
    return redirect(_back_to(request, form, done))


def _back_to(request: Request, form, done: str) -> str:
    """The page and filter the form was sent from."""
    query = {"page": parse_page(form.get("page")), "done": done}
    if str(form.get("status") or "") in set(ShipmentStatus):
        query["status"] = str(form.get("status"))
    if text := search_text(form.get("q"), limit=40):
        query["q"] = text
    return f"/manage/shipments/{request.path_params['batch_id']}?{urlencode(query)}"


async def pack(request: Request) -> Response:
    manager = require_manager(request)
    batch_id = int_param(request, "batch_id")
    form = await read_form(request)
    await dispatch.mark_packed(
        manager=manager,
        batch_id=batch_id,
        shipment_id=parse_id(form.get("shipment_id")) or 0,
        now=now(),
    )
    return _back(request, form, "packed")


async def pack_all(request: Request) -> Response:
    manager = require_manager(request)
    batch_id = int_param(request, "batch_id")
    form = await read_form(request)
    await dispatch.mark_all_packed(manager=manager, batch_id=batch_id, now=now())
    return _back(request, form, "packed_all")


async def close_unsent(request: Request) -> Response:
    """Close a past ship day's boxes that never went, with the reason families read."""
    manager = require_manager(request)
    batch_id = int_param(request, "batch_id")
    form = await read_form(request)
    await dispatch.close_unsent(
        manager=manager, batch_id=batch_id, reason=str(form.get("reason") or ""),
        today=today(request), now=now(),
    )  # fmt: skip
    return _back(request, form, "closed")


async def ship(request: Request) -> Response:
    manager = require_manager(request)
    batch_id = int_param(request, "batch_id")

    async def show(shown: Shown) -> Response:  # a refused row: this route takes POSTs
        row = parse_id((shown.posted or {}).get("shipment_id")) or 0
        refused = {"row_errors": {row: shown.errors}, "row_form": {row: shown.posted}}
        return await _batch_response(request, shown.status_code, **refused)

    async def save(form: FormData) -> str:
        await dispatch.mark_shipped(
            manager=manager,
            batch_id=batch_id,
            shipment_id=parse_id(form.get("shipment_id")) or 0,
            courier=str(form.get("courier") or ""),
            tracking_no=str(form.get("tracking_no") or ""),
            links=links(request),
            now=now(),
        )
        return _back_to(request, form, "shipped")

    return await form_page(request, show=show, save=save)


async def upload_tracking(request: Request) -> Response:
    manager = require_manager(request)
    batch_id = int_param(request, "batch_id")
    await console.own_batch(manager=manager, batch_id=batch_id)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BYTES + 64_000:  # the file and its envelope
        raise DomainError(_("The file is too large: at most 1 MB."), status_code=413)

    async def show(shown: Shown) -> Response:  # a refused file: this route takes POSTs
        refused = shown.refused
        problems = refused.problems if isinstance(refused, dispatch.TrackingFileErrors) else []
        return await _batch_response(request, shown.status_code, problems=problems)

    async def save(form: FormData) -> str:
        upload = form.get("file")
        try:
            data = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
        finally:
            await form.close()
        shipped = await dispatch.apply_tracking_csv(
            manager=manager, batch_id=batch_id, data=data, links=links(request), now=now()
        )
        return f"/manage/shipments/{batch_id}?{urlencode({'uploaded': shipped})}"

    return await form_page(request, show=show, save=save, max_files=1)


async def transit(request: Request) -> Response:
    manager = require_manager(request)

    def typed(form: Mapping[str, Any]) -> dict[str, str]:
        return {k.removeprefix("days_"): str(v) for k, v in form.items() if k.startswith("days_")}

    async def show(shown: Shown) -> Response:
        posted = typed(shown.posted) if shown.posted is not None else None
        rows = await console.transit_rows(manager=manager, typed=posted)
        context = {"section": "shipments", "errors": shown.errors, "rows": rows,
                   "saved": "saved" in request.query_params}  # fmt: skip
        return render(request, "shipments/manage_transit.html", context, shown.status_code)

    async def save(form: FormData) -> str:
        await console.save_transit_table(manager=manager, days=typed(form))
        return "/manage/shipments/transit?saved=1"

    return await form_page(request, show=show, save=save)


async def addresses(request: Request) -> Response:
    """The batch's boxes still to ship, as a CSV for a courier's bulk-order upload."""
    manager = require_manager(request)
    raw = request.query_params.get("courier")
    courier_id = parse_id(raw) if raw else None
    if raw and courier_id is None:
        raise NotFound(_("This courier is not on your list."))
    stream = await couriers.addresses_csv(
        manager=manager, batch_id=int_param(request, "batch_id"), courier_id=courier_id
    )
    return csv_response(stream)


routes = [
    Route("/manage/shipments", batches, name="manage_shipments"),
    Route("/manage/shipments/transit", transit, methods=["GET", "POST"], name="manage_transit"),
    Route("/manage/shipments/{batch_id}", batch, name="manage_batch"),
    Route("/manage/shipments/{batch_id}/pack", pack, methods=["POST"]),
    Route("/manage/shipments/{batch_id}/pack-all", pack_all, methods=["POST"]),
    Route("/manage/shipments/{batch_id}/ship", ship, methods=["POST"]),
    Route("/manage/shipments/{batch_id}/close", close_unsent, methods=["POST"]),
    Route("/manage/shipments/{batch_id}/tracking", upload_tracking, methods=["POST"]),
    Route("/manage/shipments/{batch_id}/addresses.csv", addresses, name="manage_addresses"),
]
