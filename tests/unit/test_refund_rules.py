"""The refund rules: each payment method's refund window, which of Stripe's answers are worth
sending again, and the order a refund's statuses may follow whatever order events arrive in."""

from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest
import stripe

from farm.payments import gateway, rules
from farm.payments.gateway import PaymentProviderError, RefundRefused

PAID = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "days", "at_stripe"),
    [
        ("alipay", 88, True), ("alipay", 89, False), ("alipay", 90, False),
        ("alipay", 91, False), ("wechat_pay", 178, True), ("wechat_pay", 179, False),
        ("wechat_pay", 180, False), ("card", 400, True), ("card", 3650, True),
    ],
)  # fmt: skip
def test_alipay_refunds_within_90_days_wechat_pay_180_cards_any_time_less_a_days_margin(
    method, days, at_stripe
):
    now = PAID + timedelta(days=days)
    assert rules.refundable_at_stripe(method=method, paid_at=PAID, now=now) is at_stripe


def test_the_last_moment_before_the_alipay_windows_last_day_still_goes_to_stripe():
    last = PAID + timedelta(days=89) - timedelta(seconds=1)
    assert rules.refundable_at_stripe(method="alipay", paid_at=PAID, now=last)


def test_a_refund_in_the_last_day_of_the_alipay_window_is_paid_by_other_means():
    """Our paid_at may be later than Stripe's charge: the last day is not risked at Stripe."""
    for hours_left in (24, 12, 1):
        now = PAID + timedelta(days=90) - timedelta(hours=hours_left)
        assert not rules.refundable_at_stripe(method="alipay", paid_at=PAID, now=now)


@pytest.mark.parametrize(
    ("http_status", "connection", "retry"),
    [
        (None, True, True), (None, False, False), (500, False, True), (503, False, True),
        (409, False, True), (429, False, True), (400, False, False), (402, False, False),
        (401, False, False), (404, False, False),
    ],
)  # fmt: skip
def test_only_connection_errors_5xx_409_and_429_are_retried(http_status, connection, retry):
    assert rules.retriable_error(http_status=http_status, connection_error=connection) is retry


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (stripe.APIConnectionError("connection reset"), True),
        (stripe.APIError("Stripe is down", http_status=503), True),
        (stripe.RateLimitError("slow down", http_status=429), True),
        (stripe.IdempotencyError("same key, other request", http_status=409), True),
        (stripe.InvalidRequestError("already refunded", None, http_status=400), False),
        (stripe.APIError("no status and no connection error"), False),
    ],
)  # fmt: skip
def test_the_gateway_sends_again_only_what_the_rule_calls_retriable(error, retried):
    mapped = gateway._refund_error(error)
    assert isinstance(mapped, PaymentProviderError)
    assert isinstance(mapped, RefundRefused) is not retried


STRIPE_STATUSES = ["pending", "succeeded", "failed", "canceled"]


def apply_in_order(statuses):
    current = "requested"
    for new in statuses:
        if rules.moves_forward(current, new):
            current = new
    return current


@pytest.mark.parametrize("order", list(permutations(["pending", "succeeded", "failed"])))
def test_a_refund_ends_failed_whatever_order_its_events_arrive_in(order):
    assert apply_in_order(order) == "failed"
    assert apply_in_order([*order, *order]) == "failed"  # and replays change nothing


@pytest.mark.parametrize("order", list(permutations(["pending", "succeeded"])))
def test_a_refund_ends_succeeded_whatever_order_pending_and_succeeded_arrive_in(order):
    assert apply_in_order(order) == "succeeded"


@pytest.mark.parametrize("final", ["failed", "canceled", "manual_done"])
@pytest.mark.parametrize("new", STRIPE_STATUSES)
def test_nothing_moves_a_final_refund(final, new):
    assert not rules.moves_forward(final, new)


@pytest.mark.parametrize("new", STRIPE_STATUSES)
def test_stripe_never_moves_a_refund_the_cooperative_pays(new):
    assert not rules.moves_forward("manual_due", new)


