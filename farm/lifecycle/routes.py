"""The customer's subscription pages: reserve a plot, check out, follow the payment, see and
cancel subscriptions from the account page; and Stripe's webhook (verify the signature, apply
the event once, activate what was paid)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from farm.accounts import counters
from farm.accounts.models import Role
from farm.announcements import services as announcements
from farm.cropplans import choosing
from farm.errors import Conflict, DomainError, NotFound
from farm.gifts import services as gifts
from farm.i18n import _
from farm.land import services as land_services
from farm.lifecycle import activation, cancellation
from farm.lifecycle import checkout as paying
from farm.payments import rules as refund_rules
from farm.payments import services as payments
from farm.payments.declines import method_name
from farm.payments.gateway import CARD, METHODS, BadSignature, PaymentProviderError
from farm.qr import qr_svg
from farm.renewals import services as renewals
from farm.shipments import box
from farm.shipments import services as delivery_services
from farm.subscriptions import rules, services
from farm.subscriptions.models import Status
from farm.web import (
    Shown,
    client_address,
    form_page,
    int_param,
    links,
    now,
    parse_id,
    read_form,
    read_user_now,
    reads_its_own_user,
    redirect,
    render,
    require_user,
    session_token,
    today,
    wants_json,
)

ADDRESS_FIELDS = services.ADDRESS_FIELDS


@reads_its_own_user
async def reserve(request: Request) -> Response:
    settings = request.app.state.settings
    hold = services.HoldRules(
        require_confirmed=settings.confirms_email, relapse_minutes=settings.relapse_minutes
    )
    token = session_token(request)
    if token is not None:  # the flash sale's path: the session's customer checked in SQL
        try:
            plan_id = int_param(request, "plan_id")
            plot_id = await _plot_asked(request)
        except DomainError:  # refused: say why as the full path would (log in first...)
            await read_user_now(request)
            require_user(request, Role.CUSTOMER)
            raise
        sub_id = await services.reserve_for_session(
            session_token=token, plan_id=plan_id, plot_id=plot_id, today=today(request),
            now=now(), minutes=settings.reservation_minutes, hold=hold,
            limit=_address_limit(request),  # counted in the same statement
        )  # fmt: skip
        if sub_id is not None:
            return redirect(f"/checkout/{sub_id}")
        if await services.sold_out(
            plan_id=plan_id, plot_id=plot_id, today=today(request), now=now()
        ):
            await read_user_now(request)
            customer = require_user(request, Role.CUSTOMER)
            if not (hold.require_confirmed and customer.email_confirmed_at is None):
                raise Conflict(services.plan_full_message())
    await read_user_now(request)
    customer = require_user(request, Role.CUSTOMER)
    plan_id = int_param(request, "plan_id")
    plot_id = await _plot_asked(request)
    taken = await _count_reservation(request)
    try:
        sub = await services.reserve_plot(
            customer=customer, plan_id=plan_id, plot_id=plot_id, today=today(request),
            now=now(), minutes=settings.reservation_minutes, hold=hold,
        )  # fmt: skip
    except services.EmailNotConfirmed:
        await counters.uncount(*taken)
        return render(request, "accounts/confirm_needed.html", {"sent": False}, 403)
    except services.PlotTaken:
        await counters.uncount(*taken)
        return redirect(f"/plans/{plan_id}?taken={plot_id}#plot-taken")
    except DomainError:
        await counters.uncount(*taken)  # only reservations made count
        raise
    return redirect(f"/checkout/{sub.id}")


RESERVATION_WINDOW = timedelta(hours=1)
RESERVE_ADDRESS = "reserve-address"  # the window_counts kind of reservations per address


def _address_limit(request: Request) -> counters.Limit | None:
    """The client address's reservations this hour, for the one-statement reservation to
    count itself (None when there is no limit). Refused there, the full path counts again and
    says so (_count_reservation)."""
    free = request.app.state.settings.reservations_per_address
    if not free:
        return None
    return counters.limit(
        RESERVE_ADDRESS, client_address(request), free=free, window=RESERVATION_WINDOW, now=now()
    )


async def _count_reservation(request: Request) -> list[counters.Counted]:
    """Count a reservation against the client's address (FARM_RESERVATIONS_PER_ADDRESS an
    hour) before it is made, in one atomic statement, so that concurrent ones count each
    other; 429 past the limit."""
    free = request.app.state.settings.reservations_per_address
    if not free:
        return []
    refused = _("Too many plots were reserved from your network. Try again in %(minutes)d minutes.")
    try:
        return [
            await counters.count(
                RESERVE_ADDRESS,
                client_address(request),
                free=free,
                window=RESERVATION_WINDOW,
                now=now(),
                refused=refused,
            )  # fmt: skip
        ]
    except DomainError:
        await read_user_now(request)  # the page that says so shows who is signed in
        raise


async def _plot_asked(request: Request) -> int | None:
    """The plot the form asks for (CSRF checked), or None to pick one."""
    form = await read_form(request)
    raw_plot = str(form.get("plot_id") or "auto")
    plot_id = None if raw_plot == "auto" else parse_id(raw_plot)
    if raw_plot != "auto" and plot_id is None:
        raise NotFound(_("This plot is not offered in this plan."))
    return plot_id


def _address_form(sub) -> dict[str, str]:
    return {name: getattr(sub, name) for name in ADDRESS_FIELDS}


async def _checkout_page(request: Request, sub_id: int, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    again = await services.lapsed_hold(
        customer=customer, subscription_id=sub_id, today=today(request), now=now(),
        relapse_minutes=request.app.state.settings.relapse_minutes,
    )  # fmt: skip
    if again is not None:  # the hold ran out: reserve again, not a dead end
        status = 409 if extra.get("status", 200) >= 400 else 200
        return render(request, "subscriptions/lapsed.html", {"again": again}, status)
    view = await services.subscription_view(
        customer=customer, subscription_id=sub_id, today=today(request)
    )
    sub = view.subscription
    if sub.status != Status.PENDING_PAYMENT:
        return redirect(f"/account/subscriptions/{sub.id}")
    last = await payments.last_attempt(subscription_id=sub.id)
    chosen = request.query_params.get("method", "")
    form, saved_from = _address_form(sub), ""
    if not services.has_address(sub) and "form" not in extra:  # a second purchase
        found = await services.saved_address(customer=customer, besides=sub.id)
        if found is not None:
            saved_from, form = found
    context = {
        "view": view,
        "sub": sub,
        "renewal": await renewals.renewal_of(subscription_id=sub.id),
        "ready": services.has_address(sub) and "errors" not in extra,
        "method": chosen if chosen in METHODS else (last.method if last else CARD),
        "failure": payments.failure_message(last) if last and last.status == "failed" else "",
        "gateway": request.app.state.gateway,
        "provinces": rules.PROVINCES,
        "form": form,
        "saved_from": saved_from,
        "errors": {},
        "gift": await gifts.gift_of(sub.id),
        "gift_form": {},
        "gift_errors": {},
        **extra,
    }
    context["refund_rules"] = refund_rules  # refund windows, stated before payment
    return render(request, "subscriptions/checkout.html", context, extra.get("status", 200))


async def checkout(request: Request) -> Response:
    return await _checkout_page(request, int_param(request, "sub_id"))


async def save_address(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")

    async def show(shown: Shown) -> Response:  # a refused address: this route takes POSTs
        on_account = (shown.posted or {}).get("back") == "account"
        page = _subscription_page if on_account else _checkout_page
        context = {**shown.context(), "address_notice": shown.notice}
        return await page(request, sub_id, **context, status=shown.status_code)

    async def save(values: dict[str, str]) -> str:
        address = {name: values[name] for name in ADDRESS_FIELDS}
        await gifts.refuse_address_change(sub_id)
        await services.update_address(
            customer=customer, subscription_id=sub_id, **address, today=today(request)
        )
        if values["back"] == "account":
            return f"/account/subscriptions/{sub_id}?saved=1"
        return f"/checkout/{sub_id}"

    # A refusal of the whole form (the box is being packed) keeps what was typed, too.
    names = (*ADDRESS_FIELDS, "back")
    return await form_page(request, show=show, save=save, names=names, notices=(Conflict,))


async def gift_choice(request: Request) -> Response:
    """At checkout: the plot is a gift (for whom the sign reads, and a message), or not."""
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")

    async def show(shown: Shown) -> Response:
        return await _checkout_page(
            request, sub_id, **shown.context("gift"), gift_notice=shown.notice,
            status=shown.status_code,
        )  # fmt: skip

    async def save(values: dict[str, str]) -> str:
        await gifts.save_choice(customer=customer, subscription_id=sub_id, now=now(), **values)
        return f"/checkout/{sub_id}#gift"

    names = ("gift", "recipient_name", "message")
    return await form_page(request, show=show, save=save, names=names, notices=(Conflict,))


REDIRECTS = ("redirect_to_url", "alipay_handle_redirect")  # next actions a browser follows


async def _done_url(sub) -> str:
    """Where a paid checkout goes: the subscription, or a gift's card to print."""
    if sub.status == Status.ACTIVE:
        gift = await gifts.gift_of(sub.id)
        if gift is not None and gift.paid_at is not None:
            return gifts.card_path(gift.id)
    welcome = "?welcome=1" if sub.status == Status.ACTIVE else ""
    return f"/account/subscriptions/{sub.id}{welcome}"


