"""The plot's story: field photos uploaded as a set and the families told at most once a day,
households shown only with their consent, each family seeing only its own plot, the season's
summary and the certificate."""

import asyncio
import re
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from farm.accounts.models import User
from farm.errors import NotFound
from farm.fieldwork import field_photos
from farm.fieldwork.models import Household, LandTransfer, Photo, WorkEntry, WorkShift
from farm.fieldwork.photos import PhotoStore
from farm.land.models import Plot
from farm.links import Links
from farm.notifications.models import Notification
from farm.notifications.services import Unsubscribing
from farm.partners.models import Booking, BookingStatus, Partner, PartnerKind, Room
from farm.shipments.models import Allocation, AllocationState, Batch, Shipment, ShipmentStatus
from farm.storage import LocalStorage
from farm.story import summary
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_fieldwork import TODAY, coop_with_manager, jpeg, subscriber_of
from tests.support import NOW, csrf_of, log_in_client, make_crop, make_lot

UNSUBSCRIBING = Unsubscribing(links=Links("http://testserver"), secret="s" * 40)


def photo_set(field_id: int, plot_ids: list[int], **overrides) -> field_photos.PhotoSet:
    values = dict(
        field_id=field_id,
        plot_ids=plot_ids,
        whole_field=False,
        sign=False,
        taken_on=TODAY.isoformat(),
        caption="萝卜出苗了",
        photos=[jpeg(), jpeg(400, 300)],
    )
    return field_photos.PhotoSet(**(values | overrides))  # fmt: skip


async def upload(manager, store, data, *, today=TODAY, now=NOW):
    return await field_photos.upload_photos(
        manager=manager, upload=data, today=today, now=now, store=store,
        unsubscribing=UNSUBSCRIBING,
    )  # fmt: skip


async def test_photos_of_a_plot_mail_its_family_at_most_once_a_day(client, tmp_path):
    plan, manager, _token = await coop_with_manager(client)
    await plan.fetch_related("field__plots")
    plots = sorted(plan.field.plots, key=lambda p: p.code)
    _, mine = await subscriber_of(plan, plots[0])
    _, neighbours = await subscriber_of(plan, plots[1], email="li@example.com", name="李")
    store = PhotoStore(LocalStorage(tmp_path))

    await upload(manager, store, photo_set(plan.field_id, [plots[0].id]))
    await upload(manager, store, photo_set(plan.field_id, [plots[0].id], caption="又一组"))
    mails = await Notification.filter(kind="photos")
    assert [m.key for m in mails] == [f"photos:{mine.id}:{TODAY.isoformat()}"]
    assert (
        "萝卜出苗了" in mails[0].body and f"/account/subscriptions/{mine.id}/plot" in mails[0].body
    )
    assert mails[0].unsubscribe  # bulk mail: its unsubscribe link

    tomorrow = TODAY + timedelta(days=1)
    await upload(manager, store, photo_set(plan.field_id, [], whole_field=True), today=tomorrow)
    keys = sorted(await Notification.filter(kind="photos").values_list("key", flat=True))
    assert keys == sorted([
        f"photos:{mine.id}:{TODAY.isoformat()}", f"photos:{mine.id}:{tomorrow.isoformat()}",
        f"photos:{neighbours.id}:{tomorrow.isoformat()}",
    ])  # fmt: skip
    assert await Photo.all().count() == 6


async def test_a_family_that_turned_photo_mail_off_gets_none(client, tmp_path):
    plan, manager, _token = await coop_with_manager(client)
    plot = (await plan.field.plots.all().order_by("code"))[0]
    customer, _sub = await subscriber_of(plan, plot)
    await User.filter(id=customer.id).update(mail_photos=False)
    await upload(manager, PhotoStore(LocalStorage(tmp_path)), photo_set(plan.field_id, [plot.id]))
    assert await Notification.filter(kind="photos").count() == 0
    assert await Photo.all().count() == 2  # the photos are up all the same


async def test_a_sign_photo_names_one_plot_else_nothing_is_stored(client, tmp_path):
    plan, _manager, token = await coop_with_manager(client)
    plots = await plan.field.plots.all().order_by("code")
    r = await client.post(
        f"/manage/photos?field={plan.field_id}",
        data={"plot_ids": [str(plots[0].id), str(plots[1].id)], "sign": "1",
              "taken_on": TODAY.isoformat(), "csrf_token": token},
        files=[("photos", ("sign.jpg", jpeg(), "image/jpeg"))],
    )  # fmt: skip
    assert r.status_code == 422
    assert "一个地块" in r.text
    assert await WorkEntry.all().count() == 0 and await Photo.all().count() == 0


