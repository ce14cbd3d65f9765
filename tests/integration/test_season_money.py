"""A season's money on the reports page: taken, refunded and net per plan and per local day,
counting only payments that succeeded and refunds whose money went; another season's and
another cooperative's money never shows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from farm.land.models import Plan, Plot, Season
from farm.payments.accounts import season_money
from farm.payments.models import Payment, PaymentStatus, Refund, RefundReason, RefundStatus
from tests.support import SHIP_SEASON, make_active_subscription, make_season


async def pay(
    sub, fen, status=PaymentStatus.SUCCEEDED, paid_at=datetime(2026, 8, 20, 3, tzinfo=UTC)
):
    return await Payment.create(
        subscription_id=sub.id, intent_id=f"pi_{uuid.uuid4().hex}", client_secret="s",
        amount_fen=fen, status=status, created_at=paid_at,
        paid_at=paid_at if status != PaymentStatus.FAILED else None,
    )  # fmt: skip


async def refund(payment, fen, status, at=datetime(2026, 11, 1, 17, tzinfo=UTC)):
    await Refund.create(
        payment_id=payment.id, amount_fen=fen, reason=RefundReason.CUSTOMER_CANCEL,
        idempotency_key=uuid.uuid4().hex, status=status, created_at=at, updated_at=at,
    )  # fmt: skip


async def scene():
    plan = await make_season(plots=4, price_fen=58000, **SHIP_SEASON)
    season = await Season.get(id=plan.season_id)
    second = await Plan.create(
        season_id=season.id, field_id=plan.field_id, name="大地块", plot_area_m2=plan.plot_area_m2,
        price_fen=90000, max_plots=2, published=True, care_mode=plan.care_mode,
    )  # fmt: skip
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    a = await make_active_subscription(plan, plots[0])
    b = await make_active_subscription(plan, plots[1])
    c = await make_active_subscription(second, plots[2])
    paid_a = await pay(a, 58000)
    await pay(a, 58000, status=PaymentStatus.FAILED)  # a failed try takes nothing
    paid_b = await pay(b, 58000, status=PaymentStatus.REFUNDED)
    await refund(paid_b, 43500, RefundStatus.SUCCEEDED)  # 17:00 UTC: 11-02 in Shanghai
    await refund(paid_a, 1000, RefundStatus.FAILED)  # owed, not yet paid: not counted
    await pay(c, 90000, paid_at=datetime(2026, 8, 21, 2, tzinfo=UTC))
    return season, plan, second


async def test_taken_refunded_and_net_per_plan_and_per_local_day(conn):
    season, plan, second = await scene()
    money = await season_money(
        season, timezone="Asia/Shanghai", names={plan.id: "一分菜园", second.id: "大地块"}
    )
    by_plan = {r.label: (r.payments, r.taken_fen, r.refunded_fen, r.net_fen) for r in money.plans}
    assert by_plan == {"一分菜园": (2, 116000, 43500, 72500), "大地块": (1, 90000, 0, 90000)}
    by_day = {r.label: (r.taken_fen, r.refunded_fen) for r in money.days}
    assert by_day == {
        "2026-08-20": (116000, 0), "2026-08-21": (90000, 0), "2026-11-02": (0, 43500),
    }  # fmt: skip
    assert money.total.net_fen == 162500


async def test_another_seasons_money_is_not_counted(conn):
    season, plan, second = await scene()
    later = await make_season(plots=2, starts_on=date(2027, 9, 1), ends_on=date(2028, 9, 1),
                              sale_starts_on=date(2027, 8, 1), sale_ends_on=date(2028, 3, 1))  # fmt: skip
    other_plot = await Plot.filter(field_id=later.field_id).first()
    await pay(await make_active_subscription(later, other_plot), 77700)
    money = await season_money(season, timezone="Asia/Shanghai", names={})
    assert money.total.taken_fen == 206000


async def test_the_reports_page_shows_the_seasons_money_to_its_manager_only(client):
    from farm.accounts.models import Role, User
    from farm.accounts.services import sign_up
    from farm.land.models import Cooperative
    from tests.support import log_in_client

    season, plan, second = await scene()
    await sign_up(email="m@example.com", name="经理", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip
    await log_in_client(client, "m@example.com")
    page = await client.get(f"/manage/reports?season={season.id}")
    assert page.status_code == 200 and "收款与退款" in page.text
    assert "1,625" in page.text and "2,060" in page.text and "725" in page.text  # net, taken
    client.cookies.clear()
    other = await Cooperative.create(name="别的合作社")
    await sign_up(email="x@example.com", name="外人", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    await log_in_client(client, "x@example.com")
    assert (await client.get(f"/manage/reports?season={season.id}")).status_code == 404
    assert await User.filter(role=Role.MANAGER).count() == 2
