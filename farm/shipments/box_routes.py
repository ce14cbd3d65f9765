"""The box: the family's page of one shipped box (confirm it arrived, rate it, report a problem
with a photo) and the cooperative's resolution of a report, from the batch page."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import forms
from farm.accounts.models import Role
from farm.errors import DomainError
from farm.fieldwork.photos import MAX_BYTES
from farm.fieldwork.routes import photo_response, photo_store
from farm.shipments import box, box_reports, box_rules
from farm.shipments.console_routes import _batch_response
from farm.web import (
    Shown,
    form_page,
    int_param,
    links,
    now,
    render,
    require_manager,
    require_user,
    today,
)


def _box_url(sub_id: int, shipment_id: int, done: str = "") -> str:
    tail = f"?done={done}" if done else ""
    return f"/account/subscriptions/{sub_id}/boxes/{shipment_id}{tail}"


async def _box_page(request: Request, status_code: int = 200, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    view = await box.box_view(
        customer=customer,
        subscription_id=int_param(request, "sub_id"),
        shipment_id=int_param(request, "shipment_id"),
    )
    context = {
        "view": view,
        "sub": view.subscription,
        "done": request.query_params.get("done", ""),
        "form": {},
        "errors": {},
        "notice": "",
        "ratings": box_rules.RATINGS,
        **extra,
    }
    return render(request, "shipments/box.html", context, status_code)


async def box_page(request: Request) -> Response:
    return await _box_page(request)


def _shown(request: Request):
    async def show(shown: Shown) -> Response:
        posted = {k: v for k, v in (shown.posted or {}).items() if isinstance(v, str)}
        return await _box_page(
            request, shown.status_code, form=posted, errors=shown.errors, notice=shown.notice
        )

    return show


async def arrived(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id, shipment_id = int_param(request, "sub_id"), int_param(request, "shipment_id")

    async def save(values: dict[str, str]) -> str:
        await box.confirm_arrival(
            customer=customer, subscription_id=sub_id, shipment_id=shipment_id, now=now()
        )
        return _box_url(sub_id, shipment_id, "arrived")

    return await form_page(
        request, show=_shown(request), save=save, names=(), notices=(DomainError,)
    )


async def rate(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id, shipment_id = int_param(request, "sub_id"), int_param(request, "shipment_id")

    async def save(values: dict[str, str]) -> str:
        form = forms.Form()
        rating = form.read("rating", box_rules.rating, values["rating"])
        comment = form.read("comment", forms.text, values["comment"],
                            limit=box_rules.COMMENT_CHARS, one_line=False)  # fmt: skip
        form.check()
        assert rating is not None and comment is not None
        await box.rate_box(
            customer=customer, subscription_id=sub_id, shipment_id=shipment_id,
            rating=rating, comment=comment, now=now(),
        )  # fmt: skip
        return _box_url(sub_id, shipment_id, "rated")

    return await form_page(
        request, show=_shown(request), save=save, names=("rating", "comment"),
        notices=(DomainError,),
    )  # fmt: skip


async def problem(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id, shipment_id = int_param(request, "sub_id"), int_param(request, "shipment_id")
    await box.box_view(customer=customer, subscription_id=sub_id, shipment_id=shipment_id)

    async def save(posted: FormData) -> str:
        upload = posted.get("photo")
        try:
            has_file = isinstance(upload, UploadFile) and upload.filename
            data = await upload.read(MAX_BYTES + 1) if has_file else b""  # type: ignore[union-attr]
        finally:
            await posted.close()
        form = forms.Form()
        text = form.read("problem", forms.text, str(posted.get("problem") or ""),
                         limit=box_rules.PROBLEM_CHARS, required=True, one_line=False)  # fmt: skip
        form.check()
        try:
            await box.report_problem(
                customer=customer, subscription_id=sub_id, shipment_id=shipment_id,
                problem=text or "", photo=data or None, store=photo_store(request), now=now(),
            )  # fmt: skip
        except forms.Problem as bad:  # the photo
            form.refuse("photo", bad.message)
            form.check()
        return _box_url(sub_id, shipment_id, "reported")

    return await form_page(
        request, show=_shown(request), save=save, max_files=1, notices=(DomainError,)
    )


async def photo(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    name = await box.report_photo(
        customer=customer,
        subscription_id=int_param(request, "sub_id"),
        shipment_id=int_param(request, "shipment_id"),
    )
    return await photo_response(request, name)


# ---- the cooperative ----


async def resolve(request: Request) -> Response:
    manager = require_manager(request)
    batch_id, report_id = int_param(request, "batch_id"), int_param(request, "report_id")

    async def show(shown: Shown) -> Response:
        refused = {
            "report_errors": {report_id: shown.errors or {"kind": shown.notice}},
            "report_form": {report_id: shown.posted or {}},
        }
        return await _batch_response(request, shown.status_code, **refused)

    async def save(values: dict[str, str]) -> str:
        await box_reports.resolve_report(
            manager=manager, batch_id=batch_id, report_id=report_id, values=values,
            today=today(request), now=now(), gateway=request.app.state.gateway,
            links=links(request),
        )  # fmt: skip
        return f"/manage/shipments/{batch_id}?done=resolved#reports"

    return await form_page(
        request, show=show, save=save, names=("kind", "reply", "credit", "refund"),
        notices=(DomainError,),
    )  # fmt: skip


async def manager_photo(request: Request) -> Response:
    manager = require_manager(request)
    name = await box_reports.manager_report_photo(
        manager=manager,
        batch_id=int_param(request, "batch_id"),
        report_id=int_param(request, "report_id"),
    )
    return await photo_response(request, name)


BOX = "/account/subscriptions/{sub_id}/boxes/{shipment_id}"
REPORT = "/manage/shipments/{batch_id}/reports/{report_id}"
routes = [
    Route(BOX, box_page, name="box"),
    Route(f"{BOX}/arrived", arrived, methods=["POST"]),
    Route(f"{BOX}/rating", rate, methods=["POST"]),
    Route(f"{BOX}/problem", problem, methods=["POST"]),
    Route(f"{BOX}/photo", photo),
    Route(f"{BOX}/photo/thumb", photo),
    Route(f"{REPORT}/resolve", resolve, methods=["POST"]),
    Route(f"{REPORT}/photo", manager_photo),
    Route(f"{REPORT}/photo/thumb", manager_photo),
]