async def test_the_upload_page_tags_a_set_of_photos_to_the_plots_tapped(client):
    plan, _manager, token = await coop_with_manager(client)
    plots = await plan.field.plots.all().order_by("code")
    page = await client.get(f"/manage/photos?field={plan.field_id}")
    assert (
        page.status_code == 200 and 'capture="environment"' in page.text and "multiple" in page.text
    )
    r = await client.post(
        f"/manage/photos?field={plan.field_id}",
        data={"plot_ids": [str(plots[0].id), str(plots[2].id)],
              "taken_on": TODAY.isoformat(), "caption": "长势很好", "csrf_token": token},
        files=[("photos", (f"{i}.jpg", jpeg(), "image/jpeg")) for i in range(3)],
    )  # fmt: skip
    assert r.status_code == 303
    entry = await WorkEntry.get().prefetch_related("plot_links", "photos")
    assert sorted(link.plot_id for link in entry.plot_links) == [plots[0].id, plots[2].id]
    assert len(entry.photos) == 3 and entry.notes == "长势很好" and not entry.whole_field


async def test_the_upload_page_lists_the_plots_row_by_row_in_numeric_order(client):
    """The plots' tap targets follow the field's rows (a keyboard's order): by y then x as
    numbers, 2 m before 9 m before 10 m, on SQLite too, which keeps decimals as text (tortoise
    orders them CAST AS NUMERIC)."""
    plan, _manager, _token = await coop_with_manager(client)
    plots = await plan.field.plots.all().order_by("code")
    for plot, y in zip(plots, (D(10), D(9), D(2)), strict=False):
        await Plot.filter(id=plot.id).update(y_m=y, x_m=D(0))
    page = await client.get(f"/manage/photos?field={plan.field_id}")
    at = [page.text.index(f"<span>{plot.code}</span>") for plot in plots[:3]]
    assert at[2] < at[1] < at[0]


async def test_the_upload_page_takes_a_set_of_twelve_photos_and_refuses_thirteen(client):
    plan, _manager, token = await coop_with_manager(client)
    small = jpeg(80, 60)
    for count, status, stored in (
        (field_photos.MAX_SET + 1, 422, 0),
        (field_photos.MAX_SET, 303, 12),
    ):
        r = await client.post(
            f"/manage/photos?field={plan.field_id}",
            data={"whole_field": "1", "taken_on": TODAY.isoformat(), "csrf_token": token},
            files=[("photos", (f"{i}.jpg", small, "image/jpeg")) for i in range(count)],
        )  # fmt: skip
        assert r.status_code == status and await Photo.all().count() == stored


async def test_another_cooperatives_field_is_not_found_for_an_upload(client, tmp_path):
    plan, _manager, _token = await coop_with_manager(client)
    _other, other_manager, token = await coop_with_manager(client, email="zhao@coop.cn")
    r = await client.post(
        f"/manage/photos?field={plan.field_id}",
        data={"whole_field": "1", "taken_on": TODAY.isoformat(), "csrf_token": token},
        files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))],
    )  # fmt: skip
    assert r.status_code == 404
    with pytest.raises(NotFound):
        await upload(other_manager, PhotoStore(LocalStorage(tmp_path)),
                     photo_set(plan.field_id, [], whole_field=True))  # fmt: skip
    assert await WorkEntry.all().count() == 0 and await Photo.all().count() == 0


