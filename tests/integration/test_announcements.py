"""Announcements: a manager writes to the active subscribers of a season, a field or a ship
day; each of them, and nobody else, gets the mail in their language (unless they chose no
announcement mail) and the notice on their account page; bad input sends nothing; the
manager sees how many mails were sent, are waiting and failed."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.announcements.models import Announcement, AnnouncementReceipt
from farm.land.models import Field, Plan, Plot
from farm.notifications.models import Notification
from farm.notifications.services import deliver_pending
from farm.shipments.models import ShipDayHold
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_fieldwork import coop_with_manager, subscriber_of
from tests.support import NOW, count_queries, csrf_of, log_in_client, make_season

SHIP_DAY = date(2027, 1, 16)  # a ship day of coop_with_manager's season (the 1st and 16th)


async def audience_world(client):
    """A season with two fields: 王 and 赵 on the first field, 东 on the second; 李 cancelled,
    on the first field; and a subscriber of another cooperative. 赵 reads English, 东 chose no
    announcement mail, 王 held the ship day."""
    plan, manager, token = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    people = {}
    for plot, name, email in ((plots[0], "王家", "wang@example.com"),
                              (plots[1], "赵家", "zhao@example.com"),
                              (plots[2], "李家", "li@example.com")):  # fmt: skip
        people[name] = await subscriber_of(plan, plot, email, name)
    east = await Field.create(cooperative_id=plan.field.cooperative_id, name="东田",
                              width_m=10, height_m=10)  # fmt: skip
    east_plot = await Plot.create(field=east, code="E01", area_m2="66.67", x_m=0, y_m=0, w_m=10,
                                  h_m="6.667")  # fmt: skip
    east_plan = await Plan.create(season_id=plan.season_id, field=east, name="东田一分地",
                                  plot_area_m2="66.67", price_fen=60000, max_plots=1,
                                  care_mode="managed")  # fmt: skip
    people["东家"] = await subscriber_of(east_plan, east_plot, "dong@example.com", "东家")
    await Subscription.filter(id=people["李家"][1].id).update(status=Status.CANCELLED)
    await User.filter(email="zhao@example.com").update(language="en")
    await User.filter(email="dong@example.com").update(mail_announcements=False)
    await ShipDayHold.create(subscription=people["王家"][1], ship_on=SHIP_DAY,
                             created_at=datetime(2027, 1, 1, tzinfo=UTC))  # fmt: skip
    other = await make_season()
    people["别社家"] = await subscriber_of(other, await Plot.filter(field_id=other.field_id).first(),
                                        "other@example.com", "别社家")  # fmt: skip
    return plan, manager, token, east, people


async def send(client, token, **fields):
    data = {
        "csrf_token": token,
        "audience": "season",
        "subject": "暴雨预警",
        "body": "明天有暴雨。\n\n包裹会晚一天到。",
        **fields,
    }
    return await client.post("/manage/announcements", data=data)


async def receivers(announcement_id: int) -> set[str]:
    ids = await AnnouncementReceipt.filter(announcement_id=announcement_id).values_list(
        "user_id", flat=True
    )
    return set(await User.filter(id__in=list(ids)).values_list("email", flat=True))


async def mailed() -> set[str]:
    return set(await Notification.filter(kind="announcement").values_list("to", flat=True))


async def test_a_season_announcement_reaches_its_active_subscribers_only(client):
    plan, _, token, _, _ = await audience_world(client)
    r = await send(client, token, season=plan.season_id)
    assert r.status_code == 303
    announcement = await Announcement.get()
    assert r.headers["location"] == f"/manage/announcements/{announcement.id}?sent=1"
    everyone = {"wang@example.com", "zhao@example.com", "dong@example.com"}
    assert await receivers(announcement.id) == everyone and announcement.recipients == 3
    assert await mailed() == everyone - {"dong@example.com"}  # 东 chose no announcement mail


async def test_a_field_announcement_reaches_that_fields_subscribers_only(client):
    plan, _, token, east, _ = await audience_world(client)
    r = await send(client, token, season=plan.season_id, audience="field", field=east.id)
    assert r.status_code == 303
    assert await receivers((await Announcement.get()).id) == {"dong@example.com"}
    r = await send(client, token, season=plan.season_id, audience="field", field=plan.field_id)
    assert await receivers((await Announcement.filter().order_by("-id").first()).id) == {
        "wang@example.com", "zhao@example.com"}  # fmt: skip


async def test_a_ship_day_announcement_skips_those_who_held_that_day(client):
    plan, _, token, _, _ = await audience_world(client)
    r = await send(client, token, season=plan.season_id, audience="ship_day",
                   ship_on=SHIP_DAY.isoformat())  # fmt: skip
    assert r.status_code == 303
    assert await receivers((await Announcement.get()).id) == {"zhao@example.com",
                                                                "dong@example.com"}  # fmt: skip


async def test_each_family_reads_the_mail_in_its_language_with_a_one_click_unsubscribe(app, client):
    plan, _, token, _, _ = await audience_world(client)
    await send(client, token, season=plan.season_id)
    chinese = await Notification.get(to="wang@example.com")
    english = await Notification.get(to="zhao@example.com")
    assert chinese.subject == "测试合作社：暴雨预警" and "测试合作社" in chinese.body
    assert (
        english.subject == "Test cooperative: 暴雨预警"
        and "Test cooperative writes:" in english.body
    )
    assert "包裹会晚一天到。" in chinese.body and "包裹会晚一天到。" in chinese.html
    for note in (chinese, english):
        assert note.unsubscribe.startswith("http") and note.unsubscribe in note.html
        assert note.unsubscribe in note.body and "UNSUBSCRIBE-TOKEN-MARK" not in note.html
    assert chinese.unsubscribe != english.unsubscribe  # each signed for its family
    assert (await client.post(english.unsubscribe)).status_code == 200
    assert not (await User.get(email="zhao@example.com")).mail_announcements


async def test_the_body_is_escaped_in_the_html_mail_and_on_the_account_page(client):
    plan, _, token, _, _ = await audience_world(client)
    await send(client, token, season=plan.season_id, body="<script>alert(1)</script>")
    note = await Notification.get(to="wang@example.com")
    assert "<script>alert" not in note.html and "&lt;script&gt;" in note.html
    await log_in_client(client, "wang@example.com")
    page = (await client.get("/account")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


async def test_the_announcement_shows_on_the_account_page_of_those_it_reached_only(client):
    plan, _, token, east, _ = await audience_world(client)
    await send(client, token, season=plan.season_id, audience="field", field=east.id,
               subject="东田插秧节")  # fmt: skip
    await log_in_client(client, "dong@example.com")  # no mail, but the notice
    page = (await client.get("/account")).text
    assert "东田插秧节" in page and "包裹会晚一天到。" in page and 'id="notices"' in page
    await log_in_client(client, "wang@example.com")
    assert "东田插秧节" not in (await client.get("/account")).text


async def test_the_manager_sees_how_many_were_sent_are_waiting_and_failed(app, client):
    plan, _, token, _, _ = await audience_world(client)
    await send(client, token, season=plan.season_id)
    announcement = await Announcement.get()
    page = (await client.get(f"/manage/announcements/{announcement.id}")).text
    assert "3 位认购户" in page and "2 封待发" in page and "已发送 0 封邮件" in page
    assert "1 位不接收公告邮件" in page
    now = datetime.now(UTC)
    await Notification.filter(to="zhao@example.com").update(failed_at=now, last_error="550")
    assert await deliver_pending(mailer=app.state.mailer, now=now) == 1
    listed = (await client.get("/manage/announcements")).text
    assert "已发送 1 封邮件" in listed and "0 封待发" in listed and "1 封失败" in listed
    assert "暴雨预警" in listed


async def test_bad_input_is_refused_whole_and_sends_nothing(client):
    plan, _, token, _, _ = await audience_world(client)
    other = await make_season()
    cases = [
        {"subject": ""},
        {"body": "   "},
        {"subject": "x" * 121},
        {"audience": "everyone"},
        {"audience": "field", "field": ""},
        {"audience": "field", "field": str(other.field_id)},  # another cooperative's field
        {"audience": "ship_day", "ship_on": "2027-01-17"},  # not a ship day
        {"audience": "ship_day", "ship_on": "tomorrow"},
    ]
    for fields in cases:
        r = await send(client, token, season=plan.season_id, **fields)
        assert r.status_code == 422, (fields, r.status_code)
        assert "未保存任何内容" in r.text, fields
    assert not await Announcement.exists() and not await Notification.exists()
    assert not await AnnouncementReceipt.exists()


async def test_an_audience_with_nobody_active_is_refused(client):
    plan, _, token, _, people = await audience_world(client)
    await Subscription.filter(season_id=plan.season_id).update(status=Status.COMPLETED)
    r = await send(client, token, season=plan.season_id)
    assert r.status_code == 422 and "没有人会收到" in r.text
    assert not await Announcement.exists()


async def test_another_cooperatives_manager_can_neither_read_nor_send_to_our_season(client):
    plan, _, token, _, _ = await audience_world(client)
    await send(client, token, season=plan.season_id)
    ours = await Announcement.get()
    other = await make_season()
    await other.fetch_related("field")
    await sign_up(email="m2@coop.cn", name="别社经理", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=other.field.cooperative_id)  # fmt: skip
    await log_in_client(client, "m2@coop.cn")
    theirs = await csrf_of(client, "/manage/announcements")
    assert "暴雨预警" not in (await client.get("/manage/announcements")).text
    assert (await client.get(f"/manage/announcements/{ours.id}")).status_code == 404
    r = await send(client, theirs, season=plan.season_id)
    assert r.status_code == 404
    assert await Announcement.all().count() == 1 and await Notification.all().count() == 2


async def test_past_announcements_are_paged_newest_first(client):
    plan, _, token, _, _ = await audience_world(client)
    for n in range(22):
        assert (
            await send(client, token, season=plan.season_id, subject=f"第{n}号")
        ).status_code == 303
    first = (await client.get("/manage/announcements")).text
    assert "第21号" in first and "第2号" in first and "第1号<" not in first
    second = (await client.get("/manage/announcements", params={"page": 2})).text
    assert "第1号<" in second and "第0号" in second and "第21号" not in second


async def test_an_announcement_to_many_is_queued_in_chunks_not_a_query_per_subscriber(client):
    """1,200 subscribers: the mail rows go in by the 500 (farm.notifications.queue_many), so
    the request's statements do not grow with the audience, and each gets their copy."""
    plan, _, token, _, _ = await audience_world(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    many = 1200
    await User.bulk_create([User(email=f"f{i}@example.com", name=f"家{i}", password_hash="x",
                                 language="en" if i % 3 == 0 else "zh_CN") for i in range(many)])  # fmt: skip
    users = await User.filter(email__startswith="f").values_list("id", flat=True)
    await Subscription.bulk_create([
        Subscription(customer_id=u, season_id=plan.season_id, plan_id=plan.id, plot_id=plot.id,
                     price_fen=58000, reserved_at=NOW, status=Status.ACTIVE)
        for u in users
    ])  # fmt: skip
    with count_queries() as queries:
        r = await send(client, token, season=plan.season_id)
    assert r.status_code == 303
    assert queries.count < 40, queries.count
    assert await Notification.filter(kind="announcement").count() == many + 2
    english = await Notification.get(to="f0@example.com")
    assert "writes:" in english.body and english.unsubscribe in english.html


async def test_a_double_click_on_send_sends_the_announcement_once(client):
    plan, _, token, _, _ = await audience_world(client)
    first, second = await asyncio.gather(
        send(client, token, season=plan.season_id), send(client, token, season=plan.season_id)
    )
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await Announcement.all().count() == 1
    assert await Notification.filter(kind="announcement").count() == 2  # 王 and 赵, once each
    r = await send(client, token, season=plan.season_id, body="暴雨过去了。")  # other words
    assert r.status_code == 303 and await Announcement.all().count() == 2
