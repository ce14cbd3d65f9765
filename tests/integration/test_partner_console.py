"""The cooperative's partner console on a real database: partners, a guesthouse's rooms, staff
accounts (made with a set-password mail), and the vouchers redeemed at each partner, as a page
and as a CSV for settling. Only the manager's own cooperative is ever seen or changed."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors
from farm.land.models import PerkKind, PlanPerk, Plot, Season
from farm.notifications.models import Notification
from farm.partners import console, console_redemptions
from farm.partners.models import Booking, Partner, PartnerKind, Room
from farm.vouchers.models import Voucher, VoucherStatus
from farm.vouchers.rules import format_code, new_code
from tests.support import NOW, TODAY, csrf_of, log_in_client, make_active_subscription, make_season

NOVEMBER = "from=2026-11-01&to=2026-11-30"  # both days included


@pytest.fixture(autouse=True)
def in_english(request):
    """These tests read the messages in English: services see it directly, pages by cookie."""
    from farm import i18n

    i18n.set_language("en")
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.set("lang", "en")
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


async def cooperative(email: str = "li@coop.example"):
    """make_season's cooperative and its manager (reading the console in English)."""
    plan = await make_season()
    season = await Season.get(id=plan.season_id)
    manager = await sign_up(email=email, name="李经理", password="correct horse", language="en",
                            role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip
    return plan, manager


async def logged_in(client, email: str = "li@coop.example"):
    plan, manager = await cooperative(email)
    token = await log_in_client(client, email)
    return plan, manager, token


async def guesthouse(coop_id: int, name: str = "青山农家民宿") -> Partner:
    return await Partner.create(cooperative_id=coop_id, kind=PartnerKind.GUESTHOUSE, name=name)


async def snapshot():
    """Everything this console writes, to show that a refused request wrote nothing."""
    return (
        await Partner.all().order_by("id").values(),
        await Room.all().order_by("id").values(),
        await User.all().order_by("id").values_list("id", "email", "role", "partner_id"),
    )


PARTNER = {
    "kind": "scenic_spot",
    "name": "青山景区",
    "address": "青山村北 1 号",
    "opening_hours": "8:00–17:30，周一闭馆",
    "phone": "0551-6543 2100",
}


# ---- partners ----


async def test_a_manager_adds_a_scenic_spot_and_sees_it_in_the_list(client):
    plan, manager, token = await logged_in(client)
    r = await client.post("/manage/partners/new", data={**PARTNER, "csrf_token": token})
    assert r.status_code == 303
    partner = await Partner.get(name="青山景区")
    assert r.headers["location"] == f"/manage/partners/{partner.id}?saved=1"
    assert partner.cooperative_id == manager.cooperative_id
    assert (partner.kind, partner.opening_hours, partner.phone) == (
        PartnerKind.SCENIC_SPOT, "8:00–17:30，周一闭馆", "0551-6543 2100",
    )  # fmt: skip
    page = (await client.get("/manage/partners")).text
    assert "青山景区" in page and "8:00–17:30，周一闭馆" in page and "Scenic spot" in page
    assert 'href="/manage/partners"' in (await client.get("/manage")).text  # the console's nav


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "This field is required."),
        ("name", "景" * 101, "Use at most 100 characters."),
        ("address", "路" * 201, "Use at most 200 characters."),
        ("opening_hours", "时" * 201, "Use at most 200 characters."),
        ("opening_hours", "8:00\r\n17:30", "Use one line of text"),
        ("phone", "call the office", "Enter a phone number"),
        ("phone", "1" * 33, "Enter a phone number"),
        ("kind", "hotel", "Choose a scenic spot or a guesthouse."),
    ],
)
async def test_a_partner_with_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    client, field, value, message
):
    plan, manager, token = await logged_in(client)
    existing = await guesthouse(manager.cooperative_id)
    before = await snapshot()
    r = await client.post(
        "/manage/partners/new", data={**PARTNER, field: value, "csrf_token": token}
    )
    assert r.status_code == 422 and message in r.text
    assert 'id="err-' + field + '"' in r.text
    r = await client.post(
        f"/manage/partners/{existing.id}", data={**PARTNER, field: value, "csrf_token": token}
    )
    assert r.status_code == 422 and message in r.text
    assert await snapshot() == before