def test_a_card_refund_may_fail_after_it_succeeded():
    assert rules.moves_forward("succeeded", "failed")
    assert not rules.moves_forward("failed", "succeeded")


def test_requires_action_waits_like_pending():
    assert rules.provider_status("requires_action") == "pending"


NOW = PAID + timedelta(days=10)


@pytest.mark.parametrize(
    ("status", "age_days", "followed_up", "attention"),
    [
        ("failed", 0, False, True), ("failed", 0, True, False), ("manual_due", 0, False, True),
        ("canceled", 0, False, True), ("canceled", 0, True, False),
        ("pending", 2, False, False), ("pending", 4, False, True), ("requested", 4, False, True),
        ("succeeded", 30, False, False), ("manual_done", 30, False, False),
    ],
)  # fmt: skip
def test_what_the_manager_must_act_on(status, age_days, followed_up, attention):
    updated = NOW - timedelta(days=age_days)
    assert (
        rules.needs_attention(status=status, updated_at=updated, followed_up=followed_up, now=NOW)
        is attention
    )


def test_what_is_still_owed_after_a_partial_manual_refund():
    assert rules.owed_after(owed_fen=58000, paid_fen=30000) == 28000
    assert rules.owed_after(owed_fen=58000, paid_fen=58000) == 0


@pytest.mark.parametrize("status", ["won", "lost", "warning_closed", "prevented"])
def test_closed_disputes(status):
    assert not rules.dispute_is_open(status)


def test_a_dispute_needing_a_response_is_open():
    assert rules.dispute_is_open("needs_response")


def test_every_refund_reason_has_a_name_in_both_languages_and_an_unknown_one_no_raw_code():
    from farm.i18n import use_language
    from farm.payments.console import refund_reason_name
    from farm.payments.models import RefundReason

    for language in ("en", "zh_CN"):
        with use_language(language):
            names = {reason: refund_reason_name(reason.value) for reason in RefundReason}
            assert all(name and name != reason.value for reason, name in names.items())
            assert refund_reason_name("made_up_reason") != "made_up_reason"
    with use_language("zh_CN"):
        assert refund_reason_name("duplicate_payment") == "重复付款：退还第二笔"


@pytest.mark.parametrize(
    ("status", "amount_fen", "currency", "pays"),
    [
        ("succeeded", 58000, "cny", True),
        ("succeeded", 58000, "CNY", True),
        ("succeeded", 1, "cny", False),
        ("succeeded", 58001, "cny", False),
        ("succeeded", 58000, "usd", False),
        ("requires_payment_method", 58000, "cny", False),
        ("processing", 58000, "cny", False),
    ],
)
def test_only_a_succeeded_intent_for_the_amount_and_currency_pays(
    status, amount_fen, currency, pays
):
    assert (
        rules.pays_for(
            status=status,
            amount_fen=amount_fen,
            currency=currency,
            owed_fen=58000,
            owed_currency="cny",
        )  # fmt: skip
        is pays
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (stripe.APIConnectionError("read timeout"), gateway.StripeUnavailable),
        (stripe.APIError("Stripe is down", http_status=503), gateway.StripeUnavailable),
        (stripe.InvalidRequestError("No such payment_intent: 'pi_x'", "intent",
                                    code="resource_missing", http_status=404), gateway.IntentGone),
        # a card Stripe does not know: the intent stays usable, the card is refused
        (stripe.InvalidRequestError("No such PaymentMethod: 'pm_x'", "payment_method",
                                    code="resource_missing", http_status=404),
         PaymentProviderError),
        (stripe.InvalidRequestError("unexpected state", None,
                                    code="payment_intent_unexpected_state", http_status=400),
         PaymentProviderError),
    ],
)  # fmt: skip
def test_the_gateway_tells_stripe_down_and_an_unknown_intent_from_other_refusals(error, kind):
    mapped = gateway._provider_error(error)
    assert type(mapped) is kind
