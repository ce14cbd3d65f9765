from datetime import date

import pytest

from farm.errors import Conflict, NotFound
from farm.land.models import PlotClaim
from farm.lifecycle import cancellation
from farm.payments.models import Payment
from farm.subscriptions import services
from farm.subscriptions.models import Status
from tests.support import ADDRESS, NOW, card_id, make_customer, make_season


async def active_subscription(app, stripe_port, *, email="wang@example.com", price_fen=58000):
    """A customer whose plot is paid, through the same services the pages call."""
    from farm.lifecycle.checkout import pay

    plan = await make_season(price_fen=price_fen)
    customer = await make_customer(email)
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=None, today=NOW.date(), now=NOW, minutes=15
    )
    await services.update_address(
        customer=customer, subscription_id=sub.id, **ADDRESS, today=NOW.date()
    )
    outcome = await pay(
        customer=customer,
        subscription_id=sub.id,
        method="card",
        payment_method=await card_id(stripe_port),
        runtime=app.state.runtime,
        now=NOW,
    )
    assert outcome.status == "succeeded"
    await sub.refresh_from_db()
    return customer, sub


async def test_cancelling_before_the_season_starts_refunds_everything_and_frees_the_plot(
    app, stripe_port
):
    customer, sub = await active_subscription(app, stripe_port)
    await cancellation.cancel_subscription(
        customer=customer,
        subscription_id=sub.id,
        today=date(2027, 2, 1),
        now=NOW,
        gateway=app.state.gateway,
    )
    await sub.refresh_from_db()
    payment = await Payment.get(subscription_id=sub.id, status="refunded")
    assert sub.status == Status.REFUNDED and sub.refunded_fen == 58000
    assert payment.refunded_fen == 58000 and payment.refund_id.startswith("re_")
    assert not await PlotClaim.exists(plot_id=sub.plot_id)


async def test_cancelling_after_the_start_refunds_the_ship_days_not_yet_packed(app, stripe_port):
    customer, sub = await active_subscription(app, stripe_port, price_fen=240000)
    await cancellation.cancel_subscription(
        customer=customer,
        subscription_id=sub.id,
        today=date(2027, 3, 15),
        now=NOW,
        gateway=app.state.gateway,
    )
    await sub.refresh_from_db()
    assert sub.refunded_fen == 240000 * 22 // 24 == 220000


async def test_a_second_cancel_refunds_nothing_more(app, stripe_port):
    customer, sub = await active_subscription(app, stripe_port)
    kw = {
        "customer": customer,
        "subscription_id": sub.id,
        "today": date(2027, 2, 1),
        "now": NOW,
        "gateway": app.state.gateway,
    }
    await cancellation.cancel_subscription(**kw)
    with pytest.raises(Conflict):
        await cancellation.cancel_subscription(**kw)
    assert (await Payment.get(subscription_id=sub.id)).refunded_fen == 58000


async def test_once_every_box_is_packed_cancelling_is_refused_and_nothing_changes(app, stripe_port):
    customer, sub = await active_subscription(app, stripe_port)
    with pytest.raises(Conflict):
        await cancellation.cancel_subscription(
            customer=customer,
            subscription_id=sub.id,
            today=date(2028, 2, 29),
            now=NOW,
            gateway=app.state.gateway,
        )
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


async def test_releasing_an_unpaid_reservation_frees_the_plot_at_once(app):
    plan = await make_season()
    customer = await make_customer()
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=None, today=NOW.date(), now=NOW, minutes=15
    )
    await cancellation.cancel_subscription(
        customer=customer,
        subscription_id=sub.id,
        today=NOW.date(),
        now=NOW,
        gateway=app.state.gateway,
    )
    await sub.refresh_from_db()
    assert sub.status == Status.CANCELLED and not await PlotClaim.exists()


async def test_nobody_can_cancel_someone_elses_subscription(app, stripe_port):
    _, sub = await active_subscription(app, stripe_port)
    intruder = await make_customer("li@example.com", "李")
    with pytest.raises(NotFound):
        await cancellation.cancel_subscription(
            customer=intruder,
            subscription_id=sub.id,
            today=date(2027, 2, 1),
            now=NOW,
            gateway=app.state.gateway,
        )
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


async def test_the_account_page_shows_the_refund_before_the_customer_cancels(
    client, app, stripe_port
):
    from tests.support import log_in_client

    _, sub = await active_subscription(app, stripe_port)
    await log_in_client(client, "wang@example.com")
    await client.get("/lang/en")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert "refunds the full ¥580" in page.text
    confirm = await client.get(f"/account/subscriptions/{sub.id}/cancel")
    assert "Yes, cancel and refund ¥580" in confirm.text
