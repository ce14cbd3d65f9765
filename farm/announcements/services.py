"""A manager writes to the active subscribers of a season, of one of its fields, or of one of
its ship days: each gets the notice on their account page and, unless they chose not to get
announcements by mail, a mail in their own language, queued with the announcement (one
transaction) for the mail sender to deliver. The manager sees past announcements, a page at
a time, each with how many mails are queued, sent and failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise import connections
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.announcements.models import Announcement, AnnouncementReceipt, Audience
from farm.errors import FieldErrors, NotFound
from farm.i18n import _, localized
from farm.land.models import Cooperative, Field, Plan, Plot, Season
from farm.land.services import season_ship_days, seasons_and_chosen
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import Unsubscribing, queue_many
from farm.paging import Page, paginate
from farm.parsing import parse_id
from farm.shipments.models import ShipDayHold
from farm.sql import advisory_lock, insert_rows, one_or_not_found, select
from farm.subscriptions.models import Status, Subscription

MAX_SUBJECT = 120
MAX_BODY = 5000
PER_PAGE = 20
NOTICES_SHOWN = 10  # on the account page, newest first
SAME_WITHIN = timedelta(minutes=10)  # the same announcement again within this is not sent


@dataclass(frozen=True)
class Choices:
    """What the form offers for one season: its fields (those its plans are on) and ship
    days."""

    seasons: list[Season]
    season: Season | None
    fields: list[Field]
    ship_days: list[date]


@dataclass(frozen=True)
class Counts:
    recipients: int = 0  # subscribers it reached (account page)
    mailed: int = 0  # mails queued for them (the others chose no announcement mail)
    sent: int = 0
    failed: int = 0  # given up after a day of tries
    dropped: int = 0  # the subscriber said no to announcement mail before it went

    @property
    def queued(self) -> int:
        return self.mailed - self.sent - self.failed - self.dropped


@dataclass(frozen=True)
class Listed:
    announcement: Announcement
    counts: Counts


async def choices(*, manager: User, season_id: int | None) -> Choices:
    """The manager's seasons, the one chosen (default: the latest), its fields and ship
    days. Another cooperative's season is not found."""
    seasons, season = await seasons_and_chosen(manager.cooperative_id, season_id)
    season = season or (seasons[0] if seasons else None)
    if season is None:
        return Choices(seasons, None, [], [])
    field_ids = await Plan.filter(season_id=season.id).values_list("field_id", flat=True)
    fields = list(await Field.filter(id__in=set(field_ids)).order_by("name", "id"))
    return Choices(seasons, season, fields, season_ship_days(season))


def _audience_problem() -> str:
    return _("Choose who gets it: the whole season, a field or a ship day.")


async def announce(
    *,
    manager: User,
    season_id: int | None,
    audience: str,
    field_id: str,
    ship_on: str,
    subject: str,
    body: str,
    now: datetime,
    links: Links,
    secret: str,
) -> Announcement:
    """Write an announcement and queue it to its audience: the active subscribers of the
    season, or of one of its fields, or those with a box due on one of its ship days (not
    held). Refused whole (FieldErrors, nothing written) for a missing subject or body, a
    field or ship day not of the season, or an audience with nobody in it. The same words to
    the same audience within SAME_WITHIN of an earlier one (a double click) are that earlier
    announcement, not sent again."""
    found = await choices(manager=manager, season_id=season_id)
    season = found.season
    if season is None:
        raise NotFound(_("This season does not exist."))
    form = forms.Form()
    kind = form.read("audience", forms.choice, audience, set(Audience), message=_audience_problem())
    field = day = None
    if kind == Audience.FIELD:
        field = next((f for f in found.fields if f.id == parse_id(field_id)), None)
        if field is None:
            form.refuse("field", _("Choose one of this season's fields."))
    if kind == Audience.SHIP_DAY:
        day = form.read("ship_on", forms.day, ship_on)
        if day is not None and day not in found.ship_days:
            form.refuse("ship_on", _("Choose one of this season's ship days."))
    title = form.read("subject", forms.text, subject, limit=MAX_SUBJECT, required=True)
    text = form.read("body", forms.text, body, limit=MAX_BODY, required=True, one_line=False)
    form.check()
    assert kind is not None and title is not None and text is not None
    subscribers = Subscription.filter(season_id=season.id, status=Status.ACTIVE)
    if field is not None:
        subscribers = subscribers.filter(
            plot_id__in=Subquery(Plot.filter(field_id=field.id).values("id"))
        )
    if day is not None:
        held = ShipDayHold.filter(ship_on=day).values("subscription_id")
        subscribers = subscribers.exclude(id__in=Subquery(held))
    user_ids = sorted(set(await subscribers.values_list("customer_id", flat=True)))
    if not user_ids:
        raise FieldErrors({"audience": _("Nobody would get it: no active subscriber there.")})
    cooperative = await Cooperative.get(id=season.cooperative_id)
    text = text.replace("\r\n", "\n")
    async with in_transaction() as conn:
        # A second click on "send" (or the form sent again) while the first is on its way:
        # the same words to the same audience, a moment later, are the same announcement.
        await advisory_lock(conn, f"announce:{cooperative.id}")
        same = await Announcement.filter(
            cooperative_id=cooperative.id, season_id=season.id, audience=kind,
            field_id=field.id if field else None, ship_on=day, subject=title, body=text,
            created_at__gt=now - SAME_WITHIN,
        ).using_db(conn).order_by("id").first()  # fmt: skip
        if same is not None:
            return same
        announcement = await Announcement.create(
            cooperative_id=cooperative.id, season_id=season.id, audience=kind,
            field_id=field.id if field else None, ship_on=day, subject=title, body=text,
            written_by_id=manager.id, created_at=now, recipients=len(user_ids), using_db=conn,
        )  # fmt: skip

        def render() -> Letter:
            name = localized(cooperative.name, cooperative.name_en)
            return Letter(
                "announcement",
                _("%(cooperative)s: %(subject)s") % {"cooperative": name, "subject": title},
                {"cooperative": name, "text": text, "link": links.to("/account#notices")},
            )

        mailed = await queue_many(
            user_ids=user_ids, key=lambda user_id: f"announcement:{announcement.id}:{user_id}",
            render=render, now=now, conn=conn, cooperative_id=cooperative.id,
            unsubscribing=Unsubscribing(links, secret),
        )  # fmt: skip
        await insert_rows(
            conn,
            AnnouncementReceipt,
            [
                {"announcement_id": announcement.id, "user_id": u, "notification_id": mailed.get(u)}
                for u in user_ids
            ],
        )
    return announcement


