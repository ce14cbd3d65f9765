"""Plans have a draft state: a plan added in the console is a draft, previewed by its own
cooperative's managers on the public plan page (with a banner), never on the offer and never
reservable, until it is published. A sale window may be extended after the first sale and
never cut short before today."""

from datetime import timedelta

import pytest

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.errors import FieldErrors, NotFound
from farm.land.models import Cooperative, Plan, Plot, Season
from farm.seasons import console as seasons
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_console_land import form_of, plan_input, season_input
from tests.integration.test_fieldwork import TODAY, coop_with_manager
from tests.support import NOW, log_in_client, make_customer

FAR = 60 * 24 * 365


async def add_draft(client, plan, token) -> Plan:
    data = form_of(plan_input(plan, name="新方案", name_en="New plan", max_plots="2"))
    perks = {f"perk_{p}_{i}": "" for i in range(3) for p in ("kind", "partner", "count")}
    r = await client.post(
        f"/manage/seasons/{plan.season_id}/plans/new", data={**data, **perks, "csrf_token": token}
    )
    assert r.status_code == 303
    return await Plan.get(name="新方案")


async def test_a_new_plan_is_a_draft_seen_only_by_its_managers_until_published(client):
    plan, manager, token = await coop_with_manager(client)
    draft = await add_draft(client, plan, token)
    assert draft.published is False
    console = await client.get(f"/manage/plans/{draft.id}")
    assert "草稿" in console.text and f'href="/plans/{draft.id}"' in console.text
    preview = await client.get(f"/plans/{draft.id}")
    assert preview.status_code == 200 and "草稿预览" in preview.text and "新方案" in preview.text
    assert "新方案" not in (await client.get("/")).text
    await client.post("/logout", data={"csrf_token": token})
    # A visitor, a customer: no such plan, not on the offer, no reservation.
    assert (await client.get(f"/plans/{draft.id}")).status_code == 404
    assert "新方案" not in (await client.get("/")).text
    customer = await make_customer("wang@example.com", "王")
    with pytest.raises(NotFound):
        await subscriptions.reserve_plot(
            customer=customer, plan_id=draft.id, plot_id=None, today=TODAY, now=NOW, minutes=FAR
        )
    token = await log_in_client(client, "wang@example.com")
    assert (await client.get(f"/plans/{draft.id}")).status_code == 404
    r = await client.post(f"/plans/{draft.id}/reserve", data={"csrf_token": token})
    assert r.status_code == 404
    assert await Subscription.filter(plan_id=draft.id).count() == 0
    await client.post("/logout", data={"csrf_token": token})
    # Published by its manager: on the offer, reservable.
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(f"/manage/plans/{draft.id}/publish", data={"csrf_token": token})
    assert r.status_code == 303
    assert (await Plan.get(id=draft.id)).published
    assert "草稿预览" not in (await client.get(f"/plans/{draft.id}")).text
    assert "新方案" in (await client.get("/")).text
    sub = await subscriptions.reserve_plot(
        customer=customer, plan_id=draft.id, plot_id=None, today=TODAY, now=NOW, minutes=FAR
    )
    assert sub.plan_id == draft.id


async def test_a_manager_of_another_cooperative_cannot_preview_or_publish_a_draft(client):
    plan, manager, token = await coop_with_manager(client)
    draft = await add_draft(client, plan, token)
    await client.post("/logout", data={"csrf_token": token})
    other = await Cooperative.create(name="别的合作社")
    await sign_up(email="zhao@other.example", name="赵", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    token = await log_in_client(client, "zhao@other.example")
    assert (await client.get(f"/plans/{draft.id}")).status_code == 404
    assert (await client.get(f"/manage/plans/{draft.id}")).status_code == 404
    r = await client.post(f"/manage/plans/{draft.id}/publish", data={"csrf_token": token})
    assert r.status_code == 404
    assert not (await Plan.get(id=draft.id)).published


async def test_plans_made_outside_the_console_and_existing_ones_are_published(client):
    plan, manager, token = await coop_with_manager(client)
    assert (await Plan.get(id=plan.id)).published
    assert plan.name in (await client.get("/")).text


async def test_after_a_sale_the_sale_may_be_extended_but_not_end_before_today(client):
    plan, manager, token = await coop_with_manager(client)
    season = await Season.get(id=plan.season_id)
    customer = await make_customer("a@example.com", "甲")
    plot = await Plot.filter(field_id=plan.field_id).first()
    await subscriptions.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=plot.id, today=TODAY, now=NOW, minutes=FAR
    )
    await Subscription.filter(plan_id=plan.id).update(status=Status.ACTIVE)
    later = season.ends_on  # stored exclusive; the form types the last day, included
    # Extended (and back): allowed after the sale.
    shorter = season_input(season, sale_ends_on=str(season.ends_on - timedelta(days=2)))
    await seasons.update_season(manager=manager, season_id=season.id, data=shorter, today=TODAY)
    extended = season_input(season, sale_ends_on=str(later - timedelta(days=1)))
    await seasons.update_season(manager=manager, season_id=season.id, data=extended, today=TODAY)
    assert (await Season.get(id=season.id)).sale_ends_on == later
    # Cut short below today (its last day the day before yesterday): refused, nothing
    # changed; by the page too, 422.
    past = TODAY - timedelta(days=2)
    with pytest.raises(FieldErrors) as refused:
        await seasons.update_season(
            manager=manager, season_id=season.id,
            data=season_input(season, sale_ends_on=str(past)), today=TODAY,
        )  # fmt: skip
    assert list(refused.value.errors) == ["sale_ends_on"]
    r = await client.post(
        f"/manage/seasons/{season.id}",
        data={**form_of(season_input(season, sale_ends_on=str(past))), "csrf_token": token},
    )
    assert r.status_code == 422
    assert (await Season.get(id=season.id)).sale_ends_on == later
    # Its last day typed as yesterday would close the sale at once: refused, and said why.
    with pytest.raises(FieldErrors) as refused:
        await seasons.update_season(
            manager=manager, season_id=season.id,
            data=season_input(season, sale_ends_on=str(TODAY - timedelta(days=1))), today=TODAY,
        )  # fmt: skip
    assert TODAY.isoformat() in refused.value.errors["sale_ends_on"]  # "today at the earliest"
    assert (await Season.get(id=season.id)).sale_ends_on == later
    # Its last day today: the sale ends as tomorrow begins.
    await seasons.update_season(
        manager=manager, season_id=season.id,
        data=season_input(season, sale_ends_on=str(TODAY)), today=TODAY,
    )  # fmt: skip
    assert (await Season.get(id=season.id)).sale_ends_on == TODAY + timedelta(days=1)


async def test_the_plan_page_says_its_terms_wait_while_a_plot_is_held_unpaid(client):
    plan, manager, token = await coop_with_manager(client)
    page = (await client.get(f"/manage/plans/{plan.id}")).text
    assert "已被保留、尚未付款" not in page
    await subscriptions.reserve_plot(
        customer=await make_customer("wang@example.com", "王"), plan_id=plan.id, plot_id=None,
        today=TODAY, now=NOW, minutes=FAR,
    )  # fmt: skip
    page = (await client.get(f"/manage/plans/{plan.id}")).text
    assert "这个套餐有 1 块地已被保留、尚未付款" in page
