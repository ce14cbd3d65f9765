"""A ship day's packing list and labels (PDF, for the cooperative's managers), and the public
page a box's QR code opens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.shipments import packing
from farm.web import int_param, now, render, require_manager


def _pdf(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",  # addresses and phone numbers
        },
    )


async def packing_list(request: Request) -> Response:
    user = require_manager(request)
    batch = await packing.manager_batch(user=user, batch_id=int_param(request, "batch_id"))
    settings = request.app.state.settings
    body = await packing.packing_list_pdf(batch=batch, now=now(), timezone=settings.timezone)
    return _pdf(body, f"packing-{batch.ship_on.isoformat()}.pdf")


async def labels(request: Request) -> Response:
    user = require_manager(request)
    batch = await packing.manager_batch(user=user, batch_id=int_param(request, "batch_id"))
    settings = request.app.state.settings
    body = await packing.labels_pdf(
        batch=batch, secret=settings.secret_key, base_url=settings.base_url
    )
    return _pdf(body, f"labels-{batch.ship_on.isoformat()}.pdf")


async def box_trace(request: Request) -> Response:
    trace = await packing.box_trace(
        secret=request.app.state.settings.secret_key, token=request.path_params["token"]
    )
    return render(request, "fieldwork/trace_box.html", {"box": trace})


routes = [
    Route("/manage/shipments/{batch_id}/packing.pdf", packing_list, name="packing_list"),
    Route("/manage/shipments/{batch_id}/labels.pdf", labels, name="packing_labels"),
    Route("/trace/box/{token}", box_trace, name="box_trace"),
]
