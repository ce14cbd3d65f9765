"""Paying for a reservation: open a PaymentIntent, pay by card, Alipay or WeChat Pay, and
follow it to the end. The payment is the payments capability's; whether the subscription may
be paid for, and what its success means (activation), are the lifecycle's."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from farm.accounts.models import User
from farm.bootstrap import Runtime
from farm.errors import Conflict, DomainError
from farm.i18n import _
from farm.land.models import PlotClaim
from farm.lifecycle.activation import record_success
from farm.payments.declines import decline_message, method_name
from farm.payments.gateway import (
    CARD,
    METHODS,
    Gateway,
    Intent,
    IntentGone,
    NextAction,
    PaymentProviderError,
    new_idempotency_key,
)
from farm.payments.models import Payment, PaymentStatus
from farm.payments.polling import StripeReadGate
from farm.payments.services import failure_message, last_attempt
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from farm.subscriptions.rules import is_lapsed

log = logging.getLogger("farm.payments")


@dataclass(frozen=True)
class PayOutcome:
    status: str  # "succeeded", "processing", "requires_action", "declined"
    client_secret: str = ""
    message: str = ""
    next_action: NextAction | None = None


class AlreadyPaid(Conflict):
    """The open intent was paid while the customer chose another method."""


class PaymentUnavailable(DomainError):
    """Stripe cannot be reached just now (or keeps failing): a 503 page saying so in the
    customer's language; the plot stays reserved."""

    status_code = 503

    def __init__(self, message: str = ""):
        super().__init__(
            message
            or _(
                "Payment is unavailable right now and nothing was charged. Your plot stays "
                "reserved; please try again in a minute."
            )
        )


async def _payable(*, customer: User, subscription_id: int, now: datetime) -> Subscription:
    sub = await subscriptions.own_subscription(customer=customer, subscription_id=subscription_id)
    lapsed = Conflict(
        _("Your reservation has lapsed and the plot was released. Please pick a plot again.")
    )
    if sub.status == Status.CANCELLED and sub.cancel_reason == "lapsed":
        raise lapsed
    if sub.status != Status.PENDING_PAYMENT:
        raise Conflict(_("This subscription is not waiting for payment."))
    claim = await PlotClaim.get_or_none(subscription_id=sub.id)
    if claim is None or is_lapsed(expires_at=claim.expires_at, now=now):
        raise lapsed
    if not subscriptions.has_address(sub):
        raise Conflict(_("Enter the delivery address first."))
    return sub


def return_url(gateway: Gateway, subscription_id: int) -> str:
    """Where Stripe sends the customer back after a redirect (3-D Secure, Alipay)."""
    return f"{gateway.base_url}/checkout/{subscription_id}/return"


async def open_payment(
    *,
    customer: User,
    subscription_id: int,
    runtime: Runtime,
    now: datetime,
    method: str = CARD,
) -> Payment:
    """The PaymentIntent to pay this reservation with by `method`, created once and reused.

    A subscription has at most one open payment (the unique index payments_one_open). When
    the customer switches method, the open intent is cancelled at Stripe before a new one is
    made, rather than updated: an intent already confirmed with Alipay or WeChat Pay can still
    be paid through the redirect or the QR code the customer holds, and only a cancel makes
    that impossible. If it was paid in the meantime, AlreadyPaid is raised after the payment
    was recorded."""
    gateway = runtime.gateway
    sub = await _payable(customer=customer, subscription_id=subscription_id, now=now)
    existing = await Payment.get_or_none(
        subscription_id=sub.id, status=PaymentStatus.REQUIRES_PAYMENT
    )
    if existing is not None and existing.method == method:
        return existing
    if existing is not None:
        await close_open_payment(existing, now=now, runtime=runtime)
    await sub.fetch_related("plot", "season")
    try:
        intent = await gateway.create_intent(
            amount_fen=sub.price_fen,
            method=method,
            description=f"Plot {sub.plot.code} · {sub.season.name_en or sub.season.name}",
            metadata={"subscription_id": str(sub.id)},
            idempotency_key=new_idempotency_key(),
        )
    except PaymentProviderError as exc:
        log.warning("could not open a PaymentIntent for subscription %s: %s", sub.id, exc)
        raise PaymentUnavailable() from None
    if intent.method != method:  # not enabled on the account: Stripe filtered it out
        with contextlib.suppress(PaymentProviderError):
            await gateway.cancel(intent.id)
        raise Conflict(
            _("%(method)s is not available just now. Please choose another way to pay.")
            % {"method": method_name(method)}
        )
    try:
        return await Payment.create(
            subscription_id=sub.id,
            intent_id=intent.id,
            client_secret=intent.client_secret,
            amount_fen=sub.price_fen,
            method=method,
            created_at=now,
        )
    except IntegrityError:
        # A parallel request (a double click) opened one first: ours is never confirmed.
        with contextlib.suppress(PaymentProviderError):
            await gateway.cancel(intent.id)
        other = await Payment.get_or_none(
            subscription_id=sub.id, status=PaymentStatus.REQUIRES_PAYMENT
        )
        if other is None or other.method != method:
            raise Conflict(_("Your payment is being prepared. Please try again.")) from None
        return other


