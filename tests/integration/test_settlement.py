"""Settling with partners: prices per voucher kind with their history, and a partner's
settlement statement (page and CSV) at the price valid on each redemption's local day."""

from datetime import date

import pytest

from farm.errors import FieldErrors, NotFound
from farm.land.models import PerkKind
from farm.partners import settlement
from farm.partners.console_redemptions import Period
from farm.partners.models import Partner, PartnerKind, PartnerPrice
from farm.vouchers.rules import format_code
from tests.integration.test_partner_console import (
    cooperative,
    guesthouse,
    logged_in,
    parse_csv,
    utc,
    voucher,
)
from tests.support import NOW, count_queries, csrf_of

NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))
TZ = "Asia/Shanghai"


@pytest.fixture(autouse=True)
def in_english(request):
    from farm import i18n

    i18n.set_language("en")
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.set("lang", "en")
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


async def price(partner, kind, fen, valid_from):
    return await PartnerPrice.create(
        partner=partner, kind=kind, price_fen=fen, valid_from=valid_from, set_at=NOW
    )


async def test_a_new_price_applies_from_its_day_and_earlier_redemptions_keep_theirs(app):
    plan, manager = await cooperative()
    stay = await guesthouse(manager.cooperative_id)
    await price(stay, PerkKind.FARM_STAY_NIGHT, 12000, date(2026, 1, 1))
    # the new price's first day, 00:30 in Shanghai (16:30 UTC the day before)
    await price(stay, PerkKind.FARM_STAY_NIGHT, 15000, date(2026, 11, 10))
    before = await voucher(plan, stay, redeemed_at=utc(2026, 11, 9, 15, 59), plot_code="T01")
    after = await voucher(plan, stay, redeemed_at=utc(2026, 11, 9, 16, 30), plot_code="T02")
    s = await settlement.statement(manager=manager, partner_id=stay.id, period=NOVEMBER,
                                   timezone=TZ)  # fmt: skip
    by_code = {line.code: line for line in s.lines.items}
    assert by_code[format_code(before.code)].price_fen == 12000
    assert by_code[format_code(after.code)].price_fen == 15000
    assert by_code[format_code(after.code)].day == date(2026, 11, 10)
    assert (s.totals.count, s.totals.amount_fen, s.totals.unpriced) == (2, 27000, 0)
    assert s.totals.kinds[0].prices == {12000: 1, 15000: 1}


async def test_statement_totals_per_kind_and_in_all_and_the_unpriced_are_flagged_not_zero(app):
    plan, manager = await cooperative()
    stay = await guesthouse(manager.cooperative_id)
    await price(stay, PerkKind.FARM_STAY_NIGHT, 12000, date(2026, 1, 1))
    await price(stay, PerkKind.SCENIC_TICKET, 3000, date(2026, 11, 20))
    for i, (kind, day) in enumerate(
        [
            (PerkKind.FARM_STAY_NIGHT, 3),
            (PerkKind.FARM_STAY_NIGHT, 25),
            (PerkKind.SCENIC_TICKET, 5),  # before the ticket's first price
            (PerkKind.SCENIC_TICKET, 21),
        ]
    ):
        await voucher(plan, stay, redeemed_at=utc(2026, 11, day, 4), kind=kind,
                      plot_code=f"T0{i + 1}")  # fmt: skip
    await voucher(plan, stay, redeemed_at=utc(2026, 12, 2, 4), plot_code="T01")  # December
    other = await Partner.create(cooperative_id=manager.cooperative_id,
                                 kind=PartnerKind.SCENIC_SPOT, name="青山景区")  # fmt: skip
    await voucher(plan, other, redeemed_at=utc(2026, 11, 6, 4), plot_code="T02")
    s = await settlement.statement(manager=manager, partner_id=stay.id, period=NOVEMBER,
                                   timezone=TZ)  # fmt: skip
    kinds = {k.kind: (k.priced, k.unpriced, k.amount_fen) for k in s.totals.kinds}
    assert kinds == {"farm_stay_night": (2, 0, 24000), "scenic_ticket": (1, 1, 3000)}
    assert (s.totals.count, s.totals.amount_fen, s.totals.unpriced) == (4, 27000, 1)
    assert [line.price_fen for line in s.lines.items] == [12000, None, 3000, 12000]


async def test_prices_are_set_through_the_form_in_yuan_and_the_same_day_corrects_the_price(client):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    path = f"/manage/partners/{stay.id}/prices"
    page = await client.get(path)
    assert page.status_code == 200 and "no price yet" in page.text
    csrf = await csrf_of(client, path)
    form = {"csrf_token": csrf, "kind": "farm_stay_night", "price": "¥120.50",
            "valid_from": "2026-11-01"}  # fmt: skip
    r = await client.post(path, data=form)
    assert r.status_code == 303
    await client.post(path, data={**form, "price": "125"})  # the same day: a correction
    await client.post(path, data={**form, "price": "150", "valid_from": "2027-01-01"})
    rows = (
        await PartnerPrice.filter(partner=stay)
        .order_by("valid_from")
        .values_list("valid_from", "price_fen")
    )
    assert rows == [(date(2026, 11, 1), 12500), (date(2027, 1, 1), 15000)]
    page = await client.get(path)
    assert "¥125" in page.text and "¥150" in page.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "12.345"), ("price", "-3"), ("price", "abc"), ("valid_from", "2026-13-01"),
     ("kind", "spa_day")],
)  # fmt: skip
async def test_a_bad_price_is_refused_beside_its_field_and_nothing_is_written(client, field, value):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    path = f"/manage/partners/{stay.id}/prices"
    form = {"csrf_token": await csrf_of(client, path), "kind": "farm_stay_night", "price": "120",
            "valid_from": "2026-11-01", field: value}  # fmt: skip
    r = await client.post(path, data=form)
    assert r.status_code == 422 and f'id="err-{field}"' in r.text
    assert await PartnerPrice.all().count() == 0


