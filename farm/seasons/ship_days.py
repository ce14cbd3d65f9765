"""A coming ship day skipped or moved after the sale (the Spring Festival, a storm, a courier
strike): the season's calendar keeps the change (farm.land.rules' ship-day moves), so every
reader of its ship days (the scheduler's ship days, the customer's page, the refund rule, the
holds) sees the new date; the change and its reason are kept, and each active subscriber is
told by mail, once, by the scheduler (thousands of them: never in the manager's request).

What would have gone in a skipped box stays unallocated and goes in the next box, as produce
always does when a ship day has nothing to pack; fresh produce that would not keep until then
is diverted by the ship day's own rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter

from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict, FieldErrors
from farm.i18n import _
from farm.land import rules
from farm.land.models import Season, ShipDayChange
from farm.land.services import calendar_ship_days, season_changes, season_ship_days
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import USER_LINK, queue_many
from farm.seasons.console import own_season
from farm.shipments.models import Batch
from farm.sql import id_chunks
from farm.subscriptions.models import Status, Subscription

REASON_LIMIT = 200
TELL_CHUNK = 500  # subscribers read at a time when telling them


@dataclass(frozen=True)
class ShipDaysView:
    season: Season
    coming: list[date]  # ship days as they now fall, from today on
    changes: list[ShipDayChange]  # newest first, with who made them
    notice_days: int


async def ship_days_view(*, manager: User, season_id: int, today: date) -> ShipDaysView:
    season = await own_season(manager=manager, season_id=season_id)
    return ShipDaysView(
        season=season,
        coming=[d for d in season_ship_days(season) if d >= today],
        changes=await season_changes(season.id),
        notice_days=max(rules.SHIP_DAY_NOTICE_DAYS, season.cutoff_days + 1),
    )


def read_change(*, day: str, action: str, new_day: str, reason: str) -> dict:
    """The change as typed, or FieldErrors beside each wrong field."""
    form = forms.Form()
    clean = {
        "day": form.read("day", forms.day, day),
        "action": form.read(
            "action",
            forms.choice,
            action,
            {"skip": "skip", "move": "move"},
            message=_("Choose whether to skip or move the ship day."),
        ),  # fmt: skip
        "reason": form.read("reason", forms.text, reason, limit=REASON_LIMIT, required=True),
    }
    clean["new_day"] = (
        form.read("new_day", forms.day, new_day) if clean["action"] == "move" else None
    )
    form.check()
    return clean


async def change_ship_day(
    *, manager: User, season_id: int, day: date, new_day: date | None, reason: str,
    today: date, now: datetime,
) -> ShipDayChange:  # fmt: skip
    """Skip (`new_day` None) or move one coming ship day of the manager's season, with the
    reason its subscribers will read. Refused (4xx, nothing changed) for a day that is no
    coming ship day, inside the notice, already being made, or a move outside the days
    around it. The season's row is locked: two managers changing its days take turns."""
    async with in_transaction() as conn:
        season = await own_season(manager=manager, season_id=season_id, conn=conn)
        days = season_ship_days(season)
        problem = rules.ship_day_change_problem(
            days=days, day=day, new_day=new_day, today=today, cutoff_days=season.cutoff_days,
            starts_on=season.starts_on, ends_on=season.ends_on,
        )  # fmt: skip
        if problem:
            raise FieldErrors(dict([problem]))
        if (
            await Batch.filter(cooperative_id=season.cooperative_id, ship_on=day)
            .using_db(conn)
            .exists()
        ):
            raise Conflict(_("The boxes of this ship day are already being made."))
        moves = rules.parse_ship_day_moves(season.ship_day_moves)
        original = rules.original_ship_day(day, calendar_ship_days(season), moves)
        if original is None:  # cannot be: `day` is one of the season's days
            raise Conflict(_("%(day)s is not a ship day of this season.") % {"day": day})
        moves[original] = new_day
        text = rules.format_ship_day_moves(moves)
        if len(moves) > rules.MAX_SHIP_DAY_MOVES or len(text) > 400:
            raise Conflict(_("This season's ship days have been changed too often already."))
        season.ship_day_moves = text
        await season.save(using_db=conn, update_fields=["ship_day_moves"])
        return await ShipDayChange.create(
            season_id=season.id, ship_on=day, moved_to=new_day, reason=reason,
            changed_by_id=manager.id, changed_at=now, using_db=conn,
        )  # fmt: skip


def ship_day_mail(*, change: ShipDayChange, link: str) -> Letter:
    if change.moved_to is None:
        subject = _("No box on %(day)s") % {"day": change.ship_on}
    else:
        subject = _("Your box of %(day)s moves to %(new)s") % {
            "day": change.ship_on,
            "new": change.moved_to,
        }
    context = {
        "ship_on": change.ship_on,
        "moved_to": change.moved_to,
        "reason": change.reason,
        "link": link,
    }
    return Letter("ship_day_changed", subject, context)


async def tell_ship_day_changes(*, links: Links, now: datetime) -> int:
    """Mail each active subscriber of a changed season about each change not yet told, once
    (one mail per family, linking to its first subscription of the season), and mark the
    change told, in one transaction per change: a run cut short tells that change again
    whole. The mails are queued a chunk at a time (queue_many), not a statement per family.
    The number of mails queued."""
    queued = 0
    for change in await ShipDayChange.filter(told_at__isnull=True).order_by("id"):
        season = await Season.get(id=change.season_id)
        told: set[int] = set()
        async with in_transaction() as conn:
            active = Subscription.filter(season_id=change.season_id, status=Status.ACTIVE)
            async for rows in id_chunks(
                active.using_db(conn), TELL_CHUNK,
                lambda chunk: chunk.values_list("id", "customer_id"), id_of=itemgetter(0),
            ):  # fmt: skip
                first: dict[int, int] = {}
                for sub_id, user_id in rows:
                    if user_id not in told:
                        first.setdefault(user_id, sub_id)
                told.update(first)
                mailed = await queue_many(
                    user_ids=list(first),
                    key=lambda user_id, change=change: f"ship-day-change:{change.id}:u{user_id}",
                    render=lambda change=change: ship_day_mail(change=change, link=USER_LINK),
                    link=lambda user_id, first=first: links.subscription(
                        first[user_id], "deliveries"
                    ),
                    now=now, conn=conn, cooperative_id=season.cooperative_id, unsubscribing=None,
                )  # fmt: skip
                queued += len(mailed)
            await ShipDayChange.filter(id=change.id).using_db(conn).update(told_at=now)
    return queued
