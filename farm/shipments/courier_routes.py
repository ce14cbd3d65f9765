"""The console's couriers: the list, a new courier, a courier's page (edit or retire). Each
route reads the form, calls farm.shipments.couriers, and renders or redirects; bad input is
shown beside its field (422)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.paging import parse_page, search_text
from farm.shipments import couriers
from farm.shipments.couriers import CourierInput
from farm.shipments.models import Courier
from farm.web import (
    Shown,
    form_page,
    form_template,
    int_param,
    read_form,
    redirect,
    render,
    require_manager,
)

NAMES = ("name", "name_en", "tracking_url", "privacy_waybill", "retired")
TEMPLATE = "shipments/manage_courier.html"


async def couriers_page(request: Request) -> Response:
    manager = require_manager(request)
    text = search_text(request.query_params.get("q"))
    rows = await couriers.list_couriers(
        manager=manager, text=text, page=parse_page(request.query_params.get("page"))
    )
    context = {"section": "shipments", "couriers": rows, "q": text,
               "masked": await couriers.labels_mask_phone(manager)}  # fmt: skip
    return render(request, "shipments/manage_couriers.html", context)


async def labels(request: Request) -> Response:
    """Whether the box labels print the whole mobile or hide its middle digits."""
    manager = require_manager(request)
    form = await read_form(request)
    await couriers.set_labels_mask_phone(manager, form.get("labels_mask_phone") == "1")
    return redirect("/manage/couriers?saved=1")


def _form(courier: Courier) -> dict[str, str]:
    return {
        "name": courier.name,
        "name_en": courier.name_en,
        "tracking_url": courier.tracking_url,
        "privacy_waybill": "1" if courier.privacy_waybill else "",
        "retired": "1" if courier.retired else "",
    }


async def courier_new(request: Request) -> Response:
    manager = require_manager(request)

    async def save(values: dict[str, str]) -> str:
        await couriers.create_courier(manager=manager, data=CourierInput(**values))
        return "/manage/couriers?saved=1"

    context = {"section": "shipments", "courier": None, "form": {"privacy_waybill": "1"},
               "errors": {}}  # fmt: skip
    return await form_template(request, TEMPLATE, context, save=save, names=NAMES)


async def courier_page(request: Request) -> Response:
    manager = require_manager(request)
    courier_id = int_param(request, "courier_id")

    async def show(shown: Shown) -> Response:
        courier = await couriers.own_courier(manager=manager, courier_id=courier_id)
        context = {"section": "shipments", "courier": courier,
                   "form": shown.form(_form(courier)), "errors": shown.errors}  # fmt: skip
        return render(request, TEMPLATE, context, shown.status_code)

    async def save(values: dict[str, str]) -> str:
        await couriers.update_courier(
            manager=manager, courier_id=courier_id, data=CourierInput(**values)
        )
        return "/manage/couriers?saved=1"

    return await form_page(request, show=show, save=save, names=NAMES)


routes = [
    Route("/manage/couriers", couriers_page, name="manage_couriers"),
    Route("/manage/couriers/labels", labels, methods=["POST"], name="manage_courier_labels"),
    Route("/manage/couriers/new", courier_new, methods=["GET", "POST"], name="manage_courier_new"),
    Route(
        "/manage/couriers/{courier_id}",
        courier_page,
        methods=["GET", "POST"],
        name="manage_courier",
    ),  # fmt: skip
]