async def close_open_payment(
    payment: Payment, *, now: datetime, runtime: Runtime, failure_code: str = ""
) -> None:
    """Cancel an open intent at Stripe and close its row: cancelled, or failed with
    `failure_code` when the customer gave up. If Stripe says it was paid meanwhile, record
    the payment and raise AlreadyPaid."""
    gateway = runtime.gateway
    try:
        await gateway.cancel(payment.intent_id)
    except IntentGone:
        pass  # Stripe does not know it: nothing can pay it any more
    except PaymentProviderError:
        try:
            intent = await gateway.retrieve(payment.intent_id)
        except IntentGone:
            intent = None
        except PaymentProviderError:
            raise PaymentUnavailable(
                _("Payment is unavailable just now. Please try again in a minute.")
            ) from None
        if intent is None or intent.status == "canceled":
            pass
        elif intent.status == "succeeded":
            await record_success(intent, now=now, runtime=runtime)
            raise AlreadyPaid(_("Your payment has just gone through.")) from None
        else:
            raise Conflict(
                _("Your last payment is still being processed. Please wait a moment.")
            ) from None
    await Payment.filter(id=payment.id, status=PaymentStatus.REQUIRES_PAYMENT).update(
        status=PaymentStatus.FAILED if failure_code else PaymentStatus.CANCELLED,
        failure_code=failure_code,
    )


def accepts_payment_method(reference: str, *, gateway: Gateway) -> bool:
    """A card as Stripe.js' createPaymentMethod makes it (pm_). The emulator's tokens and
    their card_ ids are test conveniences: real Stripe cannot confirm with them."""
    if len(reference) > 100 or not reference.isascii():
        return False
    if reference.startswith("pm_"):
        return True
    return gateway.accepts_test_card_ids and reference.startswith(("card_", "tok_"))


async def pay(
    *,
    customer: User,
    subscription_id: int,
    method: str,
    runtime: Runtime,
    now: datetime,
    payment_method: str = "",
) -> PayOutcome:
    """Confirm the reservation's payment on the server with the chosen method: a card from
    Stripe.js (pm_), Alipay (a redirect) or WeChat Pay (a QR code). A decline leaves the plot
    reserved and closes the attempt; the next try gets a fresh intent. An open intent that can
    never be paid (cancelled at Stripe, or unknown to it) is closed and replaced at once, and
    this payment goes to the new one."""
    gateway = runtime.gateway
    if method not in METHODS:
        raise DomainError(_("Choose a way to pay."), status_code=422)
    if method == CARD and not accepts_payment_method(payment_method, gateway=gateway):
        raise DomainError(_("Enter your card details."), status_code=422)
    for _attempt in range(2):
        try:
            payment = await open_payment(
                customer=customer,
                subscription_id=subscription_id,
                runtime=runtime,
                now=now,
                method=method,
            )
        except AlreadyPaid:
            return PayOutcome("succeeded")
        intent = await _confirm(payment, method=method, payment_method=payment_method,
                                gateway=gateway)  # fmt: skip
        if intent is not None:
            break
        # The open intent can never be paid (cancelled at Stripe, or unknown to it): closed,
        # and this same payment goes to a new one.
        await forget_unusable(payment)
    else:
        raise PaymentUnavailable()
    if intent.status == "succeeded":
        await record_success(intent, now=now, runtime=runtime)
        return PayOutcome("succeeded")
    if intent.status == "processing":
        return PayOutcome("processing")
    if intent.status == "requires_action":
        return PayOutcome(
            "requires_action", client_secret=intent.client_secret, next_action=intent.next_action
        )
    await _close_failed(payment, intent, gateway=gateway)
    return PayOutcome("declined", message=decline_message(*_failure(intent), method=method))


async def _confirm(
    payment: Payment, *, method: str, payment_method: str, gateway: Gateway
) -> Intent | None:
    """Confirm the payment's intent at Stripe: what Stripe made of it, or None when the intent
    can never be paid (Stripe does not know it, or it was cancelled there)."""
    try:
        intent = await gateway.confirm(
            intent_id=payment.intent_id,
            method=method,
            payment_method=payment_method if method == CARD else "",
            return_url=return_url(gateway, payment.subscription_id),
            idempotency_key=new_idempotency_key(),
        )
    except IntentGone:
        return None
    except PaymentProviderError as exc:
        log.warning("could not confirm %s: %s", payment.intent_id, exc)
        intent = await _after_failed_confirm(payment, gateway=gateway)
    return None if intent is None or unusable(intent) else intent


def unusable(intent: Intent) -> bool:
    """An intent that can never take a payment: cancelled at Stripe (in the dashboard, or by
    Stripe itself after a long wait)."""
    return intent.status == "canceled"


