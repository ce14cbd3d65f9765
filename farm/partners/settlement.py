"""Settling with partners: the price the cooperative pays a partner per voucher kind, with its
history (partner_prices, a new price from a day on), and a partner's settlement statement for
a period of local days, half-open: every voucher redeemed there with the price valid on its
day, totals per kind and in all (settlement_rules). A page (its lines paged) and a CSV (its
lines read in chunks). Only the manager's own cooperative's partners; others are not found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from farm import forms, units
from farm.accounts.models import User
from farm.csvfiles import CsvStream, csv_chunks
from farm.i18n import _
from farm.land.models import PerkKind
from farm.paging import Page, clamp_page, page_count
from farm.partners import console_rules
from farm.partners import settlement_rules as rules
from farm.partners.console import own_partner
from farm.partners.console_redemptions import Period, _redeemed_at
from farm.partners.models import Partner, PartnerPrice
from farm.vouchers.models import Voucher
from farm.vouchers.rules import format_code
from farm.vouchers.services import kind_label

LINES_PER_PAGE = 100
KINDS = tuple(k.value for k in PerkKind)


@dataclass(frozen=True)
class PriceInput:
    kind: str
    price: str
    valid_from: str


@dataclass(frozen=True)
class PricesView:
    partner: Partner
    prices: list[PartnerPrice]  # kind, then newest first
    current: dict[str, int]  # kind -> price in fen valid today


async def prices_view(*, manager: User, partner_id: int, today: date) -> PricesView:
    """A partner's prices, every one that was ever set, and the one valid today per kind."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    prices = await PartnerPrice.filter(partner_id=partner.id).order_by("kind", "-valid_from")
    price_list = _price_list(prices)
    current = {k: p for k in KINDS if (p := price_list.on(k, today)) is not None}
    return PricesView(partner, prices, current)


def _price_list(prices: list[PartnerPrice]) -> rules.PriceList:
    return rules.PriceList(rules.Price(str(p.kind), p.valid_from, p.price_fen) for p in prices)


async def set_price(
    *, manager: User, partner_id: int, data: PriceInput, now: datetime
) -> PartnerPrice:
    """The partner's price of a kind from a day on. The same kind and day again corrects that
    price (it was typed wrong); any other day starts a new price, leaving the earlier
    redemptions at theirs. FieldErrors for a bad kind, amount or day."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    form = forms.Form()
    kind = form.read("kind", forms.choice, data.kind, KINDS, message=_("Choose a voucher kind."))
    price = form.read("price", forms.yuan, data.price, allow_zero=True)
    valid_from = form.read("valid_from", forms.day, data.valid_from)
    form.check()
    assert kind is not None and price is not None and valid_from is not None
    async with in_transaction() as conn:
        existing = (
            await PartnerPrice.filter(partner_id=partner.id, kind=kind, valid_from=valid_from)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if existing is not None:
            existing.price_fen = price
            existing.set_at = now
            existing.set_by_id = manager.id
            await existing.save(using_db=conn)
            return existing
        try:
            return await PartnerPrice.create(
                partner_id=partner.id, kind=kind, price_fen=price, valid_from=valid_from,
                set_at=now, set_by_id=manager.id, using_db=conn,
            )  # fmt: skip
        except IntegrityError:  # the same price set twice at once: the other one stands
            form.refuse("valid_from", _("A price of this kind from this day was just set."))
            form.check()
            raise


@dataclass(frozen=True)
class Line:
    day: date
    redeemed_at: datetime
    code: str
    kind: str
    price_fen: int | None
    plot: str
    sign_name: str


@dataclass(frozen=True)
class Statement:
    partner: Partner
    period: Period
    totals: rules.StatementTotals
    lines: Page[Line]


_LINE_VALUES = {
    "id": "id",
    "code": "code",
    "kind": "kind",
    "redeemed_at": "redeemed_at",
    "sign_name": "subscription__sign_name",
    "plot": "subscription__plot__code",
}


def _line(row: dict, zone: ZoneInfo, prices: rules.PriceList) -> Line:
    at = row["redeemed_at"]
    day = at.astimezone(zone).date()
    kind = str(row["kind"])
    return Line(
        day=day, redeemed_at=at, code=format_code(row["code"]), kind=kind,
        price_fen=prices.on(kind, day), plot=row["plot"] or "", sign_name=row["sign_name"] or "",
    )  # fmt: skip


async def _totals(
    partner_id: int, period: Period, prices: rules.PriceList, timezone: str
) -> rules.StatementTotals:
    """One count per kind for each piece of the period in which no price changes: as many
    queries as there are price changes in the period, whatever the number of redemptions."""
    counts: list[tuple[str, date, int]] = []
    changes = prices.changes_within(period.starts_on, period.ends_on)
    for first, end in rules.pieces(period.starts_on, period.ends_on, changes):
        start_at, end_at = console_rules.utc_bounds(first, end, timezone)
        rows = (
            await Voucher.filter(
                redeemed_partner_id=partner_id, redeemed_at__gte=start_at, redeemed_at__lt=end_at
            )
            .annotate(n=Count("id"))
            .group_by("kind")
            .values_list("kind", "n")
        )
        counts.extend((str(kind), first, int(n)) for kind, n in rows)
    return rules.statement_totals(counts, prices)


async def statement(
    *, manager: User, partner_id: int, period: Period, timezone: str, page: int = 1
) -> Statement:
    """The partner's settlement statement for the period: totals per kind (priced, unpriced,
    amount) and a page of its lines, oldest first, each at the price valid on its day."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    prices = _price_list(await PartnerPrice.filter(partner_id=partner.id))
    totals = await _totals(partner.id, period, prices, timezone)
    number = clamp_page(page, page_count(totals.count, LINES_PER_PAGE))
    start, end = console_rules.utc_bounds(period.starts_on, period.ends_on, timezone)
    rows = (
        await Voucher.filter(
            redeemed_partner_id=partner.id, redeemed_at__gte=start, redeemed_at__lt=end
        )
        .order_by("redeemed_at", "id")
        .offset((number - 1) * LINES_PER_PAGE)
        .limit(LINES_PER_PAGE)
        .values(**_LINE_VALUES)
    )
    zone = ZoneInfo(timezone)
    lines = [_line(r, zone, prices) for r in rows]
    return Statement(
        partner, period, totals, Page(lines, number=number, size=LINES_PER_PAGE, total=totals.count)
    )