async def pay(request: Request) -> Response:
    """Pay by card (the card form's script sends Stripe.js' pm_ id), Alipay or WeChat Pay.
    Answers JSON to the script; the Alipay and WeChat Pay forms also work as plain forms."""
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    form = await read_form(request)
    method = str(form.get("method") or CARD)
    reference = str(form.get("payment_method") or form.get("card_id") or "")
    try:
        outcome = await paying.pay(
            customer=customer,
            subscription_id=sub_id,
            method=method,
            payment_method=reference,
            runtime=request.app.state.runtime,
            now=now(),
        )
    except DomainError as exc:
        if wants_json(request):
            return JSONResponse({"error": exc.message}, status_code=exc.status_code)
        return await _checkout_page(
            request, sub_id, payment_error=exc.message, status=exc.status_code
        )
    action = outcome.next_action
    if wants_json(request):
        if outcome.status == "declined":
            return JSONResponse({"status": "declined", "error": outcome.message}, status_code=402)
        body = {
            "status": outcome.status,
            "client_secret": outcome.client_secret,
            "next": f"/checkout/{sub_id}/return",
        }
        if action is not None:
            body["next_action"] = {"type": action.type, "url": action.url}
            if action.type == "wechat_pay_display_qr_code":
                body["next"] = f"/checkout/{sub_id}/wait"
        return JSONResponse(body)
    if outcome.status == "declined":
        return await _checkout_page(request, sub_id, payment_error=outcome.message, status=402)
    if outcome.status == "succeeded":
        return redirect(f"/checkout/{sub_id}/return")
    if action is not None and action.url and action.type in REDIRECTS:
        return redirect(action.url)
    return redirect(f"/checkout/{sub_id}/wait")


