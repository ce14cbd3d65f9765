"""The gift's pages: the giver's card (a page and its PDF), and the claim page where its
recipient types the code (or arrives from the QR code), logs in or signs up, and gives the
delivery address. Chosen at checkout: farm/lifecycle/routes.py's gift form."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.errors import Conflict, FieldErrors, NotFound
from farm.gifts import card, services
from farm.i18n import _, localized
from farm.qr import qr_svg
from farm.subscriptions import rules as subscription_rules
from farm.web import (
    Shown,
    client_address,
    form_page,
    int_param,
    links,
    now,
    pdf_response,
    render,
    require_user,
)

CLAIM_FIELDS = ("code", *services.ADDRESS_FIELDS)


def _claim_url(request: Request, code: str) -> str:
    return links(request).to(services.claim_path(quote(code)))


async def card_page(request: Request) -> Response:
    giver = require_user(request, Role.CUSTOMER)
    view = await services.own_gift(giver=giver, gift_id=int_param(request, "gift_id"))
    code = services.code_of(view.gift, secret=request.app.state.runtime.secret)
    url = _claim_url(request, code)
    qr = qr_svg(url, size_px=200, label=_("QR code of the claim page"))
    context = {
        "view": view, "gift": view.gift, "sub": view.gift.subscription,
        "code": code if view.claimable else "", "claim_url": url,
        "qr": qr if view.claimable else None,
    }  # fmt: skip
    return render(request, "gifts/card.html", context)


async def card_file(request: Request) -> Response:
    giver = require_user(request, Role.CUSTOMER)
    gift_id = int_param(request, "gift_id")
    view = await services.own_gift(giver=giver, gift_id=gift_id)
    if not view.claimable:
        raise NotFound(_("This gift has no card to print any more."))
    gift, sub = view.gift, view.gift.subscription
    code = services.code_of(gift, secret=request.app.state.runtime.secret)
    coop = sub.season.cooperative
    pdf = await card.card_pdf(
        card.CardText(
            name=gift.recipient_name,
            message=gift.message,
            plot_code=sub.plot.code,
            cooperative=coop.name,
            cooperative_en=coop.name_en or coop.name,
            season=sub.season.name,
            season_en=sub.season.name_en or sub.season.name,
            claim_by=gift.claim_by.isoformat() if gift.claim_by else "",
            code=code,
            claim_url=_claim_url(request, code),
        )  # fmt: skip
    )
    return pdf_response(pdf, f"gift-card-{gift_id}.pdf")


async def claim(request: Request) -> Response:
    """GET: the claim page (a visitor is asked to log in or sign up, and comes back here
    with the code); with ?code= for a signed-in customer, what the gift is. POST: claim."""
    user = request.state.user
    if user is not None and user.role != Role.CUSTOMER:
        raise NotFound(_("Page not found."))
    typed = request.query_params.get("code", "")[:40]

    async def show(shown: Shown) -> Response:
        form = dict(shown.form({"code": typed}))
        errors = dict(shown.errors)
        found, problem = None, shown.notice
        status = shown.status_code
        code = str(form.get("code") or "")
        if user is not None and code and not errors and shown.posted is None:
            try:
                found = await services.find_gift(code=code, client=client_address(request),
                                                 now=now())  # fmt: skip
            except FieldErrors as exc:
                errors, status = exc.errors, exc.status_code
            else:
                problem = services.refusal(found, customer=user)
        here = services.claim_path(quote(code)) if code else services.claim_path()
        context = {
            "form": form, "errors": errors, "gift": found, "problem": problem,
            "provinces": subscription_rules.PROVINCES, "next": here,
            "season_name": localized(found.subscription.season.name,
                                     found.subscription.season.name_en) if found else "",
        }  # fmt: skip
        return render(request, "gifts/claim.html", context, status)

    async def save(values: dict[str, str]) -> str:
        customer = require_user(request, Role.CUSTOMER)
        sub = await services.claim_gift(
            customer=customer, client=client_address(request), now=now(), links=links(request),
            **values,
        )  # fmt: skip
        return f"/account/subscriptions/{sub.id}?claimed=1"

    if request.method == "POST":
        require_user(request, Role.CUSTOMER)
    return await form_page(request, show=show, save=save, names=CLAIM_FIELDS,
                           notices=(Conflict,))  # fmt: skip


routes = [
    Route("/gift", claim, methods=["GET", "POST"], name="gift_claim"),
    Route("/account/gifts/{gift_id}", card_page, name="gift_card"),
    Route("/account/gifts/{gift_id}/card.pdf", card_file, name="gift_card_pdf"),
]
