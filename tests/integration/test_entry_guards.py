"""Guards at entry: a harvest far above what the land bears asks for confirmation; a plan
offers no more plots than its field has; households transfer no more land than a field has;
field names are unique in a cooperative; season end dates are typed as the last day included,
as lists show them; a perk's partner is of its kind, and a wrong one is fixed while none of
its vouchers was used. Each refusal is a 422 that changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from farm.errors import Conflict, FieldErrors
from farm.fieldwork.models import HarvestLot, Household, LandTransfer
from farm.land.models import Cooperative, Field, PlanPerk, Season
from farm.partners.models import Partner, PartnerKind
from farm.seasons import console as console_seasons
from farm.seasons.console import PerkInput
from farm.vouchers.models import Voucher, VoucherStatus
from farm.vouchers.services import issue_vouchers
from tests.integration.test_console_land import (
    SEASON_FORM,
    in_english,  # noqa: F401 (the messages below are read in English)
    manager_of,
    owned_plan,
    plan_input,
    sell,
)
from tests.support import NOW, log_in_client, make_crop

TODAY = date.today()


async def test_a_harvest_far_above_what_the_plot_bears_asks_for_a_confirmation(client):
    plan, manager = await owned_plan()
    season = await Season.get(id=plan.season_id)
    crop = await make_crop(season.cooperative_id, "番茄", shelf_life_days=7)
    token = await log_in_client(client, "li@coop.example")
    data = {"crop_id": crop.id, "plot_code": "T01", "kg": "5000",
            "harvested_on": TODAY.isoformat(), "csrf_token": token}  # fmt: skip
    r = await client.post("/manage/harvests", data=data)
    assert r.status_code == 422
    assert "15 kg per m²" in r.text and 'name="confirm_heavy"' in r.text  # the rule, per crop
    assert not await HarvestLot.exists()
    assert (await client.post("/manage/harvests", data={**data, "kg": "12"})).status_code == 303
    r = await client.post("/manage/harvests", data={**data, "confirm_heavy": "1"})
    assert r.status_code == 303
    assert await HarvestLot.filter(weight_g=5_000_000).exists()


async def test_a_plan_cannot_offer_more_plots_than_its_field_has_of_its_size(conn):
    plan, manager = await owned_plan()  # four plots of 66.67 m²
    with pytest.raises(FieldErrors) as refused:
        await console_seasons.create_plan(manager=manager, season_id=plan.season_id,
                                          data=plan_input(plan, max_plots="5"))  # fmt: skip
    assert "has 4 plots" in refused.value.errors["max_plots"]
    await console_seasons.create_plan(manager=manager, season_id=plan.season_id,
                                      data=plan_input(plan, max_plots="4"))  # fmt: skip


async def test_households_together_cannot_transfer_more_land_than_the_field_has(client):
    plan, manager = await owned_plan()  # a 40 m × 10 m field: 400 m²
    token = await log_in_client(client, "li@coop.example")
    form = {"village": "", "rent": "0", "wage": "0", "csrf_token": token}
    r = await client.post("/manage/households/new",
                          data={**form, "name": "张家", f"land_{plan.field_id}": "300"})  # fmt: skip
    assert r.status_code == 303
    r = await client.post("/manage/households/new",
                          data={**form, "name": "李家", f"land_{plan.field_id}": "150"})  # fmt: skip
    assert r.status_code == 422 and "at most 100 m² is left" in r.text
    assert await Household.all().count() == 1
    zhang = await Household.get(name="张家")
    r = await client.post(f"/manage/households/{zhang.id}",
                          data={**form, "name": "张家", f"land_{plan.field_id}": "400"})  # fmt: skip
    assert r.status_code == 303  # its own land is not counted twice
    assert [str(t.area_m2) for t in await LandTransfer.all()] == ["400.00"]


async def test_field_names_are_unique_in_a_cooperative(client):
    plan, manager = await owned_plan()  # its field is 试验田
    token = await log_in_client(client, "li@coop.example")
    new = {"name": "试验田", "width_m": "10", "height_m": "10", "csrf_token": token}
    r = await client.post("/manage/fields/new", data=new)
    assert r.status_code == 422 and "already has a field named" in r.text
    assert await Field.all().count() == 1
    assert (
        await client.post("/manage/fields/new", data={**new, "name": "东坡田"})
    ).status_code == 303
    other = await Field.get(name="东坡田")
    r = await client.post(f"/manage/fields/{other.id}",
                          data={"edit-name": "试验田", "name": "试验田", "width_m": "10",
                                "height_m": "10", "csrf_token": token})  # fmt: skip
    assert r.status_code == 422
    assert (await Field.get(id=other.id)).name == "东坡田"
    # Another cooperative may use the name.
    coop = await Cooperative.create(name="别村")
    await manager_of(coop.id, email="zhao@other.cn")
    await client.post("/logout", data={"csrf_token": token})
    token = await log_in_client(client, "zhao@other.cn")
    assert (
        await client.post("/manage/fields/new", data={**new, "csrf_token": token})
    ).status_code == 303


async def test_a_seasons_end_dates_are_typed_as_the_last_day_included_as_lists_show_them(client):
    coop = await Cooperative.create(name="青山村合作社")
    await manager_of(coop.id)
    token = await log_in_client(client, "li@coop.example")
    r = await client.post("/manage/seasons/new", data={**SEASON_FORM, "csrf_token": token})
    assert r.status_code == 303
    season = await Season.get(cooperative_id=coop.id)
    assert (season.ends_on, season.sale_ends_on) == (date(2028, 3, 1), date(2027, 3, 1))
    page = await client.get(r.headers["location"])
    assert 'value="2028-02-29"' in page.text and 'value="2027-02-28"' in page.text
    assert "(included)" in page.text and "(1–14)" in page.text and "0–14" not in page.text
    listed = await client.get("/manage/seasons")
    assert "2028-02-29" in listed.text


async def _wrong_perk_sold(plan, manager):
    """A farm-stay perk tied to a scenic spot (as an older console allowed), one plot sold,
    its voucher issued."""
    scenic = await Partner.create(cooperative_id=manager.cooperative_id, name="龙川景区",
                                  kind=PartnerKind.SCENIC_SPOT)  # fmt: skip
    stay = await Partner.create(cooperative_id=manager.cooperative_id, name="农家乐",
                                kind=PartnerKind.GUESTHOUSE)  # fmt: skip
    await PlanPerk.create(plan=plan, kind="farm_stay_night", partner=scenic, count=1)
    sub = await sell(plan, "T01", email="a@example.com")
    await issue_vouchers(subscription_id=sub.id, now=NOW, conn=None)
    return scenic, stay


async def test_a_perk_must_name_a_partner_of_its_kind(conn):
    plan, manager = await owned_plan()
    scenic = await Partner.create(cooperative_id=manager.cooperative_id, name="龙川景区",
                                  kind=PartnerKind.SCENIC_SPOT)  # fmt: skip
    wrong = plan_input(plan, perks=[PerkInput("farm_stay_night", str(scenic.id), "1")])
    with pytest.raises(FieldErrors) as refused:
        await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=wrong)
    assert "guesthouse" in refused.value.errors["perk_partner_0"]
    assert not await PlanPerk.exists()


async def test_a_wrong_perk_is_fixed_after_a_sale_and_its_unused_vouchers_follow(conn):
    plan, manager = await owned_plan()
    scenic, stay = await _wrong_perk_sold(plan, manager)
    fixed = plan_input(plan, perks=[PerkInput("farm_stay_night", str(stay.id), "1")])
    await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=fixed)
    assert await PlanPerk.filter(plan_id=plan.id).values_list("partner_id", flat=True) == [stay.id]
    assert await Voucher.all().values_list("partner_id", flat=True) == [stay.id]
    # Anything else about the perks still stays as sold.
    more = plan_input(plan, perks=[PerkInput("farm_stay_night", str(stay.id), "2")])
    with pytest.raises(FieldErrors):
        await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=more)


async def test_a_wrong_perk_stays_once_one_of_its_vouchers_was_used(conn):
    plan, manager = await owned_plan()
    scenic, stay = await _wrong_perk_sold(plan, manager)
    await Voucher.all().update(status=VoucherStatus.REDEEMED, redeemed_at=NOW)
    fixed = plan_input(plan, perks=[PerkInput("farm_stay_night", str(stay.id), "1")])
    with pytest.raises(Conflict):
        await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=fixed)
    assert await PlanPerk.filter(plan_id=plan.id).values_list("partner_id", flat=True) == [
        scenic.id
    ]


async def test_the_work_log_is_filtered_by_household(client):
    from tests.integration.test_entry_corrections import _household, _log

    plan, manager = await owned_plan()
    token = await log_in_client(client, "li@coop.example")
    zhang = await _household(plan, "张家")
    li = await _household(plan, "李家")
    day = (TODAY - timedelta(days=2)).isoformat()
    await _log(client, token, plan, zhang, "3", day=day, plots="T01")
    await _log(client, token, plan, li, "4", day=day, plots="T02")
    page = await client.get(f"/manage/log?household={li.id}")
    assert page.status_code == 200
    assert "李家 4" in page.text.replace("\xa0", " ") or "李家 4 h" in page.text
    assert "张家 3" not in page.text