async def _story_world(client, tmp_path):
    """Two families on one field; a set of photos on each plot, and one of the first's sign;
    a household that agreed to be shown and one that did not, both working on the first."""
    plan, manager, _token = await coop_with_manager(client)
    plots = await plan.field.plots.all().order_by("code")
    _, mine = await subscriber_of(plan, plots[0])
    _, theirs = await subscriber_of(plan, plots[1], email="li@example.com", name="李")
    store = PhotoStore(LocalStorage(tmp_path))
    sign_entry = await upload(manager, store, photo_set(plan.field_id, [plots[0].id], sign=True,
                                                        caption="名牌立起来了"))  # fmt: skip
    other_entry = await upload(manager, store, photo_set(plan.field_id, [plots[1].id],
                                                         caption="李家的地"))  # fmt: skip
    coop_id = plan.field.cooperative_id
    shown = await Household.create(cooperative_id=coop_id, name="周秀英家", about="种了三十年菜",
                                   shown_to_subscribers=True, picture="p1")  # fmt: skip
    hidden = await Household.create(cooperative_id=coop_id, name="王桂兰家", picture="p2")
    for household in (shown, hidden):
        await WorkShift.create(entry=sign_entry, household=household, hours=2)
    await client.post("/logout", data={"csrf_token": await csrf_of(client, "/manage")})
    await log_in_client(client, "wang@example.com")
    return plan, mine, theirs, sign_entry, other_entry, shown, hidden


async def test_a_household_is_shown_to_the_family_only_with_its_consent(client, tmp_path):
    _plan, mine, _theirs, _s, _o, shown, hidden = await _story_world(client, tmp_path)
    page = await client.get(f"/account/subscriptions/{mine.id}/plot")
    assert page.status_code == 200
    assert "周秀英家" in page.text and "种了三十年菜" in page.text
    assert "王桂兰家" not in page.text
    assert f"/households/{hidden.id}/picture" not in page.text
    assert (await client.get(f"/households/{hidden.id}/picture")).status_code == 404
    # the consenting household's picture passes the check (its file is not there: not found)
    assert f"/households/{shown.id}/picture/thumb" in page.text


async def test_a_household_whose_land_served_the_season_tends_the_plot_and_one_gone_before_not(
    client, tmp_path
):
    plan, mine, _theirs, _s, _o, _shown, _hidden = await _story_world(client, tmp_path)
    await plan.fetch_related("season")
    coop_id = plan.field.cooperative_id
    for name, starts_on, ends_on in (
        ("赵家", date(2020, 1, 1), plan.season.starts_on),  # gave its land back before
        ("钱家", date(2020, 1, 1), plan.season.starts_on + timedelta(days=1)),  # one day
    ):
        household = await Household.create(cooperative_id=coop_id, name=name,
                                           shown_to_subscribers=True)  # fmt: skip
        await LandTransfer.create(household=household, field_id=plan.field_id, area_m2=10,
                                  starts_on=starts_on, ends_on=ends_on)  # fmt: skip
    page = await client.get(f"/account/subscriptions/{mine.id}/plot")
    assert "钱家" in page.text and "赵家" not in page.text


async def test_a_family_sees_its_sign_and_photos_and_never_another_familys(client, tmp_path):
    _plan, mine, theirs, sign_entry, other_entry, _h, _x = await _story_world(client, tmp_path)
    page = await client.get(f"/account/subscriptions/{mine.id}/plot")
    await sign_entry.fetch_related("photos")
    await other_entry.fetch_related("photos")
    sign_photo = next(p for p in sign_entry.photos if p.sign)
    assert '<figure class="sign-photo">' in page.text and f"/photos/{sign_photo.id}" in page.text
    assert "名牌立起来了" in page.text and "李家的地" not in page.text
    for photo in other_entry.photos:
        assert f"/photos/{photo.id}" not in page.text
        assert (await client.get(f"/photos/{photo.id}")).status_code == 404
        assert (await client.get(f"/photos/{photo.id}/thumb")).status_code == 404
    assert (await client.get(f"/photos/{sign_photo.id}")).status_code == 200
    for path in ("plot", "season", "certificate.pdf"):
        assert (await client.get(f"/account/subscriptions/{theirs.id}/{path}")).status_code == 404


