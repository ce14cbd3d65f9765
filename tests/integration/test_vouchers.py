"""Vouchers: issued once when a subscription turns active, caught up when missed, expired at
the season's end, voided on cancellation, shown only to their owner."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from tortoise.transactions import in_transaction

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.bootstrap import Runtime
from farm.land.models import PerkKind, Plan, PlanPerk, Plot, Season
from farm.lifecycle.activation import record_success
from farm.links import Links
from farm.mail import OutboxMailer
from farm.notifications.models import Notification
from farm.notifications.services import deliver_pending
from farm.partners.models import Partner, PartnerKind
from farm.qr import qr_svg
from farm.subscriptions.models import Status, Subscription
from farm.vouchers import rules, services
from farm.vouchers.models import Voucher, VoucherStatus
from scheduler.jobs import expire_vouchers as expire_job
from scheduler.jobs import issue_vouchers as issue_job
from tests.support import (
    ADDRESS,
    NOW,
    SHIP_SEASON,
    card_id,
    log_in_client,
    make_active_subscription,
    make_customer,
    make_season,
    signed_event,
)

BASE = "https://farm.example"
JSON = {"accept": "application/json"}


async def with_perks(plan: Plan) -> tuple[Partner, Partner]:
    """Two scenic-spot tickets at a scenic spot and one night at a guesthouse."""
    season = await Season.get(id=plan.season_id)
    spot = await Partner.create(cooperative_id=season.cooperative_id, kind=PartnerKind.SCENIC_SPOT,
                                name="青山景区", address="青山村北 1 号")  # fmt: skip
    stay = await Partner.create(cooperative_id=season.cooperative_id, kind=PartnerKind.GUESTHOUSE,
                                name="青山农家民宿", address="青山村东头")  # fmt: skip
    await PlanPerk.create(plan=plan, kind=PerkKind.SCENIC_TICKET, partner=spot, count=2)
    await PlanPerk.create(plan=plan, kind=PerkKind.FARM_STAY_NIGHT, partner=stay, count=1)
    return spot, stay


async def active_with_vouchers(plan: Plan, plot: Plot, customer=None) -> Subscription:
    sub = await make_active_subscription(plan, plot, customer=customer)
    async with in_transaction() as conn:
        await services.on_activated(subscription_id=sub.id, now=NOW, conn=conn, links=Links(BASE))
    return sub


async def plots_of(plan: Plan) -> list[Plot]:
    return list(await Plot.filter(field_id=plan.field_id).order_by("code"))


def assert_well_formed(vouchers: list[Voucher]) -> None:
    codes = [v.code for v in vouchers]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 12 and set(c) <= set(rules.ALPHABET) for c in codes)


# ---- issuing on activation ----


async def paid_through_checkout(client, stripe_port, plan: Plan):
    await make_customer("wang@example.com")
    token = await log_in_client(client, "wang@example.com")
    plot = (await plots_of(plan))[0]
    await client.post(f"/plans/{plan.id}/reserve", data={"plot_id": plot.id, "csrf_token": token})
    sub = await Subscription.get(plot_id=plot.id)
    await client.post(f"/checkout/{sub.id}/address", data={**ADDRESS, "csrf_token": token})
    r = await client.post(
        f"/checkout/{sub.id}/pay",
        data={"card_id": await card_id(stripe_port), "csrf_token": token},
        headers=JSON,
    )
    assert r.json()["status"] == "succeeded"
    return sub, token


async def test_paying_issues_the_plans_perks_as_vouchers_once_however_often_it_is_applied(
    client, app, stripe_port
):
    plan = await make_season()
    spot, stay = await with_perks(plan)
    sub, _token = await paid_through_checkout(client, stripe_port, plan)
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    first = await Voucher.filter(subscription_id=sub.id).order_by("id")
    # The same payment applied again: Stripe's webhook, a retried event, the return page.
    from farm.payments.models import Payment

    payment = await Payment.get(subscription_id=sub.id)
    intent = await app.state.gateway.retrieve(payment.intent_id)
    obj = (
        await app.state.gateway.client.v1.payment_intents.retrieve_async(payment.intent_id)
    ).to_dict()
    for event_id in ("evt_v1", "evt_v2"):
        body, signature = signed_event(
            {
                "id": event_id,
                "object": "event",
                "type": "payment_intent.succeeded",
                "data": {"object": obj},
            }  # fmt: skip
        )
        r = await client.post(
            "/stripe/webhook", content=body, headers={"stripe-signature": signature}
        )
        assert r.status_code == 200
    await record_success(
        intent,
        now=NOW,
        runtime=replace(app.state.runtime, settings=replace(app.state.settings, base_url=BASE)),
    )
    async with in_transaction() as conn:  # and activation's follow-up itself, run twice
        assert await services.on_activated(
            subscription_id=sub.id, now=NOW, conn=conn, links=Links(BASE)
        ) == []  # fmt: skip

    vouchers = await Voucher.filter(subscription_id=sub.id).order_by("id")
    assert [v.id for v in vouchers] == [v.id for v in first]
    assert sorted((v.kind, v.partner_id, v.seq) for v in vouchers) == [
        (PerkKind.FARM_STAY_NIGHT, stay.id, 1),
        (PerkKind.SCENIC_TICKET, spot.id, 1),
        (PerkKind.SCENIC_TICKET, spot.id, 2),
    ]
    season = await Season.get(id=plan.season_id)
    assert all(
        v.status == VoucherStatus.ISSUED
        and (v.valid_from, v.valid_until) == (season.starts_on, season.ends_on)
        for v in vouchers
    )
    assert_well_formed(vouchers)
    keys = sorted(await Notification.filter(user_id=sub.customer_id).values_list("key", flat=True))
    assert keys == [f"activated:{sub.id}", f"vouchers:{sub.id}"]


async def test_a_plan_without_perks_issues_no_voucher_and_mails_only_the_activation(conn):
    plan = await make_season(**SHIP_SEASON)
    sub = await active_with_vouchers(plan, (await plots_of(plan))[0])
    assert await Voucher.all().count() == 0
    assert await Notification.all().values_list("key", flat=True) == [f"activated:{sub.id}"]


async def test_the_mails_are_in_the_customers_language_and_are_delivered_once(conn, tmp_path):
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    customer = await make_customer("en@example.com", "Mary")
    customer.language = "en"
    await customer.save()
    sub = await active_with_vouchers(plan, (await plots_of(plan))[0], customer=customer)
    mailer = OutboxMailer(tmp_path / "outbox")
    assert await deliver_pending(mailer=mailer, now=NOW) == 2
    async with in_transaction() as conn_:
        await services.on_activated(subscription_id=sub.id, now=NOW, conn=conn_, links=Links(BASE))
    assert await deliver_pending(mailer=mailer, now=NOW) == 0
    mails = {m.subject: m for m in mailer.messages(to="en@example.com")}
    assert len(mails) == 2
    activated = mails["Plot T01 is yours for the season"]
    assert "Hello Mary" in activated.body
    assert "Test season" in activated.body and "2027-08-31" in activated.body  # last day
    assert "2026-11-23" not in activated.body and "2026-12-01" in activated.body  # next ship day
    assert f"{BASE}/account/subscriptions/{sub.id}" in activated.body
    listed = mails["Your vouchers for plot T01"]
    for v in await Voucher.filter(subscription_id=sub.id):
        assert rules.format_code(v.code) in listed.body
    assert "Scenic-spot ticket · 青山景区" in listed.body and "Farm-stay night" in listed.body
    assert f"{BASE}/account/subscriptions/{sub.id}/vouchers" in listed.body


async def test_each_customer_gets_the_mails_in_their_own_language(conn, monkeypatch):
    import gettext

    from farm import i18n

    class Marked(gettext.NullTranslations):  # stands in for the catalog, whatever it holds
        def gettext(self, message):
            return "ZH:" + message

    real = i18n.translations
    monkeypatch.setattr(
        i18n, "translations", lambda lang: Marked() if lang == "zh_CN" else real(lang)
    )
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    plots = await plots_of(plan)
    english = await make_customer("en@example.com", "Mary")
    english.language = "en"
    await english.save()
    zh = await active_with_vouchers(plan, plots[0])
    en = await active_with_vouchers(plan, plots[1], customer=english)
    for key in ("activated", "vouchers"):
        zh_note = await Notification.get(key=f"{key}:{zh.id}")
        en_note = await Notification.get(key=f"{key}:{en.id}")
        assert zh_note.subject.startswith("ZH:") and "ZH:" in zh_note.body
        assert "ZH:" not in en_note.subject + en_note.body


async def test_a_code_collision_tries_a_fresh_code_and_keeps_the_transaction(conn, monkeypatch):
    plan = await make_season(**SHIP_SEASON)
    plots = await plots_of(plan)
    await with_perks(plan)
    first = await active_with_vouchers(plan, plots[0])
    taken = (await Voucher.filter(subscription_id=first.id).first()).code
    codes = iter([taken, taken, "23456789ABCD", "23456789ABCE", "23456789ABCF"])
    monkeypatch.setattr(rules, "new_code", lambda: next(codes))
    # The check before inserting is skipped: the insert itself collides, in a savepoint.
    monkeypatch.setattr(services, "_code_taken", _never_taken)
    second = await make_active_subscription(plan, plots[1])
    async with in_transaction() as conn_:
        issued = await services.issue_vouchers(subscription_id=second.id, now=NOW, conn=conn_)
        await Subscription.filter(id=second.id).using_db(conn_).update(sign_name="still here")
    assert sorted(v.code for v in issued) == ["23456789ABCD", "23456789ABCE", "23456789ABCF"]
    assert (await Subscription.get(id=second.id)).sign_name == "still here"
    assert await Voucher.filter(subscription_id=second.id).count() == 3


async def _never_taken(code, conn) -> bool:
    return False


# ---- the catch-up job ----


async def test_the_catch_up_job_issues_missed_vouchers_and_a_second_run_issues_none(
    conn, settings, monkeypatch
):
    plan = await make_season(plots=6, **SHIP_SEASON)
    await with_perks(plan)
    plots = await plots_of(plan)
    missed = [await make_active_subscription(plan, p) for p in plots[:3]]  # never issued
    done = await active_with_vouchers(plan, plots[3])
    partial = await make_active_subscription(plan, plots[4])
    perk = await PlanPerk.get(plan_id=plan.id, kind=PerkKind.SCENIC_TICKET)
    await Voucher.create(subscription=partial, perk=perk, seq=1, kind=perk.kind, code="23456789ABCD",
                         valid_from=SHIP_SEASON["starts_on"], valid_until=SHIP_SEASON["ends_on"],
                         issued_at=NOW)  # fmt: skip
    cancelled = await make_active_subscription(plan, plots[5])
    await Subscription.filter(id=cancelled.id).update(status=Status.REFUNDED)
    done_codes = set(await Voucher.filter(subscription_id=done.id).values_list("code", flat=True))
    monkeypatch.setattr(services, "CATCH_UP_CHUNK", 2)  # walk it page by page

    runtime = Runtime(replace(settings, base_url=BASE), gateway=None, mailer=None, clock=None)  # type: ignore[arg-type]
    assert await issue_job(runtime, today=date(2026, 11, 23), now=NOW) == 3 * 3 + 2
    assert await issue_job(runtime, today=date(2026, 11, 24), now=NOW) == 0

    for sub in [*missed, partial, done]:
        assert await Voucher.filter(subscription_id=sub.id).count() == 3
    assert await Voucher.filter(subscription_id=cancelled.id).count() == 0
    assert set(await Voucher.filter(subscription_id=done.id).values_list("code", flat=True)) == (
        done_codes
    )
    assert_well_formed(list(await Voucher.all()))
    for sub in [*missed, partial]:
        assert await Notification.filter(key=f"vouchers:{sub.id}").count() == 1
        assert not await Notification.filter(key=f"activated:{sub.id}").exists()


async def test_the_catch_up_job_leaves_seasons_that_have_ended(conn):
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    sub = await make_active_subscription(plan, (await plots_of(plan))[0])
    assert (
        await services.issue_missing_vouchers(today=date(2027, 9, 1), now=NOW, links=Links(BASE))
        == 0
    )
    assert (
        await services.issue_missing_vouchers(today=date(2027, 8, 31), now=NOW, links=Links(BASE))
        == 3
    )
    assert await Voucher.filter(subscription_id=sub.id).count() == 3


# ---- expiry and cancellation ----


async def test_vouchers_expire_at_the_seasons_end_and_a_second_run_changes_nothing(conn, settings):
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    sub = await active_with_vouchers(plan, (await plots_of(plan))[0])
    used, *rest = await Voucher.filter(subscription_id=sub.id).order_by("id")
    await Voucher.filter(id=used.id).update(status=VoucherStatus.REDEEMED, redeemed_at=NOW)
    runtime = Runtime(settings, gateway=None, mailer=None, clock=None)  # type: ignore[arg-type]
    assert await expire_job(runtime, today=date(2027, 8, 31), now=NOW) == 0  # the last day
    later = NOW + timedelta(days=300)
    assert await expire_job(runtime, today=date(2027, 9, 1), now=later) == 2
    assert await expire_job(runtime, today=date(2027, 9, 2), now=later + timedelta(1)) == 0
    for v in rest:
        await v.refresh_from_db()
        assert v.status == VoucherStatus.EXPIRED and v.ended_at == later
    await used.refresh_from_db()
    assert used.status == VoucherStatus.REDEEMED and used.ended_at is None


async def test_cancelling_voids_the_unused_vouchers(client, stripe_port):
    plan = await make_season()
    await with_perks(plan)
    sub, token = await paid_through_checkout(client, stripe_port, plan)
    used = await Voucher.filter(subscription_id=sub.id).order_by("id").first()
    await Voucher.filter(id=used.id).update(status=VoucherStatus.REDEEMED, redeemed_at=NOW)
    r = await client.post(f"/account/subscriptions/{sub.id}/cancel", data={"csrf_token": token})
    assert r.status_code == 303
    await sub.refresh_from_db()
    assert sub.status == Status.REFUNDED
    states = (
        await Voucher.filter(subscription_id=sub.id).order_by("id").values_list("status", flat=True)
    )
    assert states == [VoucherStatus.REDEEMED, VoucherStatus.VOID, VoucherStatus.VOID]
    void = await Voucher.filter(subscription_id=sub.id, status=VoucherStatus.VOID).first()
    assert void.ended_at is not None
    page = await client.get(f"/account/vouchers/{void.code}")
    assert page.status_code == 200 and '<svg class="qr"' not in page.text
    assert "voucher-state-void" in page.text
    # nothing to catch up on a cancelled subscription
    assert await services.issue_missing_vouchers(today=NOW.date(), now=NOW, links=Links(BASE)) == 0


# ---- the customer's pages ----


async def test_the_customer_sees_their_vouchers_and_one_large_with_its_qr_code(client, app):
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    customer = await make_customer("wang@example.com")
    sub = await active_with_vouchers(plan, (await plots_of(plan))[0], customer=customer)
    await log_in_client(client, "wang@example.com")
    await client.get("/lang/en")
    listing = await client.get(f"/account/subscriptions/{sub.id}/vouchers")
    assert listing.status_code == 200
    vouchers = await Voucher.filter(subscription_id=sub.id).order_by("id")
    for v in vouchers:
        assert rules.format_code(v.code) in listing.text
        assert f'href="/account/vouchers/{v.code}"' in listing.text
    assert listing.text.count("Scenic-spot ticket") == 2 and "Farm-stay night" in listing.text
    assert "青山景区" in listing.text and "青山村北 1 号" in listing.text
    assert "2027-08-31" in listing.text  # the last valid day

    ticket = vouchers[0]
    page = await client.get(f"/account/vouchers/{ticket.code}")
    assert page.status_code == 200
    display = rules.format_code(ticket.code)
    expected_qr = qr_svg(f"{app.state.settings.base_url}/v/{ticket.code}", size_px=240,
                         label=display)  # fmt: skip
    assert str(expected_qr) in page.text
    assert display in page.text and "青山村北 1 号" in page.text and "2027-08-31" in page.text
    # typed as printed, or in lower case: the same voucher
    assert (await client.get(f"/account/vouchers/{display.lower()}")).status_code == 200


async def test_a_used_or_expired_voucher_says_so_and_shows_no_qr_code(client):
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    customer = await make_customer("wang@example.com")
    sub = await active_with_vouchers(plan, (await plots_of(plan))[0], customer=customer)
    used, expired, _valid = await Voucher.filter(subscription_id=sub.id).order_by("id")
    await Voucher.filter(id=used.id).update(status=VoucherStatus.REDEEMED, redeemed_at=NOW)
    await Voucher.filter(id=expired.id).update(status=VoucherStatus.EXPIRED, ended_at=NOW)
    await log_in_client(client, "wang@example.com")
    await client.get("/lang/en")
    for v, word in ((used, "was used on 2026-11-23"), (expired, "has expired")):
        page = await client.get(f"/account/vouchers/{v.code}")
        assert page.status_code == 200 and word in page.text
        assert '<svg class="qr"' not in page.text


@pytest.mark.parametrize("role", ["customer", "manager", "partner_staff"])
async def test_no_one_but_the_owner_sees_a_voucher(client, role):
    plan = await make_season(**SHIP_SEASON)
    await with_perks(plan)
    sub = await active_with_vouchers(plan, (await plots_of(plan))[0])
    season = await Season.get(id=plan.season_id)
    extra = {
        "customer": {},
        "manager": {"role": Role.MANAGER, "cooperative_id": season.cooperative_id},
        "partner_staff": {
            "role": Role.PARTNER_STAFF,
            "partner_id": (await Partner.first()).id,
        },  # fmt: skip
    }[role]
    await sign_up(email="other@example.com", name="别人", password="correct horse",
                  language="zh_CN", **extra)  # fmt: skip
    await log_in_client(client, "other@example.com")
    voucher = await Voucher.filter(subscription_id=sub.id).first()
    for path in (
        f"/account/vouchers/{voucher.code}",
        f"/account/subscriptions/{sub.id}/vouchers",
        "/account/vouchers/not-a-code",
        "/account/vouchers/23456789ABCD",
    ):
        r = await client.get(path)
        assert r.status_code == 404, path
        main = r.text[r.text.index("<main") :]  # the language links repeat the path asked
        assert voucher.code not in main and rules.format_code(voucher.code) not in main


async def test_a_visitor_is_sent_to_log_in(client):
    r = await client.get("/account/vouchers/23456789ABCD")
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
