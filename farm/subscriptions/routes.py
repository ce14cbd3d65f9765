"""Reserve a plot, check out, and manage subscriptions from the account page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.errors import DomainError, FieldErrors, NotFound
from farm.i18n import _
from farm.payments import services as payments
from farm.shipments import services as delivery_services
from farm.subscriptions import rules, services
from farm.subscriptions.models import Status
from farm.web import (
    int_param,
    now,
    parse_id,
    read_form,
    redirect,
    render,
    require_user,
    today,
)

ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "address")


async def reserve(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    plan_id = int_param(request, "plan_id")
    form = await read_form(request)
    raw_plot = str(form.get("plot_id") or "auto")
    plot_id = None if raw_plot == "auto" else parse_id(raw_plot)
    if raw_plot != "auto" and plot_id is None:
        raise NotFound(_("This plot is not offered in this plan."))
    sub = await services.reserve_plot(
        customer=customer,
        plan_id=plan_id,
        plot_id=plot_id,
        today=today(request),
        now=now(),
        minutes=request.app.state.settings.reservation_minutes,
    )
    return redirect(f"/checkout/{sub.id}")


def _address_form(sub) -> dict[str, str]:
    return {name: getattr(sub, name) for name in ADDRESS_FIELDS}


async def _checkout_page(request: Request, sub_id: int, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    view = await services.subscription_view(
        customer=customer, subscription_id=sub_id, today=today(request)
    )
    sub = view.subscription
    if sub.status != Status.PENDING_PAYMENT:
        return redirect(f"/account/subscriptions/{sub.id}")
    payment = None
    if services.has_address(sub) and "errors" not in extra:
        payment = await payments.open_payment(
            customer=customer,
            subscription_id=sub.id,
            gateway=request.app.state.gateway,
            now=now(),
        )
    context = {
        "view": view,
        "sub": sub,
        "payment": payment,
        "gateway": request.app.state.gateway,
        "provinces": rules.PROVINCES,
        "form": _address_form(sub),
        "errors": {},
        **extra,
    }
    return render(request, "subscriptions/checkout.html", context, extra.get("status", 200))


async def checkout(request: Request) -> Response:
    return await _checkout_page(request, int_param(request, "sub_id"))


async def save_address(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    form = await read_form(request)
    values = {name: str(form.get(name) or "") for name in ADDRESS_FIELDS}
    back = str(form.get("back") or "checkout")
    try:
        await services.update_address(
            customer=customer, subscription_id=sub_id, **values, today=today(request)
        )
    except FieldErrors as exc:
        if back == "account":
            return await _subscription_page(
                request, sub_id, form=values, errors=exc.errors, status=422
            )
        return await _checkout_page(request, sub_id, form=values, errors=exc.errors, status=422)
    if back == "account":
        return redirect(f"/account/subscriptions/{sub_id}?saved=1")
    return redirect(f"/checkout/{sub_id}")


async def pay(request: Request) -> Response:
    """Called by the card form's script with the token Stripe.js made of the card."""
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    form = await read_form(request)
    card_id = str(form.get("card_id") or "")
    if not card_id.startswith(("card_", "pm_")) or len(card_id) > 100:
        return JSONResponse({"error": _("Enter your card details.")}, status_code=422)
    try:
        outcome = await payments.pay_with_card(
            customer=customer,
            subscription_id=sub_id,
            card_id=card_id,
            gateway=request.app.state.gateway,
            now=now(),
            base_url=request.app.state.settings.base_url,
        )
    except DomainError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)
    if outcome.status == "declined":
        return JSONResponse({"status": "declined", "error": outcome.message}, status_code=402)
    return JSONResponse(
        {
            "status": outcome.status,
            "client_secret": outcome.client_secret,
            "next": f"/checkout/{sub_id}/return",
        }
    )


async def payment_return(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    sub = await payments.check_return(
        customer=customer,
        subscription_id=sub_id,
        gateway=request.app.state.gateway,
        now=now(),
        base_url=request.app.state.settings.base_url,
    )
    if sub.status == Status.PENDING_PAYMENT:
        return await _checkout_page(
            request, sub_id, notice=_("We have not received your payment yet.")
        )
    return redirect(f"/account/subscriptions/{sub_id}?welcome=1")


async def account(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    views = await services.account_overview(customer=customer, today=today(request))
    return render(request, "subscriptions/account.html", {"views": views})


async def _subscription_page(request: Request, sub_id: int, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    view = await services.subscription_view(
        customer=customer, subscription_id=sub_id, today=today(request)
    )
    deliveries = await delivery_services.delivery_summary(
        subscription=view.subscription, today=today(request)
    )
    context = {
        "view": view,
        "sub": view.subscription,
        "deliveries": deliveries,
        "provinces": rules.PROVINCES,
        "form": _address_form(view.subscription),
        "errors": {},
        "today": today(request),
        "welcome": request.query_params.get("welcome") == "1",
        "saved": request.query_params.get("saved") == "1",
        **extra,
    }
    return render(request, "subscriptions/subscription.html", context, extra.get("status", 200))


async def subscription_page(request: Request) -> Response:
    return await _subscription_page(request, int_param(request, "sub_id"))


async def cancel(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    await read_form(request)
    await services.cancel_subscription(
        customer=customer,
        subscription_id=sub_id,
        today=today(request),
        now=now(),
        gateway=request.app.state.gateway,
    )
    return redirect(f"/account/subscriptions/{sub_id}")


routes = [
    Route("/plans/{plan_id}/reserve", reserve, methods=["POST"], name="reserve"),
    Route("/checkout/{sub_id}", checkout, name="checkout"),
    Route("/checkout/{sub_id}/address", save_address, methods=["POST"], name="address"),
    Route("/checkout/{sub_id}/pay", pay, methods=["POST"], name="pay"),
    Route("/checkout/{sub_id}/return", payment_return, name="payment_return"),
    Route("/account", account, name="account"),
    Route("/account/subscriptions/{sub_id}", subscription_page, name="subscription"),
    Route("/account/subscriptions/{sub_id}/cancel", cancel, methods=["POST"], name="cancel"),
]