async def _state(request: Request, sub_id: int, *, cancelled_intent: str = "", poll: bool = False):
    """Where the payment stands; a waiting page's `poll` asks Stripe at most so often."""
    return await paying.payment_state(
        customer=require_user(request, Role.CUSTOMER),
        subscription_id=sub_id,
        runtime=request.app.state.runtime,
        now=now(),
        cancelled_intent=cancelled_intent,
        reads=request.app.state.stripe_reads if poll else None,
    )


async def payment_return(request: Request) -> Response:
    """Where Stripe sends the customer back (3-D Secure, Alipay), with its redirect_status.
    Stripe is asked in every case: the query string only says what the customer did. A failed
    or cancelled redirect closes only the attempt it names (payment_intent), and only while
    that attempt is the open one: an unguessable id, so a cross-site link closes nothing."""
    sub_id = int_param(request, "sub_id")
    redirect_status = request.query_params.get("redirect_status", "")
    named = request.query_params.get("payment_intent", "")
    found = await _state(
        request, sub_id, cancelled_intent=named if redirect_status in ("failed", "canceled") else ""
    )
    if found.state == "done":
        return redirect(await _done_url(found.subscription))
    if found.state == "failed":
        return redirect(f"/checkout/{sub_id}")  # the page says why, and the plot is held
    if found.state == "waiting":
        return redirect(f"/checkout/{sub_id}/wait")
    return await _checkout_page(request, sub_id, notice=_("We have not received your payment yet."))


