"""When a season ends: its subscriptions complete, and harvest nobody can be sent any more
gets its place (so every gram is accounted for)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from farm.fieldwork.models import HarvestLot
from farm.land.models import Plan, Season
from farm.shipments.batches import season_ship_days
from farm.shipments.models import Allocation, AllocationState, Batch, DiversionReason
from farm.sql import try_advisory_lock
from farm.subscriptions.models import Status, Subscription


@dataclass
class ClosedSeasons:
    completed: int = 0  # subscriptions
    unclaimed_g: int = 0


async def close_ended_seasons(*, today: date, now: datetime) -> ClosedSeasons:
    """For each season that has ended (its last day is before today) and whose ship days
    have all been made: complete its active subscriptions, and record the open harvest of
    its fields grown before its end as unclaimed, unless another season of the field is
    still running (whose first ship day then settles it). Idempotent: a second run finds
    nothing left to do."""
    result = ClosedSeasons()
    for season in await Season.filter(ends_on__lte=today).order_by("ends_on", "id"):
        days = season_ship_days(season)
        made = await Batch.filter(
            cooperative_id=season.cooperative_id, ship_on__in=days, completed_at__isnull=False
        ).count()
        if made < len(days):
            continue  # the batches come first (the scheduler runs them before this)
        result.completed += await Subscription.filter(
            season_id=season.id, status=Status.ACTIVE
        ).update(status=Status.COMPLETED)
        # Kept for a box that will not come (its subscription was cancelled while held).
        result.unclaimed_g += sum(
            await Allocation.filter(
                state=AllocationState.CARRIED, subscription__season_id=season.id
            ).values_list("grams", flat=True)
        )
        await Allocation.filter(
            state=AllocationState.CARRIED, subscription__season_id=season.id
        ).update(state=AllocationState.DIVERTED, reason=DiversionReason.UNCLAIMED, decided_at=now)
        field_ids = set(await Plan.filter(season_id=season.id).values_list("field_id", flat=True))
        running = set(
            await Plan.filter(
                field_id__in=field_ids, season__starts_on__lte=today, season__ends_on__gt=today
            ).values_list("field_id", flat=True)
        )
        for field_id in sorted(field_ids - running):
            result.unclaimed_g += await _settle_leftovers(field_id=field_id, season=season, now=now)
    return result


async def _settle_leftovers(*, field_id: int, season: Season, now: datetime) -> int:
    async with in_transaction() as conn:
        if not await try_advisory_lock(conn, "close", season.ends_on, field_id):
            return 0
        # Every open lot grown before the season ended, locked as model rows (tortoise drops
        # FOR UPDATE from .values() queries): nobody can be sent it any more.
        locked = (
            await HarvestLot.filter(
                field_id=field_id,
                harvested_on__lt=season.ends_on,
                settled_g__lt=F("weight_g"),
            )
            .select_for_update()
            .using_db(conn)
            .only("id", "weight_g", "settled_g")
        )
        lots = [{"id": x.id, "weight_g": x.weight_g, "settled_g": x.settled_g} for x in locked]
        if not lots:
            return 0
        await Allocation.bulk_create(
            [
                Allocation(
                    lot_id=lot["id"],
                    grams=lot["weight_g"] - lot["settled_g"],
                    state=AllocationState.DIVERTED,
                    reason=DiversionReason.UNCLAIMED,
                    ship_on=season.ends_on,
                    decided_at=now,
                )
                for lot in lots
            ],
            using_db=conn,
        )
        await (
            HarvestLot.filter(id__in=[lot["id"] for lot in lots])
            .using_db(conn)
            .update(settled_g=F("weight_g"))
        )
        return sum(lot["weight_g"] - lot["settled_g"] for lot in lots)