async def test_a_manager_edits_a_partner_and_a_guesthouse_without_anything_may_change_kind(client):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    r = await client.post(
        f"/manage/partners/{partner.id}",
        data={**PARTNER, "name": "  青山客栈 ", "phone": "", "csrf_token": token},
    )
    assert r.status_code == 303
    await partner.refresh_from_db()
    assert (partner.name, partner.kind, partner.phone) == ("青山客栈", "scenic_spot", "")


async def test_the_kind_is_fixed_once_vouchers_name_the_partner_and_the_page_says_why(client):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    await voucher(plan, partner, redeemed_at=None)
    assert (
        "Vouchers were issued for this partner"
        in (await client.get(f"/manage/partners/{partner.id}")).text
    )
    before = await snapshot()
    r = await client.post(
        f"/manage/partners/{partner.id}", data={**PARTNER, "csrf_token": token}
    )  # PARTNER is a scenic spot
    assert r.status_code == 422
    assert "Vouchers were issued for this partner, so its kind can no longer change." in r.text
    assert await snapshot() == before
    r = await client.post(
        f"/manage/partners/{partner.id}",
        data={**PARTNER, "kind": "guesthouse", "name": "青山客栈", "csrf_token": token},
    )
    assert r.status_code == 303  # everything but its kind may still change
    assert (await Partner.get(id=partner.id)).name == "青山客栈"


async def test_the_kind_is_fixed_by_plans_offering_it_bookings_and_rooms(conn):
    plan, manager = await cooperative()
    data = console.PartnerInput(**PARTNER)
    offered = await guesthouse(manager.cooperative_id, "有套餐")
    await PlanPerk.create(plan=plan, kind=PerkKind.FARM_STAY_NIGHT, partner=offered, count=1)
    with_room = await guesthouse(manager.cooperative_id, "有房间")
    await Room.create(partner=with_room, name="一号房", capacity=2)
    for partner, words in ((offered, "Plans offer"), (with_room, "has rooms")):
        with pytest.raises(FieldErrors) as refused:
            await console.update_partner(manager=manager, partner_id=partner.id, data=data)
        assert words in refused.value.errors["kind"]
        assert (await Partner.get(id=partner.id)).kind == PartnerKind.GUESTHOUSE
    booked = await guesthouse(manager.cooperative_id, "有预订")
    room = await Room.create(partner=booked, name="一号房", capacity=2)
    await book(plan, room)
    await Room.filter(id=room.id).update(active=False)
    view = await console.partner_view(manager=manager, partner_id=booked.id)
    assert view.kind_fixed and "bookings" in view.kind_fixed


# ---- rooms ----


