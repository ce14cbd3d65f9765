"""A ship day's packing lists and labels (PDF files the scheduler made, for the cooperative's
managers: never drawn in a request), and the public page a box's QR code opens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.shipments import documents, packing
from farm.shipments.console import own_batch
from farm.shipments.models import DocumentKind
from farm.storage import Stored, streamed
from farm.web import int_param, now, read_form, redirect, render, require_manager


def _pdf(stored: Stored, name: str) -> Response:
    return streamed(
        stored,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",  # addresses and phone numbers
        },
    )


async def _whole(request: Request, kind: str, name: str) -> Response:
    """The old single-file address: the file itself when the batch's paper is one part of
    that kind (a small batch on one field), else the parts on the batch page."""
    user = require_manager(request)
    batch_id = int_param(request, "batch_id")
    part = await documents.only_part(manager=user, batch_id=batch_id, kind=kind)
    if part is None:
        return redirect(f"/manage/shipments/{batch_id}#documents")
    batch = await own_batch(manager=user, batch_id=batch_id)
    stored, _name = await documents.document_file(
        manager=user,
        batch_id=batch_id,
        part_id=part.id,
        storage=request.app.state.runtime.storage,
    )
    return _pdf(stored, f"{name}-{batch.ship_on.isoformat()}.pdf")


async def packing_list(request: Request) -> Response:
    return await _whole(request, DocumentKind.PACKING, "packing")


async def labels(request: Request) -> Response:
    return await _whole(request, DocumentKind.LABELS, "labels")


async def document(request: Request) -> Response:
    user = require_manager(request)
    stored, name = await documents.document_file(
        manager=user,
        batch_id=int_param(request, "batch_id"),
        part_id=int_param(request, "part_id"),
        storage=request.app.state.runtime.storage,
    )
    return _pdf(stored, name)


async def remake(request: Request) -> Response:
    user = require_manager(request)
    batch_id = int_param(request, "batch_id")
    await read_form(request)  # the CSRF check
    await documents.remake_documents(
        manager=user, batch_id=batch_id, storage=request.app.state.runtime.storage, now=now()
    )
    return redirect(f"/manage/shipments/{batch_id}?done=remake#documents")


async def box_trace(request: Request) -> Response:
    trace = await packing.box_trace(
        secret=request.app.state.settings.secret_key, token=request.path_params["token"]
    )
    return render(request, "fieldwork/trace_box.html", {"box": trace})


routes = [
    Route("/manage/shipments/{batch_id}/packing.pdf", packing_list, name="packing_list"),
    Route("/manage/shipments/{batch_id}/labels.pdf", labels, name="packing_labels"),
    Route("/manage/shipments/{batch_id}/documents/{part_id}.pdf", document, name="document"),
    Route("/manage/shipments/{batch_id}/documents/remake", remake, methods=["POST"]),
    Route("/trace/box/{token}", box_trace, name="box_trace"),
]
