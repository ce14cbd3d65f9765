"""The farm log: households, work on many plots, harvests, photos, and what subscribers see."""

import io
import re
from datetime import date

import pytest
from PIL import Image

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.fieldwork.models import HarvestLot, Household, Photo, WorkEntry, WorkEntryPlot
from farm.land.models import CareMode, Plan, Plot, PlotClaim
from farm.subscriptions.models import Status, Subscription
from tests.support import NOW, csrf_of, log_in_client, make_customer, make_season

TODAY = date.today()


def jpeg(width=800, height=600, exif_gps=False) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), (90, 160, 60))
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "PhoneMaker"  # camera make: must not survive re-encoding
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


async def coop_with_manager(client, email="li@coop.cn", plots=4, care=CareMode.MANAGED):
    season_start = date(TODAY.year - 1, 1, 1)
    plan = await make_season(
        plots=plots, starts_on=season_start, ends_on=date(TODAY.year + 2, 1, 1),
        sale_starts_on=season_start, sale_ends_on=date(TODAY.year + 2, 1, 1),
    )  # fmt: skip
    await Plan.filter(id=plan.id).update(care_mode=care)
    await plan.fetch_related("field", "season")
    manager = await sign_up(
        email=email, name="李经理", password="correct horse", language="zh_CN",
        role=Role.MANAGER, cooperative_id=plan.field.cooperative_id,
    )  # fmt: skip
    token = await log_in_client(client, email)
    return plan, manager, token


async def subscriber_of(plan, plot, email="wang@example.com", name="王"):
    customer = await make_customer(email, name)
    sub = await Subscription.create(
        customer=customer, season_id=plan.season_id, plan_id=plan.id, plot_id=plot.id,
        price_fen=plan.price_fen, sign_name=name, reserved_at=NOW, status=Status.ACTIVE,
    )  # fmt: skip
    await PlotClaim.create(
        season_id=plan.season_id, plot_id=plot.id, plan_id=plan.id, subscription_id=sub.id
    )
    return customer, sub


async def test_a_household_is_saved_with_its_land_rent_and_wage_in_fen(client):
    plan, _, token = await coop_with_manager(client)
    r = await client.post(
        "/manage/households/new",
        data={"name": "张家", "village": "青山村", "is_poor": "1", "rent": "750", "wage": "18.5",
              f"land_{plan.field_id}": "66.67", "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 303
    h = await Household.get(name="张家").prefetch_related("transfers")
    assert (h.rent_fen_per_mu_year, h.wage_fen_per_hour, h.is_poor) == (75000, 1850, True)
    assert [str(t.area_m2) for t in h.transfers] == ["66.67"]


@pytest.mark.parametrize(
    ("field", "value"), [("rent", "-5"), ("wage", "abc"), ("wage", "1.234"), ("name", "")]
)
async def test_bad_household_values_are_refused_beside_the_field_and_nothing_saved(
    client, field, value
):
    await coop_with_manager(client)
    data = {
        "name": "张家",
        "rent": "750",
        "wage": "18",
        "csrf_token": await csrf_of(client, "/manage/households/new"),
    }
    data[field] = value
    r = await client.post("/manage/households/new", data=data)
    assert r.status_code == 422 and 'class="error"' in r.text
    assert not await Household.exists()
    if value == "abc":  # an hourly wage's example, not a plot's price
        assert "请以元为单位输入时薪，例如 18 或 18.50。" in r.text and "580" not in r.text


async def test_one_form_logs_the_same_work_on_many_plots_with_inputs_hours_and_photos(client, app):
    plan, _, token = await coop_with_manager(client)
    household = await Household.create(
        cooperative_id=(await plan.field).cooperative_id, name="张家", wage_fen_per_hour=1800
    )
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    r = await client.post(
        "/manage/log",
        data={"field_id": plan.field_id, "plot_ids": [plots[0].id, plots[2].id], "activity": "fertilising",
              "worked_on": TODAY.isoformat(), "input_name_0": "腐熟羊粪", "input_dose_0": "20 kg",
              "input_organic_0": "1", f"hours_{household.id}": "3.5", "notes": "雨后追肥", "csrf_token": token},
        files=[("photos", ("a.jpg", jpeg(exif_gps=True), "image/jpeg")), ("photos", ("b.jpg", jpeg(300, 300), "image/jpeg"))],
    )  # fmt: skip
    assert r.status_code == 303, r.text[:500]
    entry = await WorkEntry.get().prefetch_related("inputs", "shifts", "photos", "plot_links")
    assert sorted(link.plot_id for link in entry.plot_links) == [plots[0].id, plots[2].id]
    assert [(i.name, i.dose, i.organic) for i in entry.inputs] == [("腐熟羊粪", "20 kg", True)]
    assert [str(s.hours) for s in entry.shifts] == ["3.50"]
    assert len(entry.photos) == 2
    stored = app.state.settings.data_dir / "photos" / f"{entry.photos[0].file_name}.jpg"
    with Image.open(stored) as img:
        assert img.format == "JPEG" and 0x010F not in img.getexif()  # re-encoded, EXIF gone


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("fake.jpg", b"<?php echo 1; ?>", "JPEG"),
        ("big.jpg", b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 1), "10 MB"),
    ],
)
async def test_a_fake_or_oversized_photo_is_refused_and_nothing_is_written(
    client, app, name, content, message
):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    await client.get("/lang/en")
    r = await client.post(
        "/manage/log",
        data={
            "field_id": plan.field_id,
            "plot_ids": plot.id,
            "activity": "weeding",
            "worked_on": TODAY.isoformat(),
            "csrf_token": token,
        },
        files=[("photos", (name, content, "image/jpeg"))],
    )
    assert r.status_code == 422 and message in r.text
    assert not await WorkEntry.exists() and not await Photo.exists()
    assert (
        not list((app.state.settings.data_dir / "photos").glob("*"))
        if (app.state.settings.data_dir / "photos").exists()
        else True
    )