async def payment_wait(request: Request) -> Response:
    """The WeChat Pay QR code, or 'waiting for Alipay / your bank', until Stripe answers."""
    sub_id = int_param(request, "sub_id")
    found = await _state(request, sub_id)
    if found.state == "done":
        return redirect(await _done_url(found.subscription))
    if found.state != "waiting":
        return redirect(f"/checkout/{sub_id}")
    await found.subscription.fetch_related("plot")
    action = found.next_action
    qr = None
    if action is not None and action.qr_data:
        with contextlib.suppress(ValueError):  # too long for a QR code: Stripe's picture
            qr = qr_svg(action.qr_data, size_px=240, label=_("WeChat Pay QR code"))
    context = {
        "sub": found.subscription,
        "method": found.method,
        "action": action,
        "qr": qr,
        "method_name": method_name(found.method),
    }
    return render(request, "subscriptions/wait.html", context)


async def payment_status(request: Request) -> Response:
    """For the waiting page's script: where the payment stands, and where to go next."""
    sub_id = int_param(request, "sub_id")
    found = await _state(request, sub_id, poll=True)
    targets = {
        "done": await _done_url(found.subscription) if found.state == "done" else "",
        "failed": f"/checkout/{sub_id}",
        "open": f"/checkout/{sub_id}",
        "waiting": "",
    }
    return JSONResponse(
        {"state": found.state, "next": targets[found.state]},
        headers={"cache-control": "no-store"},
    )


