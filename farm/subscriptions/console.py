"""The season's subscribers in the manager's console: a page at a time, searched by name,
phone, email or plot code and filtered by status, and the whole list as a CSV file made and
sent in chunks. Only subscriptions to the manager's cooperative's seasons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from farm.accounts.models import User
from farm.csvfiles import CsvStream, csv_chunks
from farm.errors import NotFound
from farm.i18n import _, current_language, localized
from farm.land.models import Plot, Season
from farm.paging import Page, ids_then, paginate
from farm.subscriptions.models import Status, Subscription
from farm.units import fen_to_yuan

SUBSCRIBERS_PER_PAGE = 50
CSV_CHUNK = 2000
COLUMNS = (
    "id", "status", "sign_name", "price_fen", "activated_at", "recipient", "phone", "province",
    "city", "address", "customer__name", "customer__email", "customer__phone", "plot__code",
    "plot__field__name", "plan__name", "plan__name_en",
)  # fmt: skip


@dataclass(frozen=True)
class SubscriberFilter:
    season_id: int | None = None  # None: the latest season
    status: str = ""  # "" for every status
    text: str = ""  # a name, phone, email or plot code


@dataclass(frozen=True)
class SubscribersPage:
    seasons: list[Season]
    season: Season | None
    counts: dict[str, int]  # status -> subscriptions in the season
    listed: Page[dict]
    filters: SubscriberFilter

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def _season(*, manager: User, season_id: int | None) -> tuple[list[Season], Season | None]:
    seasons = list(
        await Season.filter(cooperative_id=manager.cooperative_id).order_by("-starts_on", "-id")
    )
    if season_id is None:  # the latest season anyone subscribed to, else the latest
        for season in seasons:
            if await Subscription.filter(season_id=season.id).exists():
                return seasons, season
        return seasons, seasons[0] if seasons else None
    season = next((s for s in seasons if s.id == season_id), None)
    if season is None:
        raise NotFound(_("This season does not exist."))
    return seasons, season


def search(text: str) -> Q:
    """What a typed text finds, read from its shape so that each search reads few columns:
    an email (with @) by its start, a phone (digits) by its start, a plot code (letters and
    digits) by its start or a name, anything else in the names on the subscription (sign,
    recipient) or the customer's."""
    customers = User.filter(role="customer")
    if "@" in text:
        return Q(customer_id__in=Subquery(customers.filter(email__istartswith=text).values("id")))
    if text.isascii() and text.isdigit():
        return Q(phone__startswith=text) | Q(
            customer_id__in=Subquery(customers.filter(phone__startswith=text).values("id"))
        )
    names = (
        Q(sign_name__icontains=text)
        | Q(recipient__icontains=text)
        | Q(customer_id__in=Subquery(customers.filter(name__icontains=text).values("id")))
    )
    if text.isascii() and text.isalnum():
        codes = Plot.filter(code__istartswith=text).values("id")
        return Q(plot_id__in=Subquery(codes)) | names
    return names


def _matching(season: Season, filters: SubscriberFilter):
    query = Subscription.filter(season_id=season.id)
    if filters.status in set(Status):
        query = query.filter(status=filters.status)
    if filters.text:
        query = query.filter(search(filters.text))
    return query


async def subscribers_page(
    *, manager: User, filters: SubscriberFilter, page: int
) -> SubscribersPage:
    """One page of a season's subscribers, newest first, with the season's count per status.
    A season of another cooperative is not found; no season means the latest season with
    subscribers."""
    seasons, season = await _season(manager=manager, season_id=filters.season_id)
    if season is None:
        return SubscribersPage(seasons, None, {}, Page([], 1, SUBSCRIBERS_PER_PAGE, 0), filters)
    counts = {
        str(status): int(n)
        for status, n in await Subscription.filter(season_id=season.id)
        .annotate(n=Count("id"))
        .group_by("status")
        .values_list("status", "n")
    }
    listed = await paginate(
        _matching(season, filters),
        page=page,
        size=SUBSCRIBERS_PER_PAGE,
        order_by=("-id",),
        fetch=ids_then(Subscription, COLUMNS),
        total=None if filters.text or filters.status else sum(counts.values()),
    )
    return SubscribersPage(seasons, season, counts, listed, filters)


def status_name(status: str) -> str:
    return {
        Status.PENDING_PAYMENT: _("Awaiting payment"),
        Status.ACTIVE: _("Active"),
        Status.CANCELLED: _("Cancelled"),
        Status.REFUNDED: _("Refunded"),
    }.get(status, _("Completed"))


async def subscribers_csv(*, manager: User, filters: SubscriberFilter, timezone: str) -> CsvStream:
    """Every subscriber of the season matching the filters, oldest first, as a CSV file for
    Excel and WPS (the reports' writer: BOM, CRLF, no cell a spreadsheet would run), read in
    chunks of CSV_CHUNK rows by id, so memory stays flat whatever the season's size."""
    _seasons, season = await _season(manager=manager, season_id=filters.season_id)
    if season is None:
        raise NotFound(_("This season does not exist."))
    english = current_language() == "en"
    # Read now, in the reader's language: the file is written after the request's context.
    names = {s.value: status_name(s.value) for s in Status}
    header = [
        _("Number"), _("Status"), _("Name on the sign"), _("Customer"), _("Email"), _("Phone"),
        _("Recipient"), _("Province"), _("City"), _("Street address"), _("Field"), _("Plot"),
        _("Plan"), _("Price (yuan)"), _("Paid on"),
    ]  # fmt: skip
    zone = ZoneInfo(timezone)

    def line(r: dict) -> list[object]:
        paid: datetime | None = r["activated_at"]
        plan = (r["plan__name_en"] or r["plan__name"]) if english else r["plan__name"]
        return [
            r["id"], names.get(str(r["status"]), str(r["status"])), r["sign_name"],
            r["customer__name"], r["customer__email"], r["phone"] or r["customer__phone"],
            r["recipient"], r["province"], r["city"], r["address"], r["plot__field__name"],
            r["plot__code"], plan,
            fen_to_yuan(r["price_fen"]),
            paid.astimezone(zone).strftime("%Y-%m-%d %H:%M") if paid else "",
        ]  # fmt: skip

    async def chunks() -> AsyncIterator[list[list[object]]]:
        after = 0
        while True:
            rows = (
                await _matching(season, filters)
                .filter(id__gt=after)
                .order_by("id")
                .limit(CSV_CHUNK)
                .values(*COLUMNS)
            )
            if not rows:
                return
            yield [line(r) for r in rows]
            after = rows[-1]["id"]

    season_name = localized(season.name, season.name_en)
    return CsvStream(
        chunks=csv_chunks(header, chunks()),
        filename=_("Subscribers %(season)s.csv") % {"season": season_name},
        fallback=f"subscribers-season-{season.id}.csv",
    )
