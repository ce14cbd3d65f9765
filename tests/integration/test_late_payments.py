"""Money that arrives when the plot can no longer be kept is refunded, even if Stripe is down
at that moment; and a release and a payment landing together never leave a paid plot unheld."""

import asyncio
from dataclasses import replace

import pytest

from farm.land.models import PlotClaim
from farm.lifecycle import activation
from farm.lifecycle.activation import apply_event, record_success
from farm.lifecycle.checkout import open_payment
from farm.payments.gateway import Event, PaymentProviderError
from farm.payments.models import Payment, PaymentStatus, Refund
from farm.payments.services import refund_due_payments
from farm.subscriptions import services
from farm.subscriptions.models import Status
from tests.support import (
    ADDRESS,
    NOW,
    confirm_card_at_stripe,
    later,
    make_customer,
    make_season,
)


async def paid_at_stripe(app, stripe_port, plan=None, email="wang@example.com"):
    """A reservation whose payment went through at Stripe but is not yet recorded here."""
    plan = plan or await make_season()
    customer = await make_customer(email)
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=None, today=NOW.date(), now=NOW, minutes=15
    )
    await services.update_address(
        customer=customer, subscription_id=sub.id, **ADDRESS, today=NOW.date()
    )
    payment = await open_payment(
        customer=customer, subscription_id=sub.id, runtime=app.state.runtime, now=NOW
    )
    intent = await confirm_card_at_stripe(app.state.gateway, payment.intent_id, stripe_port)
    assert intent.status == "succeeded"
    return customer, sub, payment, intent


class RefundsDown:
    """The real gateway, except that refunds fail as if Stripe were unreachable."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    async def refund(self, **kwargs):
        raise PaymentProviderError("connection refused")


async def test_a_payment_landing_after_the_customer_released_the_plot_is_refunded(app, stripe_port):
    customer, sub, payment, intent = await paid_at_stripe(app, stripe_port)
    assert await services.release_reservation(subscription_id=sub.id, now=later(1))
    await record_success(intent, now=later(2), runtime=app.state.runtime)
    await sub.refresh_from_db()
    await payment.refresh_from_db()
    assert payment.status == "refunded" and payment.refunded_fen == 58000
    assert sub.status == Status.REFUNDED and not await PlotClaim.exists()


async def test_a_refund_that_fails_is_kept_due_and_made_by_the_retry_job_once(app, stripe_port):
    customer, sub, payment, intent = await paid_at_stripe(app, stripe_port)
    await services.release_reservation(subscription_id=sub.id, now=later(1))
    await record_success(
        intent,
        now=later(2),
        runtime=replace(app.state.runtime, gateway=RefundsDown(app.state.gateway)),
    )
    await payment.refresh_from_db()
    assert payment.status == "refund_due"
    assert await refund_due_payments(now=later(3), gateway=RefundsDown(app.state.gateway)) == 0
    assert await refund_due_payments(now=later(4), gateway=app.state.gateway) == 1
    assert await refund_due_payments(now=later(5), gateway=app.state.gateway) == 0
    await payment.refresh_from_db()
    await sub.refresh_from_db()
    assert payment.status == "refunded" and sub.status == Status.REFUNDED


async def test_a_second_payment_of_an_active_subscription_is_refunded_whole_not_kept(
    app, stripe_port, monkeypatch
):
    """An attempt closed here whose cancel failed silently is then paid at Stripe as well."""
    customer, sub, first, first_intent = await paid_at_stripe(app, stripe_port)
    await Payment.filter(id=first.id).update(status=PaymentStatus.FAILED)  # cancel never landed
    second = await open_payment(
        customer=customer, subscription_id=sub.id, runtime=app.state.runtime, now=later(1)
    )
    second_intent = await confirm_card_at_stripe(app.state.gateway, second.intent_id, stripe_port)
    assert second.id != first.id and second_intent.status == "succeeded"
    paid = Event(id="evt_second", type="payment_intent.succeeded", intent=second_intent)
    assert await apply_event(paid, now=later(2), runtime=app.state.runtime)
    activations = []
    activate = activation.vouchers.on_activated
    monkeypatch.setattr(
        activation.vouchers, "on_activated", lambda **kw: activations.append(kw) or activate(**kw)
    )
    late = Event(id="evt_first", type="payment_intent.succeeded", intent=first_intent)
    assert await apply_event(late, now=later(3), runtime=app.state.runtime)
    await sub.refresh_from_db()
    await first.refresh_from_db()
    await second.refresh_from_db()
    assert sub.status == Status.ACTIVE and sub.refunded_fen == 0
    assert second.status == "succeeded"
    assert first.status == "refunded" and first.refunded_fen == 58000
    refund = await Refund.get(payment_id=first.id)
    assert refund.reason == "duplicate_payment" and refund.amount_fen == 58000
    at_stripe = await app.state.gateway.client.v1.refunds.retrieve_async(refund.provider_refund_id)
    assert at_stripe.reason == "duplicate"  # Stripe's own reason, seen in its dashboard
    assert activations == []  # no second activation: vouchers and mails ran once


async def test_a_late_payment_takes_back_a_lapsed_plot_only_while_the_plan_has_room(
    app, stripe_port
):
    plan = await make_season(plots=3, max_plots=1)
    _, sub, payment, intent = await paid_at_stripe(app, stripe_port, plan)
    assert await services.release_lapsed_reservations(now=later(16)) == 1
    # another buyer takes the plan's only place, on another plot
    other = await make_customer("li@example.com")
    await services.reserve_plot(
        customer=other, plan_id=plan.id, plot_id=None, today=NOW.date(), now=later(17), minutes=15
    )
    await record_success(intent, now=later(18), runtime=app.state.runtime)
    await sub.refresh_from_db()
    await payment.refresh_from_db()
    assert sub.status == Status.REFUNDED and sub.cancel_reason == "plot_lost"
    assert await PlotClaim.filter(plan_id=plan.id).count() == 1


async def test_a_late_payment_on_a_lapsed_but_still_free_plot_keeps_it(app, stripe_port):
    _, sub, payment, intent = await paid_at_stripe(app, stripe_port)
    await services.release_lapsed_reservations(now=later(16))
    await record_success(intent, now=later(18), runtime=app.state.runtime)
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    assert (await PlotClaim.get(subscription_id=sub.id)).expires_at is None


@pytest.mark.postgres
async def test_release_and_payment_at_the_same_moment_never_leave_a_paid_plot_unheld(
    app, stripe_port
):
    for round_ in range(6):
        _, sub, payment, intent = await paid_at_stripe(
            app, stripe_port, email=f"r{round_}@example.com"
        )
        await asyncio.gather(
            services.release_reservation(subscription_id=sub.id, now=later(1)),
            record_success(replace(intent), now=later(1), runtime=app.state.runtime),
        )
        await sub.refresh_from_db()
        await payment.refresh_from_db()
        held = await PlotClaim.exists(subscription_id=sub.id)
        if sub.status == Status.ACTIVE:
            assert held and payment.status == "succeeded"
        else:
            assert not held and payment.status == "refunded", (sub.status, payment.status)
