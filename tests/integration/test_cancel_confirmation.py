"""Cancelling is never one tap: a page states the refund, the rule that gives it and what
else ends (booked farm stays, unused vouchers), and a button confirms it. The cancellation and
its refund are mailed once, in the customer's language, also when a manager cancels for them.
Ended subscriptions look ended, and nothing that cannot be refunded has a cancel button."""

from __future__ import annotations

from datetime import date

import pytest

from farm.errors import Conflict
from farm.lifecycle import cancellation
from farm.notifications.models import Notification
from farm.partners import bookings
from farm.partners.models import Booking, BookingStatus, Room
from farm.subscriptions.models import Status, Subscription
from farm.vouchers.models import Voucher, VoucherStatus
from tests.integration.test_vouchers import paid_through_checkout, plots_of, with_perks
from tests.support import NOW, log_in_client, make_active_subscription, make_customer, make_season


async def paid_with_a_stay(client, stripe_port):
    plan = await make_season()
    _spot, house = await with_perks(plan)
    await Room.create(partner=house, name="竹间", capacity=2)
    sub, token = await paid_through_checkout(client, stripe_port, plan)
    customer = await sub.customer
    booking = await bookings.book_stay(
        customer=customer, subscription_id=sub.id, partner_id=house.id,
        first_night=date(2027, 4, 10), nights=1, guests=2, today=NOW.date(), now=NOW,
    )  # fmt: skip
    return sub, token, booking


async def test_the_cancel_button_opens_a_page_stating_refund_rule_and_what_ends_and_changes_nothing(
    client, stripe_port
):
    sub, _token, booking = await paid_with_a_stay(client, stripe_port)
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert f'href="/account/subscriptions/{sub.id}/cancel"' in page.text
    assert f'action="/account/subscriptions/{sub.id}/cancel"' not in page.text  # not one tap
    confirm = await client.get(f"/account/subscriptions/{sub.id}/cancel")
    assert confirm.status_code == 200
    text = confirm.text
    assert "¥580" in text and "季节尚未开始" in text or "尚未开始" in text
    assert "青山农家民宿" in text and "2027-04-10" in text  # the booked stay that ends
    assert "景区门票" in text or "门票" in text  # the unused vouchers voided
    assert f'action="/account/subscriptions/{sub.id}/cancel"' in text
    await sub.refresh_from_db()
    await booking.refresh_from_db()
    assert sub.status == Status.ACTIVE and booking.status == BookingStatus.BOOKED
    assert not await Notification.filter(kind="cancelled").exists()


async def test_confirming_cancels_and_mails_the_cancellation_once_in_chinese(client, stripe_port):
    sub, token, booking = await paid_with_a_stay(client, stripe_port)
    r = await client.post(f"/account/subscriptions/{sub.id}/cancel", data={"csrf_token": token})
    assert r.status_code == 303
    await sub.refresh_from_db()
    await booking.refresh_from_db()
    assert sub.status == Status.REFUNDED and booking.status == BookingStatus.CANCELLED
    again = await client.post(f"/account/subscriptions/{sub.id}/cancel", data={"csrf_token": token})
    assert again.status_code == 409
    mails = await Notification.filter(kind="cancelled")
    assert len(mails) == 1
    mail = mails[0]
    assert mail.key == f"cancelled:{sub.id}" and mail.to == "wang@example.com"
    assert "已取消" in mail.subject and "¥580" in mail.subject
    assert "青山农家民宿" in mail.body and "2027-04-10" in mail.body
    assert "作废" in mail.body and f"/account/subscriptions/{sub.id}" in mail.body
    assert "¥580" in mail.html


async def test_a_manager_cancelling_for_the_customer_sends_the_mail_with_their_reason(
    client, app, stripe_port
):
    sub, _token, _booking = await paid_with_a_stay(client, stripe_port)
    customer = await sub.customer
    from farm.accounts.models import Role, User
    from farm.land.models import Season

    season = await Season.get(id=sub.season_id)
    manager = await User.create(email="m@example.com", name="经理", password_hash="x",
                                role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip
    await cancellation.cancel_subscription(
        customer=customer, subscription_id=sub.id, today=NOW.date(), now=NOW,
        gateway=app.state.gateway, reason="地块被洪水淹没", by=manager,
    )  # fmt: skip
    await sub.refresh_from_db()
    assert sub.cancel_reason == "manager"
    mail = await Notification.get(kind="cancelled")
    assert "合作社" in mail.body and "地块被洪水淹没" in mail.body


async def test_a_subscription_without_a_payment_has_no_cancel_button_and_the_route_refuses(client):
    plan = await make_season()
    customer = await make_customer("demo@example.com")
    sub = await make_active_subscription(plan, (await plots_of(plan))[0], customer=customer)
    token = await log_in_client(client, "demo@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert page.status_code == 200
    assert f"/account/subscriptions/{sub.id}/cancel" not in page.text
    assert "没有需要退的款" in page.text or "无需退款" in page.text or "没有付款" in page.text
    shown = await client.get(f"/account/subscriptions/{sub.id}/cancel")
    posted = await client.post(
        f"/account/subscriptions/{sub.id}/cancel", data={"csrf_token": token}
    )
    for r in (shown, posted):
        assert r.status_code == 409
        assert "无法取消" in r.text
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    with pytest.raises(Conflict):
        await cancellation.cancellation_preview(
            customer=customer, subscription_id=sub.id, today=NOW.date()
        )


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.REFUNDED, Status.COMPLETED])
async def test_an_ended_subscription_lists_no_coming_ship_days_and_no_cancel(client, status):
    plan = await make_season()
    customer = await make_customer("demo@example.com")
    sub = await make_active_subscription(plan, (await plots_of(plan))[0], customer=customer)
    await Subscription.filter(id=sub.id).update(status=status, cancelled_at=NOW)
    await log_in_client(client, "demo@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert page.status_code == 200
    assert 'class="shipdays"' not in page.text and "2027-03-16" not in page.text
    assert 'id="ended"' in page.text
    assert "/deliveries" not in page.text  # nothing was sent, nothing to hold
    assert f"/account/subscriptions/{sub.id}/cancel" not in page.text
    account = await client.get("/account")
    assert 'class="card sub ended"' in account.text and "已于" in account.text


async def test_the_voucher_states_after_a_confirmed_cancellation(client, stripe_port):
    sub, token, _booking = await paid_with_a_stay(client, stripe_port)
    await client.post(f"/account/subscriptions/{sub.id}/cancel", data={"csrf_token": token})
    states = set(await Voucher.filter(subscription_id=sub.id).values_list("status", flat=True))
    assert states == {VoucherStatus.VOID}
    assert not await Booking.filter(subscription_id=sub.id, status=BookingStatus.BOOKED).exists()