async def test_another_cooperatives_partner_is_not_found_for_prices_and_statements(client, app):
    plan, manager, token = await logged_in(client)
    other_plan, other_manager = await cooperative("m2@coop.cn")
    foreign = await guesthouse(other_manager.cooperative_id, "别社民宿")
    for path in ("prices", "statement", "statement.csv"):
        r = await client.get(f"/manage/partners/{foreign.id}/{path}")
        assert r.status_code == 404, path
    r = await client.post(
        f"/manage/partners/{foreign.id}/prices",
        data={"csrf_token": await csrf_of(client, "/manage/partners"), "kind": "farm_stay_night",
              "price": "1", "valid_from": "2026-11-01"},
    )  # fmt: skip
    assert r.status_code == 404 and await PartnerPrice.all().count() == 0
    with pytest.raises(NotFound):
        await settlement.set_price(
            manager=manager, partner_id=foreign.id, now=NOW,
            data=settlement.PriceInput("farm_stay_night", "1", "2026-11-01"),
        )  # fmt: skip


async def test_the_set_price_service_refuses_a_bad_kind(app):
    plan, manager = await cooperative()
    stay = await guesthouse(manager.cooperative_id)
    with pytest.raises(FieldErrors) as refused:
        await settlement.set_price(
            manager=manager, partner_id=stay.id, now=NOW,
            data=settlement.PriceInput("=cmd", "1", "2026-11-01"),
        )  # fmt: skip
    assert set(refused.value.errors) == {"kind"}


async def test_the_statement_page_shows_totals_and_flags_vouchers_without_a_price(client):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    await price(stay, PerkKind.FARM_STAY_NIGHT, 12000, date(2026, 11, 10))
    early = await voucher(plan, stay, redeemed_at=utc(2026, 11, 2, 4), plot_code="T01")
    late = await voucher(plan, stay, redeemed_at=utc(2026, 11, 12, 4), plot_code="T02")
    r = await client.get(f"/manage/partners/{stay.id}/statement?from=2026-11-01&to=2026-11-30")
    assert r.status_code == 200
    assert format_code(early.code) in r.text and format_code(late.code) in r.text
    assert "to pay ¥120" in r.text and "not counted in the total" in r.text
    assert 'role="alert"' in r.text and "no price" in r.text
    bad = await client.get(f"/manage/partners/{stay.id}/statement?from=2026-11-02&to=2026-11-01")
    assert bad.status_code == 422


async def test_the_statement_csv_lists_each_voucher_with_its_price_and_totals_and_escapes_formulas(
    client,
):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id, '=HYPERLINK("x")')
    await price(stay, PerkKind.FARM_STAY_NIGHT, 12000, date(2026, 11, 10))
    await voucher(plan, stay, redeemed_at=utc(2026, 11, 2, 4), plot_code="T01",
                  sign_name="+SUM(1)")  # fmt: skip
    late = await voucher(plan, stay, redeemed_at=utc(2026, 11, 12, 4), plot_code="T02",
                         sign_name="-2+3")  # fmt: skip
    await voucher(plan, stay, redeemed_at=utc(2026, 11, 13, 4), plot_code="T03",
                  sign_name="@cmd")  # fmt: skip
    r = await client.get(f"/manage/partners/{stay.id}/statement.csv?from=2026-11-01&to=2026-11-30")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="settlement-{stay.id}-2026-11-01-2026-11-30.csv"'
        in r.headers["content-disposition"]
    )
    header, *rows = parse_csv(r.content)
    assert header[0] == "Partner" and header[8] == "Price (yuan)"
    assert all(row[0] == '\'=HYPERLINK("x")' for row in rows)  # never run as a formula
    lines = rows[:3]
    assert [row[6] for row in lines] == ["'+SUM(1)", "'-2+3", "'@cmd"]
    assert lines[0][8] == "" and lines[0][9] == "No price set for this day"
    assert lines[1][4] == format_code(late.code) and lines[1][8] == "120.00"
    assert lines[1][1] == "2026-11-12"
    total_kind, grand = rows[3], rows[4]
    assert total_kind[3] == "Total: Farm-stay night" and total_kind[7:9] == ["3", "240.00"]
    assert "1 without a price" in total_kind[9]
    assert grand[3] == "Grand total" and grand[7:9] == ["3", "240.00"]


async def test_the_statement_and_prices_pages_make_the_same_queries_for_1_or_12_rows(client):
    plan, manager, token = await logged_in(client)
    stay = await guesthouse(manager.cooperative_id)
    statement = f"/manage/partners/{stay.id}/statement?from=2026-11-01&to=2026-11-30"
    prices = f"/manage/partners/{stay.id}/prices"

    async def queries(path) -> int:
        with count_queries() as counted:
            assert (await client.get(path)).status_code == 200
        return counted.count

    await price(stay, PerkKind.FARM_STAY_NIGHT, 12000, date(2026, 1, 1))
    await voucher(plan, stay, redeemed_at=utc(2026, 11, 2, 4), plot_code="T01")
    one = (await queries(statement), await queries(prices))
    for i in range(11):  # more vouchers, and more prices (none changing within November)
        await voucher(plan, stay, redeemed_at=utc(2026, 11, 3 + i, 4), plot_code=f"T0{i % 4 + 1}",
                      kind=PerkKind.SCENIC_TICKET if i % 2 else PerkKind.FARM_STAY_NIGHT)  # fmt: skip
        await price(stay, PerkKind.SCENIC_TICKET, 3000 + i, date(2025, 1, 1 + i))
    assert (await queries(statement), await queries(prices)) == one
