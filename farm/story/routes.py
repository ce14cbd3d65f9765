"""The family's plot: its story page (with the self-tending family's own log form), the
season's summary and the plot's certificate."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role, User
from farm.fieldwork import services as fieldwork
from farm.fieldwork.models import Activity
from farm.fieldwork.photos import MAX_PHOTOS
from farm.fieldwork.routes import INPUT_LINES, _work_form, photo_store, read_photos
from farm.story import certificate, page, summary
from farm.web import Shown, form_page, int_param, now, pdf_response, render, require_user, today


async def _plot_page(request: Request, customer: User, sub_id: int, shown: Shown) -> Response:
    story = await page.plot_story(customer=customer, subscription_id=sub_id, today=today(request))
    context = {"story": story, "page": story.plot, "sub": story.subscription,
               "activities": list(Activity), "today": today(request), "form": {},
               "errors": {}, "input_lines": range(INPUT_LINES), **shown.context()}  # fmt: skip
    return render(request, "story/plot.html", context, shown.status_code)


async def plot_page(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    return await _plot_page(request, customer, int_param(request, "sub_id"), Shown())


async def log_own_work(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")

    async def save(form: FormData) -> str:
        work = _work_form(form, await read_photos(form), 0)
        await fieldwork.log_own_work(
            customer=customer, subscription_id=sub_id, form=work, today=today(request),
            now=now(), store=photo_store(request),
        )  # fmt: skip
        return f"/account/subscriptions/{sub_id}/plot"

    return await form_page(
        request,
        show=lambda shown: _plot_page(request, customer, sub_id, shown),
        save=save,
        max_files=MAX_PHOTOS + 1,
    )


async def season_summary(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    found = await summary.season_summary(
        customer=customer, subscription_id=int_param(request, "sub_id"), today=today(request)
    )
    return render(request, "story/summary.html", {"summary": found, "sub": found.subscription})


async def plot_certificate(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    found = await summary.season_summary(
        customer=customer, subscription_id=sub_id, today=today(request)
    )
    pdf = await certificate.certificate_pdf(found, issued_on=today(request).isoformat())
    return pdf_response(pdf, f"plot-certificate-{sub_id}.pdf")


routes = [
    Route("/account/subscriptions/{sub_id}/plot", plot_page, name="plot_page"),
    Route("/account/subscriptions/{sub_id}/plot/log", log_own_work, methods=["POST"]),
    Route("/account/subscriptions/{sub_id}/season", season_summary, name="season_summary"),
    Route(
        "/account/subscriptions/{sub_id}/certificate.pdf", plot_certificate, name="plot_certificate"
    ),  # fmt: skip
]
