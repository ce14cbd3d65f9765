"""The vouchers redeemed at the cooperative's partners: a page per partner and a CSV of all of
them for settling with partners. Periods are local days, half-open; times are stored in UTC
and shown in the service's time zone. Nothing here loads a whole season into memory: the page
is paged, the CSV is read and written in chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.functions import Count

from farm import forms
from farm.accounts.models import User
from farm.csvfiles import CsvStream, csv_chunks
from farm.i18n import _, current_language
from farm.paging import Page, clamp_page, page_count
from farm.partners import console_rules as rules
from farm.partners.console import own_partner
from farm.partners.models import Partner
from farm.vouchers.models import Voucher
from farm.vouchers.rules import format_code
from farm.vouchers.services import kind_label

REDEMPTIONS_PER_PAGE = 100
CSV_CHUNK = 1000  # rows read and written at a time: a season's file never sits in memory


@dataclass(frozen=True)
class Period:
    """Local days, half-open: [starts_on, ends_on)."""

    starts_on: date
    ends_on: date


def read_period(raw_from: str | None, raw_to: str | None, *, today: date) -> Period:
    """?from=&to= as typed (YYYY-MM-DD, both days included, as every date filter of the
    console and the report's own heading say); either left out is this month's. FieldErrors
    for anything else."""
    default = rules.month_of(today)
    form = forms.Form()
    starts_on = form.read("from", forms.day, raw_from) if raw_from else default[0]
    last = form.read("to", forms.day, raw_to) if raw_to else default[1] - timedelta(days=1)
    if starts_on and last and starts_on > last:
        form.refuse("to", _("The last day must not come before the first."))
    form.check()
    assert starts_on is not None and last is not None
    return Period(starts_on, last + timedelta(days=1))


@dataclass(frozen=True)
class RedemptionPage:
    partner: Partner
    period: Period
    listing: Page[dict]  # rows: code, kind, redeemed_at, staff, sign_name, plot
    totals: dict[str, int]  # kind -> count in the whole period

    @property
    def total(self) -> int:
        return self.listing.total


_ROW_VALUES = {
    "id": "id",
    "code": "code",
    "kind": "kind",
    "redeemed_at": "redeemed_at",
    "staff": "redeemed_by__name",
    "sign_name": "subscription__sign_name",
    "plot": "subscription__plot__code",
    "season": "subscription__season__name",
    "season_en": "subscription__season__name_en",
}


async def partner_redemptions(
    *, manager: User, partner_id: int, period: Period, timezone: str, page: int = 1
) -> RedemptionPage:
    """The vouchers redeemed at one partner in the period, newest first, a page at a time,
    with the totals by kind over the whole period."""
    partner = await own_partner(manager=manager, partner_id=partner_id)
    start, end = rules.utc_bounds(period.starts_on, period.ends_on, timezone)
    query = Voucher.filter(
        redeemed_partner_id=partner.id, redeemed_at__gte=start, redeemed_at__lt=end
    )
    totals = {
        str(kind): int(n)
        for kind, n in await query.annotate(n=Count("id")).group_by("kind").values_list("kind", "n")
    }
    total = sum(totals.values())
    page = clamp_page(page, page_count(total, REDEMPTIONS_PER_PAGE))
    rows = (
        await query.order_by("-redeemed_at", "-id")
        .offset((page - 1) * REDEMPTIONS_PER_PAGE)
        .limit(REDEMPTIONS_PER_PAGE)
        .values(**_ROW_VALUES)
    )
    for row in rows:
        row["code"] = format_code(row["code"])
    listing = Page(items=list(rows), number=page, size=REDEMPTIONS_PER_PAGE, total=total)
    return RedemptionPage(partner, period, listing, totals)


async def _redeemed_at(
    partner_id: int, start: datetime, end: datetime
) -> AsyncIterator[list[dict]]:
    """One partner's redemptions in [start, end), oldest first, CSV_CHUNK rows at a time
    (keyset paging on (redeemed_at, id): each chunk is one indexed query, however deep)."""
    base = Voucher.filter(
        redeemed_partner_id=partner_id, redeemed_at__gte=start, redeemed_at__lt=end
    )
    query = base
    while True:
        chunk = await query.order_by("redeemed_at", "id").limit(CSV_CHUNK).values(**_ROW_VALUES)
        if not chunk:
            return
        yield chunk
        if len(chunk) < CSV_CHUNK:
            return
        last = chunk[-1]
        query = base.filter(
            Q(redeemed_at__gt=last["redeemed_at"])
            | Q(redeemed_at=last["redeemed_at"], id__gt=last["id"])
        )


async def redemptions_csv(*, manager: User, period: Period, timezone: str) -> CsvStream:
    """Every voucher redeemed at the cooperative's partners in the period, partner by partner
    and oldest first, as a CSV for settling with them (the reports' format: UTF-8 with a BOM,
    CRLF, formula-safe cells), to be streamed: a season's redemptions are never all in
    memory."""
    partners = await Partner.filter(cooperative_id=manager.cooperative_id).order_by("name", "id")
    start, end = rules.utc_bounds(period.starts_on, period.ends_on, timezone)
    zone = ZoneInfo(timezone)
    english = current_language() == "en"
    kinds = {str(k): kind_label(k) for k in ("scenic_ticket", "farm_stay_night")}
    header = [_("Partner"), _("Kind"), _("Voucher code"), _("Redeemed at"), _("Staff"),
              _("Plot"), _("Season")]  # fmt: skip

    def line(partner: Partner, row: dict) -> list[object]:
        season = (row["season_en"] or row["season"]) if english else row["season"]
        return [
            partner.name, kinds.get(str(row["kind"]), str(row["kind"])), format_code(row["code"]),
            row["redeemed_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"), row["staff"] or "",
            row["plot"] or "", season or "",
        ]  # fmt: skip

    async def chunks() -> AsyncIterator[list[list[object]]]:
        for partner in partners:
            async for chunk in _redeemed_at(partner.id, start, end):
                yield [line(partner, row) for row in chunk]

    last_day = date.fromordinal(period.ends_on.toordinal() - 1)
    names = {"from": period.starts_on.isoformat(), "to": last_day.isoformat()}
    return CsvStream(
        csv_chunks(header, chunks()),
        filename=_("Redemptions %(from)s to %(to)s.csv") % names,
        fallback="redemptions-{from}-{to}.csv".format(**names),
    )
