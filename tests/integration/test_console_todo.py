"""The console's first page says what needs the manager (issue 13): boxes of past ship days
not shipped, harvests a ship day left unplaced, plans in draft; each with its link, only the
cooperative's own, and plainly nothing when nothing waits."""

from __future__ import annotations

from datetime import date

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Plan, Season
from farm.shipments.models import Shipment, ShipmentStatus
from tests.integration.test_shipment_console import scene
from tests.support import log_in_client, make_crop, make_lot, make_season


async def test_the_first_page_lists_late_boxes_unplaced_harvests_and_drafts_with_links(client):
    manager, batch, full, _empty, subs, lot = await scene()
    plan = await Plan.get(id=subs[0].plan_id)
    await make_lot(
        await make_crop(manager.cooperative_id, "青菜"),
        field_id=plan.field_id,
        plot_id=None,
        grams=2000,
        harvested_on=date(2026, 11, 14),  # before the 16 November ship day, which ran before it
    )
    await Plan.filter(id=plan.id).update(published=False)
    await log_in_client(client, "li@coop.cn")
    page = (await client.get("/manage")).text
    assert "1 box of a past ship day is not shipped yet." in page
    assert f'href="/manage/shipments/{batch.id}?status=created"' in page
    assert "1 harvest lot was not placed by the ship day of 2026-11-16." in page
    assert "1 plan is a draft: customers do not see it." in page
    assert lot.code  # the batch's own lot was placed: only the late one is counted

    await Shipment.filter(id=full.id).update(status=ShipmentStatus.PACKED)
    page = (await client.get("/manage")).text
    assert f'href="/manage/shipments/{batch.id}?status=packed"' in page
    await Shipment.filter(id=full.id).update(status=ShipmentStatus.SHIPPED)
    page = (await client.get("/manage")).text
    assert "not shipped yet" not in page


async def test_another_cooperatives_late_boxes_are_not_on_the_page_and_nothing_waits(client):
    await scene()  # a cooperative with a late box and a draft-free plan
    other = await make_season()
    season = await Season.get(id=other.season_id)
    await sign_up(email="o@coop.cn", name="别人", password="correct horse", language="en",
                  role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip
    await log_in_client(client, "o@coop.cn")
    page = (await client.get("/manage")).text
    assert "not shipped yet" not in page and "Nothing waits for you" in page