async def forget_unusable(payment: Payment) -> None:
    """Close the row of an intent that can never be paid, so that the subscription's next
    payment can open (one open payment per subscription: payments_one_open)."""
    log.warning("intent %s of subscription %s can no longer be paid: replaced",
                payment.intent_id, payment.subscription_id)  # fmt: skip
    await Payment.filter(id=payment.id, status=PaymentStatus.REQUIRES_PAYMENT).update(
        status=PaymentStatus.CANCELLED
    )


async def _after_failed_confirm(payment: Payment, *, gateway: Gateway) -> Intent | None:
    """A confirm that failed on the way (a timeout) may still have reached Stripe and taken
    the money: ask Stripe once what became of the intent before telling the customer. None
    if Stripe does not know the intent."""
    try:
        intent = await gateway.retrieve(payment.intent_id)
    except IntentGone:
        return None
    except PaymentProviderError:
        raise PaymentUnavailable(
            _(
                "We could not confirm your payment just now. It may still go through: reload "
                "this page in a minute to see, before you pay again."
            )
        ) from None
    if intent.status in ("requires_payment_method", "requires_confirmation") and not (
        intent.error_code or intent.decline_code
    ):
        raise PaymentUnavailable(
            _("The payment could not be started just now. Nothing was taken; please try again.")
        )
    return intent


def _failure(intent: Intent) -> tuple[str, str]:
    return intent.error_code, intent.decline_code


async def _close_failed(payment: Payment, intent: Intent, *, gateway: Gateway) -> None:
    """A declined or failed attempt is closed, and its intent cancelled at Stripe."""
    await Payment.filter(id=payment.id, status=PaymentStatus.REQUIRES_PAYMENT).update(
        status=PaymentStatus.FAILED,
        failure_code=(intent.decline_code or intent.error_code or "failed")[:100],
        failure_message=intent.error_message[:300],
    )
    with contextlib.suppress(PaymentProviderError):
        await gateway.cancel(payment.intent_id)


@dataclass(frozen=True)
class PaymentState:
    """Where a reservation's payment stands, for the return page and the status poll."""

    state: str  # "done", "waiting", "failed", "open"
    subscription: Subscription
    method: str = ""
    message: str = ""
    next_action: NextAction | None = None


async def payment_state(
    *,
    customer: User,
    subscription_id: int,
    runtime: Runtime,
    now: datetime,
    cancelled_intent: str = "",
    reads: StripeReadGate | None = None,
) -> PaymentState:
    """Ask Stripe directly while our row is unpaid, so a late webhook keeps nobody waiting.
    `cancelled_intent` is the intent Stripe's redirect named with redirect_status failed or
    canceled: when it is the open attempt's, that attempt is closed, so that its redirect or
    QR code cannot be paid later. Any other intent (an attempt replaced in another tab, or a
    guess in a cross-site link) changes nothing. With `reads` (a waiting page's poll), Stripe is
    asked about one payment at most once per its interval; in between our row answers."""
    gateway = runtime.gateway
    sub = await subscriptions.own_subscription(customer=customer, subscription_id=subscription_id)
    if sub.status != Status.PENDING_PAYMENT:
        return PaymentState("done", sub)
    payment = await last_attempt(subscription_id=sub.id)
    if payment is None:
        return PaymentState("open", sub)
    method = str(payment.method)
    if payment.status == PaymentStatus.FAILED:
        return PaymentState("failed", sub, method, failure_message(payment))
    if payment.status != PaymentStatus.REQUIRES_PAYMENT:
        return PaymentState("open", sub, method)
    if reads is not None and not reads.may_read(payment.id, now):
        return PaymentState("waiting", sub, method)
    try:
        intent = await gateway.retrieve(payment.intent_id)
    except IntentGone:  # nothing can pay it: the customer pays afresh from the checkout
        await forget_unusable(payment)
        return PaymentState("open", sub, method)
    except PaymentProviderError:
        return PaymentState("waiting", sub, method)
    if intent.status == "succeeded":
        await record_success(intent, now=now, runtime=runtime)
        await sub.refresh_from_db()
        return PaymentState("done", sub, method)
    if intent.status == "processing":
        return PaymentState("waiting", sub, method)
    cancelled_by_customer = bool(cancelled_intent) and cancelled_intent == payment.intent_id
    if intent.status == "requires_action" and not cancelled_by_customer:
        return PaymentState("waiting", sub, method, next_action=intent.next_action)
    if intent.status == "requires_action":
        try:
            await close_open_payment(payment, now=now, runtime=runtime, failure_code="canceled")
        except AlreadyPaid:
            await sub.refresh_from_db()
            return PaymentState("done", sub, method)
        except Conflict:
            return PaymentState("waiting", sub, method)
        return PaymentState("failed", sub, method, decline_message("canceled", method=method))
    if intent.error_code or intent.decline_code or intent.status == "canceled":
        await _close_failed(payment, intent, gateway=gateway)
        return PaymentState(
            "failed", sub, method, decline_message(*_failure(intent), method=method)
        )
    return PaymentState("open", sub, method)