async def test_a_manager_adds_rooms_renames_them_and_deactivates_one(client):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    for name, capacity in (("一号房", "2"), ("二号房", "4")):
        r = await client.post(f"/manage/partners/{partner.id}/rooms",
                              data={"name": name, "capacity": capacity, "csrf_token": token})  # fmt: skip
        assert r.status_code == 303
    one = await Room.get(partner_id=partner.id, name="一号房")
    r = await client.post(f"/manage/rooms/{one.id}",
                          data={"name": "山景房", "capacity": "3", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    r = await client.post(
        f"/manage/rooms/{one.id}/active", data={"active": "0", "csrf_token": token}
    )
    assert r.status_code == 303
    await one.refresh_from_db()
    assert (one.name, one.capacity, one.active) == ("山景房", 3, False)
    [row] = await console.list_partners(manager=manager, today=TODAY, timezone="Asia/Shanghai")
    assert row.capacity == 4  # the inactive room takes no guests
    page = (await client.get("/manage/partners")).text
    assert "2 rooms" in page and "4 guests a night" in page and "inactive" in page
    await client.post(f"/manage/rooms/{one.id}/active", data={"active": "1", "csrf_token": token})
    assert (await Room.get(id=one.id)).active


@pytest.mark.parametrize(
    ("name", "capacity", "field", "message"),
    [
        ("一号房", "2", "name", "already has a room of this name"),
        ("", "2", "name", "This field is required."),
        ("房" * 61, "2", "name", "Use at most 60 characters."),
        ("三号房", "0", "capacity", "from 1 to 20"),
        ("三号房", "21", "capacity", "from 1 to 20"),
        ("三号房", "two", "capacity", "from 1 to 20"),
        ("三号房", "", "capacity", "from 1 to 20"),
    ],
)
async def test_a_room_needs_a_name_of_its_own_and_room_for_1_to_20_guests(
    client, name, capacity, field, message
):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    await Room.create(partner=partner, name="一号房", capacity=2)
    other = await Room.create(partner=partner, name="二号房", capacity=2)
    before = await snapshot()
    r = await client.post(f"/manage/partners/{partner.id}/rooms",
                          data={"name": name, "capacity": capacity, "csrf_token": token})  # fmt: skip
    assert r.status_code == 422 and message in r.text and f'id="err-{field}"' in r.text
    r = await client.post(f"/manage/rooms/{other.id}",
                          data={"name": name, "capacity": capacity, "csrf_token": token})  # fmt: skip
    assert r.status_code == 422 and message in r.text
    assert await snapshot() == before


async def test_the_same_room_name_is_fine_at_another_guesthouse_but_a_scenic_spot_has_no_rooms(
    conn,
):
    plan, manager = await cooperative()
    first, second = (
        await guesthouse(manager.cooperative_id),
        await guesthouse(manager.cooperative_id, "二号民宿"),
    )
    data = console.RoomInput(name="一号房", capacity="2")
    await console.add_room(manager=manager, partner_id=first.id, data=data)
    await console.add_room(manager=manager, partner_id=second.id, data=data)
    spot = await Partner.create(cooperative_id=manager.cooperative_id,
                                kind=PartnerKind.SCENIC_SPOT, name="景区")  # fmt: skip
    with pytest.raises(Conflict):
        await console.add_room(manager=manager, partner_id=spot.id, data=data)
    assert await Room.filter(partner_id=spot.id).count() == 0


async def test_a_room_that_was_booked_is_never_deleted_but_a_mistaken_one_is(client):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    booked = await Room.create(partner=partner, name="一号房", capacity=2)
    mistake = await Room.create(partner=partner, name="错房", capacity=2)
    await book(plan, booked, cancelled=True)  # even a cancelled booking keeps its room
    page = (await client.get(f"/manage/partners/{partner.id}")).text
    assert f'action="/manage/rooms/{booked.id}/delete"' not in page
    assert f'action="/manage/rooms/{mistake.id}/delete"' in page
    r = await client.post(f"/manage/rooms/{booked.id}/delete", data={"csrf_token": token})
    assert r.status_code == 409 and "Deactivate it instead" in r.text
    assert await Room.filter(id=booked.id).exists()
    r = await client.post(f"/manage/rooms/{mistake.id}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    assert not await Room.filter(id=mistake.id).exists()


# ---- staff accounts ----


async def test_partner_staff_are_invited_for_7_days_like_managers_and_join_once(client, app):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    r = await client.post(
        f"/manage/partners/{partner.id}/staff",
        data={"email": " Gate@Scenic.Example ", "name": "检票员小张", "csrf_token": token},
    )
    assert r.status_code == 303
    staff = await User.get(email="gate@scenic.example")
    assert (staff.role, staff.partner_id, staff.cooperative_id) == (
        Role.PARTNER_STAFF, partner.id, None,
    )  # fmt: skip
    assert staff.invitation_pending
    assert "检票员小张" in (await client.get(f"/manage/partners/{partner.id}")).text
    [mail] = await Notification.filter(to="gate@scenic.example")  # queued, sent by the scheduler
    assert "邀请" in mail.subject  # the staff's language: Chinese, the service's default
    assert mail.kind == "staff_invite" and "<a href=" in mail.html  # its own letter
    assert "7" in mail.body and partner.name in mail.body
    link = re.search(r"http://\S+(/invitation/\S+)", mail.body)
    assert link
    await client.post("/logout", data={"csrf_token": token})
    path = link.group(1)
    token = await csrf_of(client, path)
    r = await client.post(
        path, data={"name": "小张", "password": "gate password 1", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/partner")
    assert not (await User.get(id=staff.id)).invitation_pending
    assert (await client.get(path)).status_code == 404  # spent
    await client.post("/logout", data={"csrf_token": await csrf_of(client)})
    await log_in_client(client, "gate@scenic.example", "gate password 1")


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [
        ("li@coop.example", "检票员", "already has an account"),  # the manager's own address
        ("LI@coop.example ", "检票员", "already has an account"),
        ("not an email", "检票员", "Enter a valid email address."),
        ("gate@scenic.example", "", "Enter your name."),
    ],
)
async def test_a_staff_account_with_a_taken_or_bad_address_is_refused_and_nothing_is_sent(
    client, app, email, name, message
):
    plan, manager, token = await logged_in(client)
    partner = await guesthouse(manager.cooperative_id)
    before = await snapshot()
    r = await client.post(f"/manage/partners/{partner.id}/staff",
                          data={"email": email, "name": name, "csrf_token": token})  # fmt: skip
    assert r.status_code == 422 and message in r.text
    assert await snapshot() == before
    assert not await Notification.exists()


# ---- redemptions ----


async def voucher(plan, partner: Partner | None, *, redeemed_at: datetime | None, staff=None,
                  kind: PerkKind = PerkKind.FARM_STAY_NIGHT, sign_name: str = "王家的地",
                  plot_code: str = "T01", code: str | None = None) -> Voucher:  # fmt: skip
    """A voucher of a subscription of `plan` (one per plot), redeemed at `partner` if
    `redeemed_at` is given."""
    plot = await Plot.get(field_id=plan.field_id, code=plot_code)
    sub = await subscription_on(plan, plot, sign_name)
    perk = await PlanPerk.create(plan=plan, kind=kind, partner=None, count=1)
    return await Voucher.create(
        subscription=sub, perk=perk, seq=1, kind=kind, partner=partner, code=code or new_code(),
        status=VoucherStatus.REDEEMED if redeemed_at else VoucherStatus.ISSUED,
        valid_from=date(2026, 9, 1), valid_until=date(2027, 9, 1), issued_at=NOW,
        redeemed_at=redeemed_at, redeemed_by=staff, redeemed_partner=partner if redeemed_at else None,
    )  # fmt: skip


async def subscription_on(plan, plot, sign_name: str):
    from farm.subscriptions.models import Subscription

    existing = await Subscription.get_or_none(plot_id=plot.id, season_id=plan.season_id)
    if existing:
        return existing
    sub = await make_active_subscription(plan, plot)
    await Subscription.filter(id=sub.id).update(sign_name=sign_name)
    return sub


async def book(plan, room: Room, *, cancelled: bool = False) -> Booking:
    plot = await Plot.get(field_id=plan.field_id, code="T04")
    sub = await subscription_on(plan, plot, "订房人")
    return await Booking.create(
        partner_id=room.partner_id, room=room, subscription=sub, first_night=date(2027, 5, 1),
        nights=1, created_at=NOW, status="cancelled" if cancelled else "booked",
        cancelled_at=NOW if cancelled else None,
    )  # fmt: skip


async def staff_of(partner: Partner, name: str = "检票员小张") -> User:
    return await User.create(email=f"s{partner.id}-{len(name)}@x.cn", name=name, password_hash="x",
                             role=Role.PARTNER_STAFF, partner=partner)  # fmt: skip


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_the_redemptions_page_lists_a_partners_period_in_local_time_with_totals(client):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    spot = await Partner.create(cooperative_id=manager.cooperative_id,
                                kind=PartnerKind.SCENIC_SPOT, name="青山景区")  # fmt: skip
    staff = await staff_of(stay)
    night = await voucher(plan, stay, redeemed_at=utc(2026, 11, 5, 2, 30), staff=staff)
    ticket = await voucher(plan, stay, redeemed_at=utc(2026, 10, 31, 16, 5), staff=staff,
                           kind=PerkKind.SCENIC_TICKET, plot_code="T02", sign_name="李家菜园")  # fmt: skip
    # 1 December 01:00 in Shanghai, though still 30 November in UTC: not November's.
    december = await voucher(plan, stay, redeemed_at=utc(2026, 11, 30, 17, 0), plot_code="T03")
    elsewhere = await voucher(plan, spot, redeemed_at=utc(2026, 11, 6, 2, 0), plot_code="T03")
    unused = await voucher(plan, stay, redeemed_at=None, plot_code="T03")

    r = await client.get(f"/manage/partners/{stay.id}/redemptions?{NOVEMBER}")
    assert r.status_code == 200
    page = r.text
    assert format_code(night.code) in page and "2026-11-05 10:30" in page
    assert format_code(ticket.code) in page and "2026-11-01 00:05" in page  # local, not UTC
    assert "王家的地 / T01" in page and "李家菜园 / T02" in page and "检票员小张" in page
    for other in (december, elsewhere, unused):
        assert format_code(other.code) not in page
    assert "2 vouchers redeemed" in page
    assert "Farm-stay night 1" in page and "Scenic-spot ticket 1" in page
    assert page.index(format_code(night.code)) < page.index(
        format_code(ticket.code)
    )  # newest first

    december_page = await client.get(
        f"/manage/partners/{stay.id}/redemptions?from=2026-12-01&to=2026-12-31"
    )
    assert format_code(december.code) in december_page.text


async def test_the_redemptions_page_is_paged(client, monkeypatch):
    monkeypatch.setattr(console_redemptions, "REDEMPTIONS_PER_PAGE", 2)
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    codes = [(await voucher(plan, stay, redeemed_at=utc(2026, 11, 2 + i, 3), plot_code=f"T0{i + 1}",
                            sign_name=f"户{i}")).code for i in range(3)]  # fmt: skip
    first = (await client.get(f"/manage/partners/{stay.id}/redemptions?{NOVEMBER}")).text
    second = (await client.get(f"/manage/partners/{stay.id}/redemptions?{NOVEMBER}&page=2")).text
    assert "1–2 of 3" in first and "3–3 of 3" in second and "3 vouchers redeemed" in second
    assert (
        'rel="next"' in first and "page=2" in first and "from=2026-11-01" in first
    )  # keeps the period
    assert [format_code(c) in first for c in codes] == [False, True, True]
    assert [format_code(c) in second for c in codes] == [True, False, False]


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01&to=2026-12-01",
        "from=yesterday",
        "to=2026-11-31",
        "from=2026-12-01&to=2026-11-01",
        "from=2026-11-02&to=2026-11-01",
        "from=1999-12-01&to=2026-11-01",
    ],
)
async def test_bad_dates_for_redemptions_are_a_422_with_a_message(client, query):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    r = await client.get(f"/manage/partners/{stay.id}/redemptions?{query}")
    assert r.status_code == 422
    assert "Enter a date as YYYY-MM-DD" in r.text or "must not come before the first" in r.text
    r = await client.get(f"/manage/partners/redemptions.csv?{query}")
    assert r.status_code == 422 and not r.headers["content-type"].startswith("text/csv")


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM that tells Excel and WPS it is UTF-8
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


async def test_the_csv_has_every_partners_redemptions_of_the_period_and_is_safe_to_open(client):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id, "=青山民宿")
    spot = await Partner.create(cooperative_id=manager.cooperative_id,
                                kind=PartnerKind.SCENIC_SPOT, name="青山景区")  # fmt: skip
    staff = await staff_of(stay, "@SUM(1+1)")
    night = await voucher(plan, stay, redeemed_at=utc(2026, 11, 5, 2, 30), staff=staff)
    ticket = await voucher(plan, spot, redeemed_at=utc(2026, 10, 31, 16, 5),
                           kind=PerkKind.SCENIC_TICKET, plot_code="T02")  # fmt: skip
    await voucher(plan, spot, redeemed_at=utc(2026, 11, 30, 17, 0), plot_code="T03")  # December
    other_plan, other_manager = await cooperative("m2@coop.cn")
    foreign = await voucher(other_plan, await guesthouse(other_manager.cooperative_id, "别社民宿"),
                            redeemed_at=utc(2026, 11, 5, 2, 30))  # fmt: skip

    r = await client.get(f"/manage/partners/redemptions.csv?{NOVEMBER}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="redemptions-2026-11-01-2026-11-30.csv"' in r.headers["content-disposition"]
    header, *rows = parse_csv(r.content)
    assert header == ["Partner", "Kind", "Voucher code", "Redeemed at", "Staff", "Plot", "Season"]
    assert rows == [
        ["'=青山民宿", "Farm-stay night", format_code(night.code), "2026-11-05 10:30",
         "'@SUM(1+1)", "T01", "Test season"],
        ["青山景区", "Scenic-spot ticket", format_code(ticket.code), "2026-11-01 00:05", "",
         "T02", "Test season"],
    ]  # fmt: skip
    assert format_code(foreign.code) not in r.text


async def test_the_csv_is_written_in_chunks_and_loses_or_repeats_no_row(client, monkeypatch):
    """Keyset paging on (redeemed_at, id): rows redeemed in the same second are neither skipped
    nor written twice at a chunk's edge."""
    monkeypatch.setattr(console_redemptions, "CSV_CHUNK", 2)
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    same_moment = utc(2026, 11, 5, 2, 30)
    codes = []
    for i in range(5):
        v = await voucher(plan, stay, redeemed_at=same_moment + timedelta(seconds=i // 3),
                          plot_code=f"T0{i % 4 + 1}")  # fmt: skip
        codes.append(format_code(v.code))
    r = await client.get(f"/manage/partners/redemptions.csv?{NOVEMBER}")
    _header, *rows = parse_csv(r.content)
    assert [row[2] for row in rows] == codes  # oldest first, each once


async def test_the_list_counts_this_months_redemptions_and_staff_per_partner(conn):
    plan, manager = await cooperative()
    stay = await guesthouse(manager.cooperative_id)
    await staff_of(stay)
    await voucher(plan, stay, redeemed_at=NOW)
    await voucher(plan, stay, redeemed_at=NOW - timedelta(days=40), plot_code="T02")
    [row] = await console.list_partners(manager=manager, today=TODAY, timezone="Asia/Shanghai")
    assert (row.partner.id, row.staff, row.redeemed) == (stay.id, 1, 1)


# ---- another cooperative's partners and rooms ----


async def test_another_cooperatives_partner_and_room_are_404_on_every_partner_route(client, app):
    plan, manager, token = await logged_in(client)
    other_plan, other_manager = await cooperative("m2@coop.cn")
    theirs = await guesthouse(other_manager.cooperative_id, "别社民宿")
    room = await Room.create(partner=theirs, name="别社房", capacity=2)
    await voucher(other_plan, theirs, redeemed_at=utc(2026, 11, 5, 2, 30))
    before = await snapshot()
    paths = [r.path for r in app.routes if getattr(r, "path", "").startswith("/manage/partners")
             or getattr(r, "path", "").startswith("/manage/rooms")]  # fmt: skip
    walked = 0
    for route in app.routes:
        if route.path not in paths or "{" not in route.path:
            continue
        path = route.path.replace("{partner_id}", str(theirs.id)).replace("{room_id}", str(room.id))
        for method in sorted(route.methods - {"HEAD"}):
            data = {**PARTNER, "name": "入侵", "capacity": "2", "email": "x@y.cn", "active": "0",
                    "csrf_token": token}  # fmt: skip
            r = await (client.get(path) if method == "GET" else client.post(path, data=data))
            assert r.status_code == 404, (method, path, r.status_code)
            assert "别社" not in r.text
            walked += 1
    assert walked == 15  # every method of every partner and room route with an id
    assert await snapshot() == before
    _header, *rows = parse_csv(
        (await client.get(f"/manage/partners/redemptions.csv?{NOVEMBER}")).content
    )
    assert rows == []
