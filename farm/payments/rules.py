"""Pure rules for payments and refunds. No I/O, no clock: times are parameters.

A refund is an attempt to give back an amount of one payment. Its life:

    requested ──(Stripe accepts)──> pending ──> succeeded ──(card issuer refuses later)──> failed
        │  │                           └───────────────────────────────────────────────> failed
        │  └──(Stripe refuses: not a connection error, 5xx, 409 or 429)──────────────────> failed
        │                                                                    canceled <── pending
        └──(outside the payment method's refund window)──> manual_due ──(manager)──> manual_done

A failed or canceled attempt stays so, and its money is still owed; the manager follows it
up once, with a new attempt (a new key) or a refund recorded as paid outside Stripe
(manual_done).
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Stripe refunds Alipay payments up to 90 days after the payment and WeChat Pay payments up
# to 180 days after; card refunds have no such limit at Stripe (a refund to an expired or
# cancelled card is rerouted by the issuer, or fails later with refund.failed).
REFUND_WINDOW_DAYS: dict[str, int] = {"alipay": 90, "wechat_pay": 180}
# The last stretch of a window in which we no longer ask Stripe (see refundable_at_stripe).
REFUND_WINDOW_MARGIN = timedelta(days=1)
# What the rules promise for a refund made outside Stripe (bank transfer, cash ...).
MANUAL_REFUND_DAYS = 14
# A refund still requested or pending after this long is shown to the manager.
STUCK_AFTER = timedelta(days=3)

REQUESTED = "requested"
PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
MANUAL_DUE = "manual_due"
MANUAL_DONE = "manual_done"

# How far along Stripe's statuses are: an event moves a refund only forward, so a late or
# replayed event never undoes a newer one. succeeded -> failed is forward: a card refund can
# fail after it succeeded. failed and canceled are final.
_RANK = {REQUESTED: 0, PENDING: 1, SUCCEEDED: 2, FAILED: 3, CANCELED: 3}
FINAL = frozenset({FAILED, CANCELED, MANUAL_DONE})
# Money known to be back with the customer.
RETURNED = frozenset({SUCCEEDED, MANUAL_DONE})
# Attempts that still count against the payment: no new refund may take the same money.
COMMITTED = frozenset({REQUESTED, PENDING, SUCCEEDED, MANUAL_DUE, MANUAL_DONE})
# Attempts Stripe ended without the money going back: owed until the manager follows them up.
TO_FOLLOW_UP = frozenset({FAILED, CANCELED})
# Stripe's dispute statuses after which nothing more can be answered.
CLOSED_DISPUTES = frozenset({"won", "lost", "warning_closed", "prevented"})


def refund_window_days(method: str) -> int | None:
    """Days after payment within which Stripe refunds this payment method; None: no limit."""
    return REFUND_WINDOW_DAYS.get(method)


def refundable_at_stripe(*, method: str, paid_at: datetime | None, now: datetime) -> bool:
    """Whether a refund of a payment made with `method` at `paid_at` can still go through
    Stripe at `now`. Outside the window, the cooperative refunds by other means.

    `paid_at` is when we recorded the payment's success, which can be later than Stripe's
    charge (a webhook or a return from Alipay arriving late), while Stripe counts its window
    from the charge. So the last day of the window (REFUND_WINDOW_MARGIN) already goes to the
    manual path: a refund the cooperative pays by other means is sure, one Stripe may refuse
    as too late is not, and would come back to the manager as failed anyway."""
    days = refund_window_days(method)
    if days is None or paid_at is None:
        return True
    return now < paid_at + timedelta(days=days) - REFUND_WINDOW_MARGIN


def provider_status(status: str) -> str:
    """Stripe's refund status as ours: requires_action waits like pending."""
    if status in (PENDING, SUCCEEDED, FAILED, CANCELED):
        return status
    return PENDING


def moves_forward(current: str, new: str) -> bool:
    """Whether Stripe's `new` status may replace our `current` one (events arrive in any
    order, and more than once). Manual refunds are not Stripe's to change."""
    if current in FINAL or current == MANUAL_DUE or new not in _RANK:
        return False
    return _RANK[new] > _RANK[current]


def needs_attention(*, status: str, updated_at: datetime, followed_up: bool, now: datetime) -> bool:
    """A refund the cooperative's manager must act on: failed or canceled (and not yet
    followed up), to be paid outside Stripe, or stuck on the way."""
    if status in TO_FOLLOW_UP:
        return not followed_up
    if status == MANUAL_DUE:
        return True
    if status in (REQUESTED, PENDING):
        return now - updated_at > STUCK_AFTER
    return False


def retriable_error(*, http_status: int | None, connection_error: bool) -> bool:
    """A refund call worth making again with the same key: the connection failed, Stripe had
    an error of its own (5xx), or asked to wait (409 a concurrent request with that key, 429
    too many requests). Anything else is Stripe's answer for good, including an error with no
    HTTP status that is not a connection error: the gateway reports only connection errors
    (stripe.APIConnectionError) without a status as worth sending again."""
    if connection_error:
        return True
    return http_status is not None and (http_status in (409, 429) or http_status >= 500)


def owed_after(*, owed_fen: int, paid_fen: int) -> int:
    """What is still owed after the manager recorded `paid_fen` of `owed_fen`."""
    return max(owed_fen - paid_fen, 0)


def dispute_is_open(status: str) -> bool:
    return status not in CLOSED_DISPUTES


def pays_for(
    *, status: str, amount_fen: int, currency: str, owed_fen: int, owed_currency: str
) -> bool:
    """Whether a PaymentIntent, as Stripe itself describes it, is the payment we asked for:
    succeeded, for exactly the amount, in the same currency. Only then does a subscription
    turn active (whatever a webhook's payload claims)."""
    return (
        status == "succeeded"
        and amount_fen == owed_fen
        and currency.lower() == owed_currency.lower()
    )
