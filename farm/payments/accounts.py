"""A season's money: what its subscriptions paid, what went back, and the net, per plan and per
day (the service's own dates), in total. Sums made by the database (GROUP BY), so a page reads
a few rows whatever the number of subscriptions.

Taken: payments that succeeded (including those since refunded in part or whole, or owing a
refund), on the day they were paid. Refunded: refunds whose money has gone or is on its way
(accepted by Stripe, succeeded, or paid by the cooperative outside Stripe), on the day they
were made. A refund that failed or is still owed is not counted until it is paid: the payments
page lists those."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tortoise import connections

from farm.land.models import Season
from farm.sql import is_postgres, select

PAID = ("succeeded", "refunded", "refund_due")
RETURNED = ("pending", "succeeded", "manual_done")


@dataclass(frozen=True)
class MoneyRow:
    label: str  # a plan's name, or a day
    taken_fen: int
    refunded_fen: int
    payments: int = 0

    @property
    def net_fen(self) -> int:
        return self.taken_fen - self.refunded_fen


@dataclass(frozen=True)
class SeasonMoney:
    plans: list[MoneyRow]
    days: list[MoneyRow]  # oldest first; only days with money moving

    @property
    def total(self) -> MoneyRow:
        return MoneyRow(
            label="",
            taken_fen=sum(r.taken_fen for r in self.plans),
            refunded_fen=sum(r.refunded_fen for r in self.plans),
            payments=sum(r.payments for r in self.plans),
        )


def _local_day(column: str, conn, zone: ZoneInfo, at: datetime) -> str:
    """SQL for the local date of a timestamp column: PostgreSQL converts to the zone itself;
    SQLite (which keeps UTC text) shifts by the zone's offset, China's having no summer time."""
    if is_postgres(conn):
        return f"({column} AT TIME ZONE '{zone.key}')::date"
    offset = int(zone.utcoffset(at).total_seconds() // 60)  # type: ignore[union-attr]
    return f"date({column}, '{offset:+d} minutes')"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants of this module, never input


async def season_money(season: Season, *, timezone: str, names: dict[int, str]) -> SeasonMoney:
    """The season's money per plan (`names`: the plans' names by id, in the reader's language)
    and per day."""
    conn = connections.get("default")
    zone = ZoneInfo(timezone)
    paid_day = _local_day(
        "p.paid_at", conn, zone, datetime.combine(season.starts_on, datetime.min.time())
    )
    refund_day = _local_day(
        "r.created_at", conn, zone, datetime.combine(season.starts_on, datetime.min.time())
    )
    taken = await select(
        conn,
        f"SELECT s.plan_id, {paid_day} AS day, sum(p.amount_fen) AS fen, count(*) AS n "  # noqa: S608
        "FROM payments p JOIN subscriptions s ON s.id = p.subscription_id "
        f"WHERE s.season_id = $1 AND p.status IN ({_quoted(PAID)}) AND p.paid_at IS NOT NULL "
        "GROUP BY s.plan_id, day",
        [season.id],
    )
    returned = await select(
        conn,
        f"SELECT s.plan_id, {refund_day} AS day, sum(r.amount_fen) AS fen "  # noqa: S608
        "FROM refunds r JOIN payments p ON p.id = r.payment_id "
        "JOIN subscriptions s ON s.id = p.subscription_id "
        f"WHERE s.season_id = $1 AND r.status IN ({_quoted(RETURNED)}) "
        "GROUP BY s.plan_id, day",
        [season.id],
    )
    plans: dict[int, list[int]] = {pid: [0, 0, 0] for pid in names}
    days: dict[date, list[int]] = {}
    for row in taken:
        plans.setdefault(row["plan_id"], [0, 0, 0])
        plans[row["plan_id"]][0] += int(row["fen"])
        plans[row["plan_id"]][2] += int(row["n"])
        days.setdefault(_day(row["day"]), [0, 0])[0] += int(row["fen"])
    for row in returned:
        plans.setdefault(row["plan_id"], [0, 0, 0])
        plans[row["plan_id"]][1] += int(row["fen"])
        days.setdefault(_day(row["day"]), [0, 0])[1] += int(row["fen"])
    return SeasonMoney(
        plans=[
            MoneyRow(names.get(pid, f"#{pid}"), fen[0], fen[1], fen[2])
            for pid, fen in sorted(plans.items())
        ],
        days=[MoneyRow(d.isoformat(), fen[0], fen[1]) for d, fen in sorted(days.items())],
    )


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