async def test_work_in_the_future_or_on_no_plot_is_refused(client):
    plan, _, token = await coop_with_manager(client)
    r = await client.post(
        "/manage/log",
        data={
            "field_id": plan.field_id,
            "activity": "weeding",
            "worked_on": date(TODAY.year + 1, 1, 1).isoformat(),
            "csrf_token": token,
        },
    )
    assert r.status_code == 422
    assert "plots" in r.text or "地块" in r.text
    assert not await WorkEntry.exists()


async def test_a_plot_of_another_cooperative_cannot_be_logged_on(client):
    plan, _, token = await coop_with_manager(client)
    other = await make_season()
    foreign = await Plot.filter(field_id=other.field_id).first()
    r = await client.post(
        "/manage/log",
        data={
            "field_id": plan.field_id,
            "plot_ids": foreign.id,
            "activity": "weeding",
            "worked_on": TODAY.isoformat(),
            "csrf_token": token,
        },
    )
    assert r.status_code == 404
    r = await client.post(
        "/manage/log",
        data={
            "field_id": other.field_id,
            "whole_field": "1",
            "activity": "weeding",
            "worked_on": TODAY.isoformat(),
            "csrf_token": token,
        },
    )
    assert r.status_code == 404
    assert not await WorkEntry.exists()


