"""The customer's vouchers: the list of one subscription's, and one voucher with its QR code."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.qr import qr_svg
from farm.vouchers import services
from farm.web import int_param, links, render, require_user, today

QR_SIZE_PX = 240


async def subscription_vouchers(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub, views = await services.subscription_vouchers(
        customer=customer, subscription_id=int_param(request, "sub_id"), today=today(request)
    )
    return render(request, "vouchers/list.html", {"sub": sub, "views": views})


async def voucher_page(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    view = await services.own_voucher(
        customer=customer, code=request.path_params["code"], today=today(request)
    )
    qr = None
    if view.shows_qr:
        url = links(request).voucher_scan(view.voucher.code)
        qr = qr_svg(url, size_px=QR_SIZE_PX, label=view.display_code)
    return render(request, "vouchers/voucher.html", {"view": view, "qr": qr})


routes = [
    Route(
        "/account/subscriptions/{sub_id}/vouchers",
        subscription_vouchers,
        name="subscription_vouchers",
    ),
    Route("/account/vouchers/{code}", voucher_page, name="voucher"),
]
