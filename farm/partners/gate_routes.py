"""The gate, on a partner staff member's phone: the page a voucher's QR code opens, the Redeem
button, typing a code, and today's redemptions. Partner staff only; a customer who opens
their own voucher's QR code is sent to their own voucher page; anyone else gets 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.errors import DomainError, NotFound
from farm.i18n import _
from farm.partners import gate
from farm.partners.models import PartnerKind
from farm.vouchers import rules
from farm.vouchers.services import own_voucher
from farm.web import now, read_form, redirect, render, require_user, timezone_of, today


def _not_found(request: Request, message: str) -> Response:
    """One page for every code the gate cannot show, with a box to type another."""
    return render(request, "partners/gate_not_found.html", {"message": message, "typed": ""}, 404)


async def _voucher_page(
    request: Request, code: str, *, error: str = "", status_code: int = 200
) -> Response:
    staff = require_user(request, Role.PARTNER_STAFF)
    try:
        page = await gate.gate_page(staff=staff, code=code, today=today(request))
    except NotFound as exc:
        return _not_found(request, exc.message)
    just_redeemed = (
        request.query_params.get("redeemed") == "1"
        and page.view.state == rules.VoucherState.REDEEMED
        and page.voucher.redeemed_partner_id == page.view.partner.id
    )
    context = {"page": page, "error": error, "just_redeemed": just_redeemed}
    return render(request, "partners/gate_voucher.html", context, status_code)


async def voucher(request: Request) -> Response:
    """What a voucher's QR code opens."""
    user = require_user(request)
    code = request.path_params["code"]
    if user.role == Role.CUSTOMER:
        view = await own_voucher(customer=user, code=code, today=today(request))
        return redirect(f"/account/vouchers/{view.voucher.code}")
    return await _voucher_page(request, code)


async def redeem(request: Request) -> Response:
    staff = require_user(request, Role.PARTNER_STAFF)
    await read_form(request)
    code = request.path_params["code"]
    try:
        redeemed = await gate.redeem_at_gate(
            staff=staff,
            code=code,
            today=today(request),
            now=now(),
            timezone=timezone_of(request),
        )
    except NotFound as exc:
        return _not_found(request, exc.message)
    except DomainError as exc:  # already redeemed, void, expired, not yet valid, a farm stay
        return await _voucher_page(request, code, error=exc.message, status_code=exc.status_code)
    return redirect(f"/v/{redeemed.code}?redeemed=1")


async def _home(request: Request, *, typed: str = "", error: str = "", status_code: int = 200):
    staff = require_user(request, Role.PARTNER_STAFF)
    partner, redemptions = await gate.todays_redemptions(
        staff=staff, today=today(request), timezone=timezone_of(request)
    )
    context = {
        "partner": partner,
        "redemptions": redemptions,
        "is_guesthouse": partner.kind == PartnerKind.GUESTHOUSE,
        "typed": typed,
        "error": error,
        "today": today(request),
    }
    return render(request, "partners/gate_home.html", context, status_code)


async def home(request: Request) -> Response:
    """The staff home: type a code, today's redemptions here, the bookings for guesthouses."""
    return await _home(request)


async def typed_code(request: Request) -> Response:
    """A code typed at the gate, however it was written: to its voucher page."""
    require_user(request, Role.PARTNER_STAFF)
    typed = request.query_params.get("code", "")
    clean = rules.normalize_code(typed)
    if clean is None:
        message = (
            _("Type the voucher's code: 12 letters and digits, like ABCD-EFGH-JKMN.")
            if not typed.strip()
            else _("This is not a voucher code: it has 12 letters and digits, like ABCD-EFGH-JKMN.")
        )
        return await _home(request, typed=typed[: rules.MAX_INPUT], error=message, status_code=422)
    return redirect(f"/v/{clean}")


routes = [
    Route("/partner", home, name="partner_home"),
    Route("/partner/code", typed_code, name="partner_code"),
    Route("/v/{code}", voucher, name="gate_voucher"),
    Route("/v/{code}/redeem", redeem, methods=["POST"], name="gate_redeem"),
]