async def _season_with_boxes(plan, sub):
    """Two boxes sent (rice 3 kg + greens 1.5 kg, then rice 2 kg), one still being packed
    (not counted), a farm stay of two nights and a cancelled one."""
    coop_id = plan.field.cooperative_id
    rice = await make_crop(coop_id, "大米")
    greens = await make_crop(coop_id, "青菜", shelf_life_days=3, leafy=True)
    sent = [(date(2026, 9, 16), [(rice, 3000), (greens, 1500)], ShipmentStatus.SHIPPED),
            (date(2026, 10, 1), [(rice, 2000)], ShipmentStatus.SHIPPED),
            (date(2026, 10, 16), [(greens, 9000)], ShipmentStatus.PACKED)]  # fmt: skip
    for ship_on, items, status in sent:
        batch = await Batch.create(cooperative_id=coop_id, ship_on=ship_on, created_at=NOW)
        box = await Shipment.create(batch=batch, subscription=sub, ship_on=ship_on,
                                    status=status, created_at=NOW)  # fmt: skip
        for crop, grams in items:
            lot = await make_lot(crop, field_id=plan.field_id, plot_id=sub.plot_id, grams=grams,
                                 harvested_on=ship_on - timedelta(days=1))  # fmt: skip
            await Allocation.create(lot=lot, grams=grams, state=AllocationState.SHIPPED,
                                    subscription=sub, shipment=box, ship_on=ship_on,
                                    decided_at=NOW)  # fmt: skip
    stay = await Partner.create(cooperative_id=coop_id, kind=PartnerKind.GUESTHOUSE, name="民宿")
    room = await Room.create(partner=stay, name="竹间", capacity=2)
    for status in (BookingStatus.ARRIVED, BookingStatus.CANCELLED):
        await Booking.create(partner=stay, room=room, subscription=sub, first_night=TODAY,
                             nights=2, status=status, created_at=NOW)  # fmt: skip


async def test_the_season_summary_counts_what_was_sent_photos_and_stays(client, tmp_path):
    plan, mine, _theirs, _s, _o, _h, _x = await _story_world(client, tmp_path)
    await _season_with_boxes(plan, mine)
    customer = await User.get(email="wang@example.com")
    found = await summary.season_summary(customer=customer, subscription_id=mine.id, today=TODAY)
    assert [(crop.name, grams) for crop, grams in found.received] == [
        ("大米", 5000),
        ("青菜", 1500),
    ]
    assert found.received_kg_g == 6500
    assert (found.boxes, found.photos, found.visits, found.nights) == (2, 2, 1, 2)
    page = await client.get(f"/account/subscriptions/{mine.id}/season")
    assert page.status_code == 200 and "6.5" in page.text
    story = await client.get(f"/account/subscriptions/{mine.id}/plot")
    assert story.text.count("story-card box") == 3  # each box, sent or being packed: a link
    assert story.text.count(f'href="/account/subscriptions/{mine.id}/deliveries"') == 3


