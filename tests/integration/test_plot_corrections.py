"""A plot never sold is corrected (code, place, area) or removed by its cooperative's
manager, with a reason in the audit trail; a sold or reserved plot is not; nothing changes
on bad input; another cooperative's manager gets 404."""

from __future__ import annotations

from datetime import date, timedelta

from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.land.models import Plot, Season
from tests.integration.test_fieldwork import coop_with_manager, subscriber_of
from tests.support import csrf_of, make_crop, make_lot


def _fix(token, **changes):
    data = {"code": "T02", "x": "10", "y": "0", "w": "10", "h": "6.67", "area_m2": "66.67",
            "reason": "measured again", "csrf_token": token}  # fmt: skip
    data.update(changes)
    return data


async def test_a_free_plot_is_corrected_and_the_audit_keeps_what_it_was(client):
    plan, manager, token = await coop_with_manager(client)
    plot = await Plot.get(field_id=plan.field_id, code="T02")
    page = await client.get(f"/manage/plots/{plot.id}/correct")
    assert page.status_code == 200 and 'name="reason"' in page.text
    r = await client.post(f"/manage/plots/{plot.id}/correct",
                          data=_fix(token, code="B02", area_m2="66"))  # fmt: skip
    assert r.status_code == 303
    plot = await Plot.get(id=plot.id)
    assert (plot.code, str(plot.area_m2)) == ("B02", "66.00")
    row = await Correction.get(kind=RecordKind.PLOT, record_id=plot.id)
    assert row.before == {"code": "T02", "area_m2": "66.67"}
    assert row.after == {"code": "B02", "area_m2": "66"}
    assert row.made_by_id == manager.id


async def test_a_correction_that_overlaps_or_repeats_a_code_is_refused_and_changes_nothing(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.get(field_id=plan.field_id, code="T02")
    for bad in ({"code": "T01"}, {"x": "5"}, {"reason": ""}, {"w": "abc"}):
        r = await client.post(f"/manage/plots/{plot.id}/correct", data=_fix(token, **bad))
        assert r.status_code == 422, bad
    assert (await Plot.get(id=plot.id)).code == "T02"
    assert not await Correction.exists()


async def test_a_sold_plot_cannot_be_corrected(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.get(field_id=plan.field_id, code="T02")
    await subscriber_of(plan, plot)
    r = await client.post(f"/manage/plots/{plot.id}/correct", data=_fix(token, code="B02"))
    assert r.status_code == 409
    assert (await Plot.get(id=plot.id)).code == "T02"
    assert not await Correction.exists()


async def test_a_free_plot_is_removed_unless_something_was_logged_on_it(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.get(field_id=plan.field_id, code="T02")
    r = await client.post(f"/manage/plots/{plot.id}/correct", data=_fix(token, void="1"))
    assert r.status_code == 303
    assert not await Plot.exists(id=plot.id)
    assert (await Correction.get()).action == CorrectionAction.VOIDED
    used = await Plot.get(field_id=plan.field_id, code="T03")
    season = await Season.get(id=plan.season_id)
    crop = await make_crop(season.cooperative_id)
    await make_lot(crop, field_id=plan.field_id, plot_id=used.id, grams=10,
                   harvested_on=date.today() - timedelta(days=1))  # fmt: skip
    r = await client.post(f"/manage/plots/{used.id}/correct", data=_fix(token, void="1"))
    assert r.status_code == 409
    assert await Plot.exists(id=used.id)


async def test_a_manager_of_another_cooperative_gets_404_for_a_plot(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.get(field_id=plan.field_id, code="T02")
    await client.post("/logout", data={"csrf_token": await csrf_of(client, "/manage")})
    _, _, other_token = await coop_with_manager(client, email="zhao@other.cn")
    assert (await client.get(f"/manage/plots/{plot.id}/correct")).status_code == 404
    r = await client.post(f"/manage/plots/{plot.id}/correct", data=_fix(other_token, code="X"))
    assert r.status_code == 404
    assert (await Plot.get(id=plot.id)).code == "T02"
