"""The manager's payments page: ?list=attention|refunds|disputes, ?page=; a failed refund tried
again at Stripe, and a refund recorded as paid outside Stripe (bad input: 422, nothing saved)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.paging import parse_page
from farm.payments import console
from farm.payments.models import ManualMethod
from farm.web import Shown, form_page, int_param, now, read_form, redirect, render, require_manager

MANUAL_NAMES = ("amount", "method", "note")


def _back(shown: str, page: int, done: str) -> str:
    shown = shown if shown in console.LISTS else "attention"
    return f"/manage/payments?list={shown}&page={page}&done={done}"


async def _page(request: Request, *, shown: str, page: int, status_code: int = 200,
                **extra: Any) -> Response:  # fmt: skip
    manager = require_manager(request)
    view = await console.payments_page(manager=manager, shown=shown, page=page, now=now())
    context = {
        "section": "payments", "page": view, "methods": list(ManualMethod),
        "status_name": console.refund_status_name, "reason_name": console.refund_reason_name,
        "method_name": console.manual_method_name, "failure_name": console.refund_failure_name,
        "dispute_reason": console.dispute_reason_name,
        "dispute_status": console.dispute_status_name, "done": request.query_params.get("done", ""),
        "errors": {}, "form": {}, "refused": None, **extra,
    }  # fmt: skip
    return render(request, "manage/payments.html", context, status_code=status_code)


async def payments(request: Request) -> Response:
    return await _page(
        request,
        shown=str(request.query_params.get("list") or "attention"),
        page=parse_page(request.query_params.get("page")),
    )


async def retry(request: Request) -> Response:
    manager = require_manager(request)
    refund_id = int_param(request, "refund_id")
    form = await read_form(request)
    await console.retry_refund(
        manager=manager, refund_id=refund_id, now=now(), gateway=request.app.state.gateway
    )
    return redirect(_back(str(form.get("list") or ""), parse_page(form.get("page")), "retried"))


async def record_manual(request: Request) -> Response:
    manager = require_manager(request)
    refund_id = int_param(request, "refund_id")

    async def show(shown: Shown) -> Response:  # a refused form: this route takes POSTs
        posted = shown.posted or {}
        return await _page(
            request, shown=str(posted.get("list") or ""), page=parse_page(posted.get("page")),
            status_code=shown.status_code, refused=refund_id, **shown.context(),
        )  # fmt: skip

    async def save(values: dict[str, str]) -> str:
        manual = {name: values[name] for name in MANUAL_NAMES}
        await console.record_manual_refund(
            manager=manager, refund_id=refund_id, now=now(), **manual
        )
        return _back(values["list"], parse_page(values["page"]), "recorded")

    return await form_page(request, show=show, save=save, names=(*MANUAL_NAMES, "list", "page"))


routes = [
    Route("/manage/payments", payments, name="manage_payments"),
    Route("/manage/payments/refunds/{refund_id}/retry", retry, methods=["POST"]),
    Route("/manage/payments/refunds/{refund_id}/manual", record_manual, methods=["POST"]),
]