async def test_a_harvest_lot_gets_a_short_code_and_its_weight_in_grams(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    crops = await client.get("/manage/harvests")
    crop_id = re.search(r'name="crop_id"><option value="(\d+)"', crops.text).group(1)
    r = await client.post(
        "/manage/harvests",
        data={
            "crop_id": crop_id,
            "target": str(plot.id),
            "kg": "12.5",
            "harvested_on": TODAY.isoformat(),
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    lot = await HarvestLot.get()
    assert (
        lot.weight_g == 12500
        and lot.plot_id == plot.id
        and re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", lot.code)
    )
    page = await client.get("/manage/harvests")
    assert "12.5公斤（25斤）" in page.text  # kg and jin


@pytest.mark.parametrize("kg", ["-3", "0", "abc", "1e9", "1.0001", "NaN"])
async def test_absurd_harvest_weights_are_refused(client, kg):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    crop_id = re.search(
        r'name="crop_id"><option value="(\d+)"', (await client.get("/manage/harvests")).text
    ).group(1)
    r = await client.post(
        "/manage/harvests",
        data={
            "crop_id": crop_id,
            "target": str(plot.id),
            "kg": kg,
            "harvested_on": TODAY.isoformat(),
            "csrf_token": token,
        },
    )
    assert r.status_code == 422
    assert not await HarvestLot.exists()


async def test_the_subscriber_sees_work_and_harvests_on_their_plot_and_field_but_not_elsewhere(
    client,
):
    plan, manager, token = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    crop_id = re.search(
        r'name="crop_id"><option value="(\d+)"', (await client.get("/manage/harvests")).text
    ).group(1)
    day = TODAY.isoformat()
    await client.post(
        "/manage/log",
        data={
            "field_id": plan.field_id,
            "plot_ids": plots[0].id,
            "activity": "sowing",
            "notes": "种下青菜",
            "worked_on": day,
            "csrf_token": token,
        },
    )
    await client.post(
        "/manage/log",
        data={
            "field_id": plan.field_id,
            "plot_ids": plots[1].id,
            "activity": "weeding",
            "notes": "隔壁除草",
            "worked_on": day,
            "csrf_token": token,
        },
    )
    await client.post(
        "/manage/log",
        data={
            "field_id": plan.field_id,
            "whole_field": "1",
            "activity": "watering",
            "notes": "全田灌溉",
            "worked_on": day,
            "csrf_token": token,
        },
    )
    await client.post(
        "/manage/harvests",
        data={
            "crop_id": crop_id,
            "target": str(plots[0].id),
            "kg": "3",
            "harvested_on": day,
            "csrf_token": token,
        },
    )
    await client.post("/logout", data={"csrf_token": token})
    _, sub = await subscriber_of(plan, plots[0])
    await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/plot")
    assert page.status_code == 200
    assert "种下青菜" in page.text and "全田灌溉" in page.text and "隔壁除草" not in page.text
    assert (await HarvestLot.get()).code in page.text
    assert "王" in page.text  # the name sign


async def test_the_public_trace_page_shows_the_lot_and_the_work_with_doses_but_no_names(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    household = await Household.create(
        cooperative_id=(await plan.field).cooperative_id, name="张秘密"
    )
    crop_id = re.search(
        r'name="crop_id"><option value="(\d+)"', (await client.get("/manage/harvests")).text
    ).group(1)
    await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plot.id, "activity": "pest_control",
                                           "input_name_0": "苦参碱", "input_dose_0": "每亩 50 毫升", f"hours_{household.id}": "2",
                                           "worked_on": TODAY.isoformat(), "csrf_token": token})  # fmt: skip
    await client.post(
        "/manage/harvests",
        data={
            "crop_id": crop_id,
            "target": str(plot.id),
            "kg": "4",
            "harvested_on": TODAY.isoformat(),
            "csrf_token": token,
        },
    )
    lot = await HarvestLot.get()
    await client.post("/logout", data={"csrf_token": token})
    r = await client.get(f"/trace/{lot.code}")
    assert r.status_code == 200
    assert "苦参碱" in r.text and "每亩 50 毫升" in r.text
    assert "张秘密" not in r.text and "李经理" not in r.text
    assert (await client.get("/trace/ZZZZZZZZ")).status_code == 404
    assert (await client.get("/trace?code=not-a-code")).status_code == 404


async def test_a_field_lots_trace_tells_work_logged_plot_by_plot_as_one_line_with_its_plots(
    client,
):
    plan, _, token = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")

    async def log(plot_ids, activity="weeding", **extra):
        r = await client.post("/manage/log", data={
            "field_id": plan.field_id, "plot_ids": plot_ids, "activity": activity,
            "worked_on": TODAY.isoformat(), "csrf_token": token, **extra})  # fmt: skip
        assert r.status_code == 303

    for plot in plots[:3]:  # a form per plot, the same work
        await log(plot.id)
    await log([plots[0].id, plots[1].id])  # again, on two of them: still 3 plots
    await log([plots[3].id], activity="pest_control", input_name_0="苦参碱")
    await log([plots[2].id], activity="pest_control", input_name_0="苦参碱")  # the same input
    await log([], activity="watering", whole_field="1")
    crop_id = re.search(
        r'name="crop_id"><option value="(\d+)"', (await client.get("/manage/harvests")).text
    ).group(1)
    for target in (f"field:{plan.field_id}", str(plots[0].id)):
        r = await client.post("/manage/harvests", data={
            "crop_id": crop_id, "target": target, "kg": "4",
            "harvested_on": TODAY.isoformat(), "csrf_token": token})  # fmt: skip
        assert r.status_code == 303
    field_lot, plot_lot = await HarvestLot.all().order_by("id")
    await client.post("/logout", data={"csrf_token": token})

    field_page = (await client.get(f"/trace/{field_lot.code}")).text
    assert field_page.count("除草") == 1 and "<strong>除草</strong> · 3块地" in field_page
    assert "<strong>病虫害防治</strong> · 2块地" in field_page
    assert field_page.count("苦参碱") == 1 and "<strong>浇水</strong> · 整个田块" in field_page
    plot_page = (await client.get(f"/trace/{plot_lot.code}")).text  # its plot alone
    assert plot_page.count("除草") == 1 and "<strong>除草</strong><" in plot_page  # no count
    assert "苦参碱" not in plot_page and "浇水" in plot_page


async def test_photos_are_shown_to_the_plots_subscriber_and_managers_only(client):
    plan, _, token = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plots[0].id, "activity": "sowing", "worked_on": TODAY.isoformat(), "csrf_token": token},
                      files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    photo = await Photo.get()
    assert (await client.get(f"/photos/{photo.id}")).headers["content-type"] == "image/jpeg"
    await client.post("/logout", data={"csrf_token": token})
    await subscriber_of(plan, plots[0], "owner@example.com")
    await subscriber_of(plan, plots[1], "neighbour@example.com")
    token = await log_in_client(client, "owner@example.com")
    assert (await client.get(f"/photos/{photo.id}/thumb")).status_code == 200
    await client.post("/logout", data={"csrf_token": token})
    token = await log_in_client(client, "neighbour@example.com")
    assert (await client.get(f"/photos/{photo.id}")).status_code == 404
    await client.post("/logout", data={"csrf_token": token})
    assert (await client.get(f"/photos/{photo.id}")).status_code == 404  # a visitor


async def test_a_self_tending_subscriber_logs_a_visit_on_their_plot_and_a_managed_one_cannot(
    client,
):
    plan, _, token = await coop_with_manager(client, care=CareMode.SELF_TENDED)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    await client.post("/logout", data={"csrf_token": token})
    _, sub = await subscriber_of(plan, plots[0])
    token = await log_in_client(client, "wang@example.com")
    r = await client.post(
        f"/account/subscriptions/{sub.id}/plot/log",
        data={
            "activity": "visit",
            "worked_on": TODAY.isoformat(),
            "notes": "全家来浇水",
            "csrf_token": token,
        },
        files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))],
    )
    assert r.status_code == 303
    entry = await WorkEntry.get()
    assert entry.activity == "visit" and [link.plot_id for link in await WorkEntryPlot.all()] == [
        plots[0].id
    ]
    assert "全家来浇水" in (await client.get(f"/account/subscriptions/{sub.id}/plot")).text
    await Plan.filter(id=plan.id).update(care_mode=CareMode.MANAGED)
    r = await client.post(
        f"/account/subscriptions/{sub.id}/plot/log",
        data={"activity": "visit", "worked_on": TODAY.isoformat(), "csrf_token": token},
    )
    assert r.status_code == 409 and await WorkEntry.all().count() == 1