async def test_the_certificate_is_a_pdf_with_the_familys_name_sign(client, tmp_path):
    _plan, mine, _theirs, _s, _o, _h, _x = await _story_world(client, tmp_path)
    r = await client.get(f"/account/subscriptions/{mine.id}/certificate.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    disposition = f'inline; filename="plot-certificate-{mine.id}.pdf"'
    assert r.headers["content-disposition"] == disposition
    assert r.headers["cache-control"] == "private, no-store"
    assert r.content.startswith(b"%PDF") and r.content.rstrip().endswith(b"%%EOF")
    streams = re.findall(rb"stream\n(.*?)\nendstream", r.content, re.S)
    text = b"".join(zlib.decompress(s) for s in streams)
    sign = "王家的地".encode("utf-16-be").hex().encode()
    assert sign in text  # the name on the board, set in STSong
    assert b"CERTIFICATE OF THE PLOT" in text


async def test_an_ended_subscription_still_has_its_summary_and_certificate(client, tmp_path):
    _plan, mine, _theirs, _s, _o, _h, _x = await _story_world(client, tmp_path)
    await Subscription.filter(id=mine.id).update(status=Status.COMPLETED)
    customer = await User.get(email="wang@example.com")
    found = await summary.season_summary(customer=customer, subscription_id=mine.id, today=TODAY)
    assert found.ended
    assert (
        await client.get(f"/account/subscriptions/{mine.id}/certificate.pdf")
    ).status_code == 200


async def test_the_household_form_keeps_consent_a_line_and_a_photo(client, settings):
    plan, _manager, token = await coop_with_manager(client)
    r = await client.post(
        "/manage/households/new",
        data={"name": "周秀英家", "village": "青山村", "rent": "750", "wage": "18",
              "shown_to_subscribers": "1", "about": "种了三十年菜", "csrf_token": token},
        files=[("picture", ("me.jpg", jpeg(), "image/jpeg"))],
    )  # fmt: skip
    assert r.status_code == 303
    household = await Household.get(name="周秀英家")
    assert household.shown_to_subscribers and household.about == "种了三十年菜"
    assert household.picture
    picture = await client.get(f"/households/{household.id}/picture/thumb")
    assert picture.status_code == 200 and picture.content.startswith(b"\xff\xd8")
    form = await client.get(f"/manage/households/{household.id}")
    assert "checked" in form.text.split('name="shown_to_subscribers"')[1][:40]

    bad = await client.post(
        f"/manage/households/{household.id}",
        data={"name": "周秀英家", "about": "x" * 201, "csrf_token": token},
        files=[("picture", ("me.jpg", b"not a photo", "image/jpeg"))],
    )  # fmt: skip
    assert bad.status_code == 422
    assert (await Household.get(id=household.id)).picture == household.picture

    # A family with no plot in this cooperative: not found, consent or not.
    await client.post("/logout", data={"csrf_token": token})
    _, _sub = await subscriber_of(plan, (await plan.field.plots.all())[0])
    await Subscription.filter(id=_sub.id).update(status=Status.CANCELLED)
    await log_in_client(client, "wang@example.com")
    assert (await client.get(f"/households/{household.id}/picture")).status_code == 404


@pytest.mark.postgres
async def test_two_uploads_at_the_same_moment_mail_the_family_once(client, tmp_path):
    plan, manager, _token = await coop_with_manager(client)
    plot = (await plan.field.plots.all().order_by("code"))[0]
    _, sub = await subscriber_of(plan, plot)
    store = PhotoStore(LocalStorage(tmp_path))
    await asyncio.gather(*(
        upload(manager, store, photo_set(plan.field_id, [plot.id], caption=f"第{i}组"))
        for i in range(4)
    ))  # fmt: skip
    assert await WorkEntry.all().count() == 4  # every set is up
    keys = await Notification.filter(kind="photos").values_list("key", flat=True)
    assert keys == [f"photos:{sub.id}:{TODAY.isoformat()}"]


async def test_work_logged_with_photos_mails_the_family_and_without_photos_does_not(
    client, settings
):
    plan, _manager, token = await coop_with_manager(client)
    plots = await plan.field.plots.all().order_by("code")
    _, sub = await subscriber_of(plan, plots[0])
    work = {"field_id": str(plan.field_id), "plot_codes": plots[0].code, "activity": "weeding",
            "worked_on": TODAY.isoformat(), "notes": "除草", "csrf_token": token}  # fmt: skip
    r = await client.post(f"/manage/log?field={plan.field_id}", data=work)
    assert r.status_code == 303
    assert await Notification.filter(kind="photos").count() == 0
    r = await client.post(f"/manage/log?field={plan.field_id}", data=work,
                          files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    assert r.status_code == 303
    mail = await Notification.get(kind="photos")
    local_today = settings.local_date(datetime.now(UTC))  # the service's day, as the route's
    assert mail.key == f"photos:{sub.id}:{local_today.isoformat()}" and "除草" in mail.body


async def test_the_demo_customer_sees_a_story_with_photos_drawn_locally(client, tmp_path):
    from farm.demo import load_demo

    store = PhotoStore(LocalStorage(tmp_path))
    await load_demo(today=TODAY, with_accounts=True, store=store)
    customer = await User.get(email="demo@example.com")
    sub = await Subscription.get(customer=customer, status=Status.ACTIVE).prefetch_related("plot")
    await log_in_client(client, "demo@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/plot")
    assert page.status_code == 200
    assert '<figure class="sign-photo">' in page.text  # the sign's photo, drawn with its name
    assert "周秀英家" in page.text and "王桂兰家" not in page.text  # consent, both ways
    photo_ids = [int(i) for i in re.findall(r'/photos/(\d+)"', page.text)]
    assert len(set(photo_ids)) >= 6
    for photo_id in set(photo_ids):
        shown = await client.get(f"/photos/{photo_id}")
        assert shown.status_code == 200 and shown.content.startswith(b"\xff\xd8")
    # the neighbours' signs are theirs alone
    others = await Photo.filter(sign=True).exclude(id__in=photo_ids).values_list("id", flat=True)
    assert len(others) == 3
    for photo_id in others:
        assert (await client.get(f"/photos/{photo_id}")).status_code == 404