async def account(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    views = await services.account_overview(customer=customer, today=today(request))
    notices = await announcements.notices(user=customer)
    given = await gifts.gifts_given(giver=customer)
    held = {}  # plots kept for the family next season: read only when something awaits payment
    if any(v.subscription.status == Status.PENDING_PAYMENT for v in views):
        offers = await renewals.open_offers(customer=customer, today=today(request))
        held = {r.subscription_id: r for r in offers}
    context = {"views": views, "notices": notices, "gifts_given": given, "renewals": held}
    return render(request, "subscriptions/account.html", context)


async def _subscription_page(request: Request, sub_id: int, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    view = await services.subscription_view(
        customer=customer, subscription_id=sub_id, today=today(request), not_sent_read=False
    )
    deliveries = await delivery_services.delivery_summary(
        subscription=view.subscription, today=today(request)
    )
    view = services.with_not_sent(view, deliveries.not_sent, today=today(request))
    sub = view.subscription
    context = {
        "view": view,
        "sub": view.subscription,
        "deliveries": deliveries,
        "provinces": rules.PROVINCES,
        "form": _address_form(view.subscription),
        "errors": {},
        "today": today(request),
        # What only some subscriptions need, read only for them: a season's changed ship
        # days, and a checkout whose hold lapsed.
        "changes": await land_services.season_changes(sub.season_id)
        if sub.season.ship_day_moves
        else [],
        "again": await services.lapsed_hold(
            customer=customer,
            subscription_id=sub_id,
            today=today(request),
            now=now(),
            relapse_minutes=request.app.state.settings.relapse_minutes,
        )
        if sub.status == Status.PENDING_PAYMENT
        or (sub.status == Status.CANCELLED and sub.cancel_reason == "lapsed")
        else None,
        "crops": await choosing.plot_crops(subscription=view.subscription, today=today(request))
        if sub.status in (Status.ACTIVE, Status.COMPLETED)
        else None,
        "next_box": await box.next_box(subscription=view.subscription, deliveries=deliveries),
        "welcome": request.query_params.get("welcome") == "1",
        "saved": request.query_params.get("saved") == "1",
        **extra,
    }
    context["refund_rules"] = refund_rules  # refund windows, stated before payment
    return render(request, "subscriptions/subscription.html", context, extra.get("status", 200))


async def subscription_page(request: Request) -> Response:
    return await _subscription_page(request, int_param(request, "sub_id"))


async def cancel(request: Request) -> Response:
    """GET: what cancelling would refund, by which rule, and what else ends, with the button
    that confirms it. POST: cancel (an unpaid reservation is released at once)."""
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")
    if request.method != "POST":
        preview = await cancellation.cancellation_preview(
            customer=customer, subscription_id=sub_id, today=today(request)
        )
        context = {"preview": preview, "sub": preview.view.subscription}
        return render(request, "subscriptions/cancel.html", context)
    await read_form(request)
    await cancellation.cancel_subscription(
        customer=customer,
        subscription_id=sub_id,
        today=today(request),
        now=now(),
        gateway=request.app.state.gateway,
        links=links(request),
    )
    return redirect(f"/account/subscriptions/{sub_id}")


MAX_EVENT_BYTES = 512 * 1024  # Stripe's events are a few KB; a dispute's evidence at most


class TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused unread when its Content-Length is over `limit`, and refused while
    streaming as soon as it passes it (a body sent without a length, or with a false one)."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise TooLarge
    return bytes(received)


async def stripe_webhook(request: Request) -> Response:
    try:
        payload = await _body(request, MAX_EVENT_BYTES)
    except TooLarge:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    runtime = request.app.state.runtime
    at = now()
    try:
        event = runtime.gateway.parse_event(
            payload, request.headers.get("stripe-signature"), now=at
        )
    except BadSignature:
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    try:
        applied = await activation.apply_event(event, now=at, runtime=runtime)
    except PaymentProviderError:  # the intent could not be read back: Stripe sends it again
        return JSONResponse({"error": "payment provider unavailable"}, status_code=503)
    return JSONResponse({"received": True, "duplicate": not applied})


# The flash sale's route, which the app tries before every other (farm.app).
RESERVE_ROUTE = Route("/plans/{plan_id}/reserve", reserve, methods=["POST"], name="reserve")

routes = [
    RESERVE_ROUTE,
    Route("/checkout/{sub_id}", checkout, name="checkout"),
    Route("/checkout/{sub_id}/address", save_address, methods=["POST"], name="address"),
    Route("/checkout/{sub_id}/pay", pay, methods=["POST"], name="pay"),
    Route("/checkout/{sub_id}/gift", gift_choice, methods=["POST"], name="gift_choice"),
    Route("/checkout/{sub_id}/return", payment_return, name="payment_return"),
    Route("/checkout/{sub_id}/wait", payment_wait, name="payment_wait"),
    Route("/checkout/{sub_id}/status", payment_status, name="payment_status"),
    Route("/account", account, name="account"),
    Route("/account/subscriptions/{sub_id}", subscription_page, name="subscription"),
    Route("/account/subscriptions/{sub_id}/cancel", cancel, methods=["GET", "POST"], name="cancel"),
    Route("/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook"),
]