async def test_a_households_hours_count_once_per_entry_however_the_form_repeats_them(client):
    plan, _, token = await coop_with_manager(client)
    household = await Household.create(
        cooperative_id=(await plan.field).cooperative_id, name="张家"
    )
    plot = await Plot.filter(field_id=plan.field_id).first()
    body = (f"csrf_token={token}&field_id={plan.field_id}&plot_ids={plot.id}&activity=weeding"
            f"&worked_on={TODAY.isoformat()}&hours_{household.id}=8&hours_0{household.id}=8")  # fmt: skip
    r = await client.post(
        "/manage/log", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 422
    assert not await WorkEntry.exists()


async def test_a_photo_whose_file_is_gone_is_a_404_not_an_error(client, app):
    import shutil

    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plot.id, "activity": "sowing", "worked_on": TODAY.isoformat(), "csrf_token": token},
                      files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    shutil.rmtree(app.state.settings.data_dir / "photos")
    assert (await client.get(f"/photos/{(await Photo.get()).id}")).status_code == 404


async def test_when_writing_an_entry_fails_its_photo_files_are_removed(client, app, monkeypatch):
    from farm.fieldwork import services as fieldwork

    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()

    async def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(fieldwork.WorkShift, "create", broken)
    household = await Household.create(
        cooperative_id=(await plan.field).cooperative_id, name="张家"
    )
    with pytest.raises(RuntimeError):
        await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plot.id, "activity": "sowing", "worked_on": TODAY.isoformat(), f"hours_{household.id}": "2", "csrf_token": token},
                          files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    folder = app.state.settings.data_dir / "photos"
    assert not folder.exists() or not list(folder.iterdir())
    assert not await WorkEntry.exists()