async def _counts(ids: list[int]) -> dict[int, Counts]:
    """Each announcement's receipts and the state of their mail, in one statement."""
    if not ids:
        return {}
    listed = ", ".join(str(int(i)) for i in ids)  # ints from the database
    rows = await select(
        connections.get("default"),
        "SELECT r.announcement_id AS id, COUNT(*) AS recipients, COUNT(n.id) AS mailed,"  # noqa: S608
        " COUNT(n.sent_at) AS sent,"
        " SUM(CASE WHEN n.failed_at IS NOT NULL AND n.last_error <> 'unsubscribed'"
        " THEN 1 ELSE 0 END) AS failed,"
        " SUM(CASE WHEN n.last_error = 'unsubscribed' THEN 1 ELSE 0 END) AS dropped"
        " FROM announcement_receipts r LEFT JOIN notifications n ON n.id = r.notification_id"
        f" WHERE r.announcement_id IN ({listed}) GROUP BY r.announcement_id",
        [],
    )
    return {
        int(r["id"]): Counts(
            int(r["recipients"]),
            int(r["mailed"]),
            int(r["sent"]),
            int(r["failed"] or 0),
            int(r["dropped"] or 0),
        )  # fmt: skip
        for r in rows
    }


async def past(*, manager: User, page: int) -> Page[Listed]:
    """The cooperative's announcements, newest first, a page at a time, with their counts."""
    found = await paginate(
        Announcement.filter(cooperative_id=manager.cooperative_id),
        page=page,
        size=PER_PAGE,
        order_by=("-created_at", "-id"),
        fetch=lambda q: q.prefetch_related("season", "field", "written_by"),
    )
    counts = await _counts([a.id for a in found.items])
    items = [Listed(a, counts.get(a.id, Counts())) for a in found.items]
    return Page(items=items, number=found.number, size=found.size, total=found.total)


async def one(*, manager: User, announcement_id: int) -> Listed:
    """One of the cooperative's announcements with its counts; another's is not found."""
    announcement = await one_or_not_found(
        Announcement.filter(
            id=announcement_id, cooperative_id=manager.cooperative_id
        ).prefetch_related("season", "field", "written_by"),
        _("This announcement does not exist."),
    )
    counts = await _counts([announcement.id])
    return Listed(announcement, counts.get(announcement.id, Counts()))


async def notices(*, user: User, limit: int = NOTICES_SHOWN) -> list[Announcement]:
    """The announcements a subscriber received, newest first (their account page)."""
    ids = (
        AnnouncementReceipt.filter(user_id=user.id)
        .order_by("-announcement_id")
        .limit(limit)
        .values_list("announcement_id", flat=True)
    )
    return list(
        await Announcement.filter(id__in=list(await ids))
        .order_by("-id")
        .prefetch_related("cooperative")
    )


async def received_by(*, user_id: int, cooperative_id: int) -> list[Announcement]:
    """The cooperative's announcements this user received, oldest first (a subscriber's
    history in the console)."""
    ids = await AnnouncementReceipt.filter(
        user_id=user_id, announcement__cooperative_id=cooperative_id
    ).values_list("announcement_id", flat=True)
    return list(await Announcement.filter(id__in=list(ids)).order_by("created_at", "id"))
