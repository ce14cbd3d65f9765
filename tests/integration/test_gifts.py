"""Giving a plot: bought at checkout, a card only its giver sees, claimed once by its
recipient (who then owns the subscription, its boxes, vouchers and mail), reminders, and the
fall-back to the giver of a gift nobody claimed by its first ship day."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest

from farm.accounts.models import Attempt, User
from farm.errors import Conflict
from farm.gifts import services
from farm.gifts.models import Gift
from farm.land.models import PerkKind, PlanPerk, Plot, PlotClaim, Season
from farm.links import Links
from farm.notifications.models import Notification
from farm.partners.models import Partner, PartnerKind
from farm.shipments import batches
from farm.shipments.models import Shipment
from farm.subscriptions.models import Status, Subscription
from farm.vouchers.models import Voucher
from tests.support import (
    ADDRESS,
    NOW,
    SHIP_SEASON,
    card_id,
    log_in_client,
    make_active_subscription,
    make_customer,
    make_season,
)

JSON = {"accept": "application/json"}
LINKS = Links("https://farm.example")
THEIRS = {"recipient": "李小红", "phone": "13900139000", "province": "北京",
          "city": "北京市", "address": "朝阳区建国路 8 号"}  # fmt: skip


async def _other_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def buy_gift(client, stripe_port, plan, *, email="giver@example.com", language="zh_CN"):
    """A customer reserves a plot, makes it a gift for 小红 and pays by card."""
    from farm.accounts.services import sign_up

    await sign_up(email=email, name="王大明", password="correct horse", language=language)
    token = await log_in_client(client, email)
    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    await client.post(f"/plans/{plan.id}/reserve", data={"plot_id": plot.id, "csrf_token": token})
    sub = await Subscription.get(plot_id=plot.id)
    r = await client.post(f"/checkout/{sub.id}/gift", data={
        "gift": "yes", "recipient_name": "小红", "message": "生日快乐！\n一起种地吧。",
        "csrf_token": token,
    })  # fmt: skip
    assert r.status_code == 303, r.text
    await client.post(f"/checkout/{sub.id}/address", data={**ADDRESS, "csrf_token": token})
    r = await client.post(
        f"/checkout/{sub.id}/pay",
        data={"card_id": await card_id(stripe_port), "csrf_token": token},
        headers=JSON,
    )
    assert r.json()["status"] == "succeeded"
    return await Gift.get(subscription_id=sub.id), token


def code_of(app, gift: Gift) -> str:
    return services.code_of(gift, secret=app.state.runtime.secret)


async def with_perks(plan) -> None:
    season = await Season.get(id=plan.season_id)
    spot = await Partner.create(cooperative_id=season.cooperative_id, kind=PartnerKind.SCENIC_SPOT,
                                name="青山景区", address="青山村北 1 号")  # fmt: skip
    await PlanPerk.create(plan=plan, kind=PerkKind.SCENIC_TICKET, partner=spot, count=1)


async def test_a_gift_paid_at_checkout_keeps_the_givers_address_aside_and_mails_its_card(
    client, app, stripe_port
):
    plan = await make_season()
    await with_perks(plan)
    gift, _token = await buy_gift(client, stripe_port, plan)
    sub = await Subscription.get(id=gift.subscription_id)
    assert sub.status == Status.ACTIVE and sub.sign_name == "小红"
    assert (sub.recipient, sub.address) == ("", "")  # no box until its recipient gives theirs
    assert (gift.recipient, gift.address) == (ADDRESS["recipient"], ADDRESS["address"])
    assert gift.claim_by == date(2027, 3, 1) and gift.code_hash and len(gift.code_hash) == 64
    assert code_of(app, gift).replace("-", "") not in str(await Gift.filter(id=gift.id).values())
    giver = await User.get(email="giver@example.com")
    kinds = set(await Notification.filter(user_id=giver.id).values_list("kind", flat=True))
    assert "gift_ready" in kinds and "vouchers" not in kinds  # the vouchers are the recipient's
    ready = await Notification.get(user_id=giver.id, kind="gift_ready")
    assert "礼品卡" in ready.subject and "/account/gifts/" in ready.body
    # the return page takes the giver to the card
    r = await client.get(f"/checkout/{sub.id}/return")
    assert r.status_code == 303 and r.headers["location"] == f"/account/gifts/{gift.id}"


async def test_the_gift_mail_is_in_the_givers_language(client, app, stripe_port):
    plan = await make_season()
    gift, _token = await buy_gift(client, stripe_port, plan, language="en")
    ready = await Notification.get(user_id=gift.giver_id, kind="gift_ready")
    assert ready.subject == "Your gift of a plot is ready: print its card"


async def test_the_card_and_its_pdf_are_the_givers_only(client, app, stripe_port):
    plan = await make_season()
    gift, _token = await buy_gift(client, stripe_port, plan)
    code = code_of(app, gift)
    page = await client.get(f"/account/gifts/{gift.id}")
    body = page.text.split("<body", 1)[1]
    assert page.status_code == 200 and code in body and "<svg" in body and "生日快乐" in body
    pdf = await client.get(f"/account/gifts/{gift.id}/card.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'inline; filename="gift-card-{gift.id}.pdf"'
    assert pdf.headers["cache-control"] == "private, no-store"  # the claim code is on it
    account = (await client.get("/account")).text.split("<body", 1)[1]
    assert "送给小红的" in account and "等待领取" in account
    await make_customer("other@example.com")
    async with await _other_client(app) as other:
        await log_in_client(other, "other@example.com")
        assert (await other.get(f"/account/gifts/{gift.id}")).status_code == 404
        assert (await other.get(f"/account/gifts/{gift.id}/card.pdf")).status_code == 404
    async with await _other_client(app) as visitor:
        r = await visitor.get(f"/account/gifts/{gift.id}")
        assert r.status_code in (302, 303) and "/login" in r.headers["location"]


async def test_claiming_moves_the_plot_to_its_recipient_and_the_giver_sees_only_that_it_was(
    client, app, stripe_port
):
    plan = await make_season()
    await with_perks(plan)
    gift, giver_token = await buy_gift(client, stripe_port, plan)
    code = code_of(app, gift)
    sub_id = gift.subscription_id
    async with await _other_client(app) as them:
        # from the QR code: a visitor is asked to log in, and comes back with the code
        page = await them.get(f"/gift?code={code}")
        assert page.status_code == 200 and "/login?next=" in page.text and code in page.text
        await make_customer("hong@example.com", name="李小红")
        token = await log_in_client(them, "hong@example.com")
        page = await them.get(f"/gift?code={code}")
        assert "王大明" in page.text.split("<body", 1)[1] and page.status_code == 200
        r = await them.post("/gift", data={"code": code.lower(), **THEIRS, "csrf_token": token})
        assert r.status_code == 303 and r.headers["location"].startswith(
            f"/account/subscriptions/{sub_id}"
        )
        assert (await them.get(f"/account/subscriptions/{sub_id}")).status_code == 200
        vouchers = await them.get(f"/account/subscriptions/{sub_id}/vouchers")
        assert vouchers.status_code == 200
    hong = await User.get(email="hong@example.com")
    sub = await Subscription.get(id=sub_id)
    assert sub.customer_id == hong.id and sub.address == THEIRS["address"]
    assert (await PlotClaim.get(subscription_id=sub_id)).customer_id == hong.id
    assert await Voucher.filter(subscription_id=sub_id).count() == 1
    # the vouchers mail goes to the recipient now, the giver hears only "claimed"
    assert await Notification.filter(user_id=hong.id, kind="vouchers").count() == 1
    claimed = await Notification.get(user_id=gift.giver_id, kind="gift_claimed")
    assert "已被领取" in claimed.subject and THEIRS["address"] not in claimed.body + claimed.html
    # the giver no longer reaches the subscription; the card says claimed, without the code
    assert (await client.get(f"/account/subscriptions/{sub_id}")).status_code == 404
    assert (await client.get(f"/account/subscriptions/{sub_id}/deliveries")).status_code == 404
    assert (await client.get(f"/account/subscriptions/{sub_id}/vouchers")).status_code == 404
    card = (await client.get(f"/account/gifts/{gift.id}")).text.split("<body", 1)[1]
    assert "已于" in card and code not in card and THEIRS["address"] not in card
    assert (await client.get(f"/account/gifts/{gift.id}/card.pdf")).status_code == 404
    account = (await client.get("/account")).text.split("<body", 1)[1]
    assert "已于" in account and THEIRS["address"] not in account
    # and the code is spent
    async with await _other_client(app) as third:
        await make_customer("third@example.com")
        token = await log_in_client(third, "third@example.com")
        r = await third.post("/gift", data={"code": code, **THEIRS, "csrf_token": token})
        assert r.status_code == 409 and "已经被领取" in r.text


async def test_a_wrong_code_is_refused_beside_its_field_and_guessing_is_limited(client, app):
    await make_customer("guess@example.com")
    token = await log_in_client(client, "guess@example.com")
    data = {"code": "ABCD-EFGH-JKMN-PQRS", **THEIRS, "csrf_token": token}
    r = await client.post("/gift", data=data)
    assert r.status_code == 422 and 'id="f-code"' in r.text and "不是礼物的领取码" in r.text
    for _i in range(9):
        assert (await client.post("/gift", data=data)).status_code == 422
    r = await client.post("/gift", data=data)
    assert r.status_code == 429
    assert await Attempt.filter(kind="gift-code-address").count() == 10
    assert await Subscription.all().count() == 0


async def test_the_giver_cannot_claim_their_own_gift_or_change_its_address(
    client, app, stripe_port
):
    plan = await make_season()
    gift, token = await buy_gift(client, stripe_port, plan)
    r = await client.post("/gift", data={"code": code_of(app, gift), **THEIRS, "csrf_token": token})
    assert r.status_code == 409 and "你自己送出的礼物" in r.text
    r = await client.post(f"/checkout/{gift.subscription_id}/address",
                          data={**THEIRS, "back": "account", "csrf_token": token})  # fmt: skip
    assert r.status_code == 409
    assert (await Subscription.get(id=gift.subscription_id)).address == ""


async def paid_gift(plan, *, secret: str, giver=None, paid_on=date(2026, 12, 1)) -> Gift:
    """A gift whose payment arrived (activation's follow-up, called as activation does)."""
    from tortoise.transactions import in_transaction

    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    giver = giver or await make_customer("giver@example.com", name="王大明")
    sub = await make_active_subscription(plan, plot, customer=giver)
    await Gift.create(subscription=sub, giver=giver, recipient_name="小红", created_at=NOW)
    async with in_transaction() as conn:
        gift = await services.on_paid(subscription_id=sub.id, now=NOW, today=paid_on, conn=conn,
                                      secret=secret, links=LINKS)  # fmt: skip
    return gift


SECRET = "x" * 40


async def test_two_claims_at_the_same_moment_one_wins(conn):
    plan = await make_season()
    gift = await paid_gift(plan, secret=SECRET)
    code = services.code_of(gift, secret=SECRET)
    a = await make_customer("a@example.com", name="甲")
    b = await make_customer("b@example.com", name="乙")
    results = await asyncio.gather(
        *(services.claim_gift(customer=c, code=code, client=f"10.0.0.{i}", now=NOW, links=LINKS,
                              **THEIRS) for i, c in enumerate((a, b)))
        , return_exceptions=True,
    )  # fmt: skip
    won = [r for r in results if isinstance(r, Subscription)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    gift = await Gift.get(id=gift.id)
    sub = await Subscription.get(id=gift.subscription_id)
    assert gift.claimed_by_id == sub.customer_id == won[0].customer_id
    assert await Notification.filter(kind="gift_claimed").count() == 1


async def test_an_unclaimed_gift_falls_back_to_its_giver_on_its_first_ship_day_once(conn):
    plan = await make_season()
    gift = await paid_gift(plan, secret=SECRET)
    day = gift.claim_by
    assert await services.return_unclaimed(today=day - timedelta(days=1), now=NOW, links=LINKS) == 0
    assert await services.return_unclaimed(today=day, now=NOW, links=LINKS) == 1
    assert (
        await services.return_unclaimed(today=day + timedelta(days=30), now=NOW, links=LINKS) == 0
    )
    sub = await Subscription.get(id=gift.subscription_id)
    assert (
        sub.customer_id == gift.giver_id
        and sub.address == "人民路 1 号"
        and sub.sign_name == "王大明"
    )
    told = await Notification.filter(kind="gift_returned")
    assert len(told) == 1 and told[0].user_id == gift.giver_id and "归你" in told[0].subject
    # its code claims nothing any more
    hong = await make_customer("hong@example.com")
    with pytest.raises(Conflict):
        await services.claim_gift(customer=hong, code=services.code_of(gift, secret=SECRET),
                                  client="10.0.0.9", now=NOW, links=LINKS, **THEIRS)  # fmt: skip


async def test_the_giver_is_reminded_once_and_not_after_a_claim(conn):
    plan = await make_season()
    gift = await paid_gift(plan, secret=SECRET)
    assert gift.remind_on == date(2027, 2, 22)
    assert await services.remind_givers(today=date(2027, 2, 21), now=NOW, links=LINKS) == 0
    assert await services.remind_givers(today=date(2027, 2, 22), now=NOW, links=LINKS) == 1
    assert await services.remind_givers(today=date(2027, 2, 25), now=NOW, links=LINKS) == 0
    reminders = await Notification.filter(kind="gift_reminder")
    assert len(reminders) == 1 and "还没有被领取" in reminders[0].subject
    # a claimed gift's giver is not reminded
    other_plan = await make_season()
    other = await paid_gift(other_plan, secret=SECRET, giver=await make_customer("g2@example.com"))
    await services.claim_gift(customer=await make_customer("r2@example.com"),
                              code=services.code_of(other, secret=SECRET), client="10.0.0.3",
                              now=NOW, links=LINKS, **THEIRS)  # fmt: skip
    assert await services.remind_givers(today=date(2027, 2, 22), now=NOW, links=LINKS) == 0


async def test_no_box_is_made_for_a_gift_waiting_for_its_recipient(conn):
    plan = await make_season(plots=2, **SHIP_SEASON)
    gift = await paid_gift(plan, secret=SECRET, paid_on=date(2026, 8, 20))
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    kept = await make_active_subscription(plan, plots[1])
    await batches.make_due_batches(today=date(2026, 9, 1), now=NOW)
    boxes = await Shipment.filter(ship_on=date(2026, 9, 1)).values_list(
        "subscription_id", flat=True
    )
    assert list(boxes) == [kept.id] and gift.subscription_id not in boxes


async def test_what_cannot_be_a_code_is_refused_beside_its_field_without_counting_a_guess(client):
    await make_customer("typo@example.com")
    token = await log_in_client(client, "typo@example.com")
    r = await client.post("/gift", data={"code": "ABCD-EFGH", **THEIRS, "csrf_token": token})
    assert r.status_code == 422 and 'id="f-code"' in r.text
    assert await Attempt.filter(kind="gift-code-address").count() == 0