def _yuan(fen: int | None) -> object:
    return "" if fen is None else units.fen_to_yuan(fen)


async def statement_csv(
    *, manager: User, partner_id: int, period: Period, timezone: str
) -> CsvStream:
    """The statement as a CSV for Excel and WPS (UTF-8 with a BOM, CRLF, formula-safe
    cells): a line per voucher, oldest first, then a total per kind and the grand total.
    An unpriced voucher has an empty price and a note. Streamed in chunks."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    prices = _price_list(await PartnerPrice.filter(partner_id=partner.id))
    totals = await _totals(partner.id, period, prices, timezone)
    zone = ZoneInfo(timezone)
    kinds = {k: kind_label(k) for k in KINDS}
    no_price = _("No price set for this day")
    header = [_("Partner"), _("Day"), _("Redeemed at"), _("Kind"), _("Voucher code"), _("Plot"),
              _("Name sign"), _("Vouchers"), _("Price (yuan)"), _("Note")]  # fmt: skip

    def note(unpriced: int) -> str:
        return _("%(num)d without a price: not counted") % {"num": unpriced} if unpriced else ""

    total_rows: list[list[object]] = [
        [partner.name, "", "", _("Total: %(kind)s") % {"kind": kinds.get(k.kind, k.kind)},
         "", "", "", k.count, units.fen_to_yuan(k.amount_fen), note(k.unpriced)]
        for k in totals.kinds
    ]  # fmt: skip
    total_rows.append([partner.name, "", "", _("Grand total"), "", "", "", totals.count,
                       units.fen_to_yuan(totals.amount_fen), note(totals.unpriced)])  # fmt: skip

    def row(line: Line) -> list[object]:
        return [
            partner.name, line.day.isoformat(),
            line.redeemed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            kinds.get(line.kind, line.kind), line.code, line.plot, line.sign_name, 1,
            _yuan(line.price_fen), "" if line.price_fen is not None else no_price,
        ]  # fmt: skip

    start, end = console_rules.utc_bounds(period.starts_on, period.ends_on, timezone)

    async def chunks() -> AsyncIterator[list[list[object]]]:
        async for chunk in _redeemed_at(partner.id, start, end):
            yield [row(_line(r, zone, prices)) for r in chunk]
        yield total_rows

    last_day = period.ends_on - timedelta(days=1)
    names = {"partner": partner.name, "from": period.starts_on.isoformat(),
             "to": last_day.isoformat()}  # fmt: skip
    return CsvStream(
        csv_chunks(header, chunks()),
        filename=_("Settlement %(partner)s %(from)s to %(to)s.csv") % names,
        fallback=f"settlement-{partner.id}-{names['from']}-{names['to']}.csv",
    )
