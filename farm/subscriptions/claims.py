"""The SQL of a flash sale: free plots picked in the database, and the reservation in one
statement.

A reservation is a few statements, none of them a count or a lock on the plan: the claim's
unique indexes refuse a second hold on a plot (season, plot) and a second unpaid reservation
of a customer (season, customer, unpaid only), and taking one of the plan's places
(farm/land/places.py: 16 rows, each with its share of max_plots) refuses a place past the
plan's `max_plots`. A lapsed claim keeps its place until it is released, so when a plan looks
full its lapsed claims are released before a buyer is told no.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery

from farm.accounts.counters import Counted, Limit
from farm.land import places
from farm.land.models import Plot, PlotClaim
from farm.sql import is_postgres

# A per-process hint of where a plan's plots lie (first and last id), so thousands of buyers
# letting the service pick start at different plots instead of queueing for the first free one.
# Only a starting point: the search wraps around, so a stale hint never hides a free plot.
# Lock order, everywhere a claim is made: the plot when it is picked (SKIP LOCKED, never
# waits), then one of the plan's place rows, then the claim's unique indexes and foreign-key
# checks (farm/land/places.py says who else locks what).
_id_ranges: dict[tuple[int, Decimal], tuple[int, int]] = {}
_plan_ranges: dict[int, tuple[int, int]] = {}

_PICK_PG = """
SELECT p.id FROM plots p
WHERE p.field_id = $1 AND p.area_m2 = $2 AND p.id >= $4
  AND NOT EXISTS (SELECT 1 FROM plot_claims c WHERE c.season_id = $3 AND c.plot_id = p.id)
ORDER BY p.id LIMIT 1
FOR NO KEY UPDATE OF p SKIP LOCKED
"""


async def pick_free_plot(
    conn: BaseDBAsyncClient, *, season_id: int, field_id: int, area_m2: Decimal
) -> int | None:
    """A plot of this field and size that nobody holds in the season, locked for the caller's
    transaction on PostgreSQL (SKIP LOCKED: concurrent pickers pass each other's choice by),
    searching from a random plot onwards and then from the start. NO KEY UPDATE: the lock
    does not stop others' foreign-key checks on the plot (a buyer choosing it by hand), so it
    cannot deadlock with them; the unique (season, plot) index decides between the two."""
    if not is_postgres(conn):  # one writer at a time: the first free plot will do
        return await _first_free(
            conn, season_id=season_id, field_id=field_id, area_m2=area_m2, from_id=0
        )
    key = (field_id, area_m2)
    if key not in _id_ranges:
        rows = await conn.execute_query_dict(
            "SELECT min(id) AS lo, max(id) AS hi FROM plots WHERE field_id = $1 AND area_m2 = $2",
            [field_id, area_m2],
        )
        if rows[0]["lo"] is None:
            return None
        _id_ranges[key] = (rows[0]["lo"], rows[0]["hi"])
    lo, hi = _id_ranges[key]
    start = random.randint(lo, hi)  # noqa: S311  (spreading buyers, not a secret)
    for from_id in (start, 0):
        plot_id = await _first_free(
            conn, season_id=season_id, field_id=field_id, area_m2=area_m2, from_id=from_id
        )
        if plot_id is not None:
            return plot_id
    return None


async def _first_free(
    conn: BaseDBAsyncClient, *, season_id: int, field_id: int, area_m2: Decimal, from_id: int
) -> int | None:
    if is_postgres(conn):
        rows = await conn.execute_query_dict(_PICK_PG, [field_id, area_m2, season_id, from_id])
        return rows[0]["id"] if rows else None
    # SQLite has one writer at a time and no row locks: the first free plot, and the unique
    # (season, plot) index decides if another writer got there first.
    taken = Subquery(PlotClaim.filter(season_id=season_id).values("plot_id"))
    plot = (
        await Plot.filter(field_id=field_id, area_m2=area_m2, id__gte=from_id)
        .exclude(id__in=taken)
        .using_db(conn)
        .order_by("id")
        .first()
        .only("id")
    )
    return plot.id if plot else None


async def claims_in_the_way(
    conn: BaseDBAsyncClient, *, season_id: int, plot_id: int, customer_id: int
) -> list[PlotClaim]:
    """What refused a new claim: the plot's claim, and the customer's unpaid one."""
    return list(await PlotClaim.filter(season_id=season_id, plot_id=plot_id).using_db(conn)) + list(
        await PlotClaim.filter(
            season_id=season_id, customer_id=customer_id, expires_at__isnull=False
        ).using_db(conn)
    )


def lapsed(claim: PlotClaim, now: datetime) -> bool:
    return claim.expires_at is not None and claim.expires_at <= now


# The whole reservation in one statement on PostgreSQL (one round trip, one implicit
# transaction): check the buyer (the customer asked for, or else the user of the open session
# whose token hash is given: a session ended by logging out, a password change or a
# deactivation reserves nothing), find the plot (the one asked for, if this plan offers it;
# else a free one from a random start, SKIP LOCKED), take a place in the plan (only if a plot
# was found and the plan is on sale: one of its place rows with room, a row no other buyer is
# updating if there is one, from shard $16 on, as farm.land.places.take_place does; a row that
# filled up while this one waited for it answers nothing, and the caller takes the explaining
# path), then insert the subscription and its claim
# from what came before. Any unique index refusing the claim undoes it all. No row back means:
# not this buyer, not on sale, not offered, or full; the caller finds out which, off the fast
# path.
#
# The reservation commits without waiting for its WAL to reach the disk (synchronous_commit
# off for this transaction only). A row lock is held until commit, and a plan's buyers share
# its 16 place rows: waiting for the flush made them queue one disk flush apart.
# What this risks is the last fraction of a second of reservations if the database server
# crashes (never a half-made one): the buyer's checkout is then gone and they reserve again.
# Nothing durable can point at a lost reservation: WAL is written in order, so the first
# synchronous commit after it (the checkout's payment attempt, a webhook) flushes it too.
#
# With a limit of reservations per client address ($15 > 0), the statement counts the
# address itself, as farm.accounts.counters.count would (the same upsert on the same row, so
# concurrent requests from one address queue on its lock), but only while the count is under
# the limit, and only for a buyer: at the limit nothing is counted or reserved, and the caller
# takes the explaining path, which refuses. One round trip and one commit fewer than counting
# first; a count whose reservation failed is taken back by the caller (`counted` says so). The
# statement always answers one row: `id` is NULL when nothing was reserved.
_RESERVE_PG = """
WITH buyer AS (
    SELECT u.id, left(u.name, $5) AS sign_name FROM users u
    WHERE u.id = coalesce($4::int, (
          SELECT s.user_id FROM sessions s
          WHERE s.token_hash = $9::text AND s.ended_at IS NULL AND s.expires_at > $6
      ))
      AND u.role = 'customer' AND u.is_active
      AND (u.email_confirmed_at IS NOT NULL OR NOT $10::bool)  -- hoarding: confirmed first
      AND set_config('synchronous_commit', 'off', true) = 'off'  -- see above
), counted AS (
    INSERT INTO window_counts (kind, key, window_start, count)
    SELECT $12::text, $13::text, $14::timestamptz, 1 FROM buyer WHERE $15::int > 0
    ON CONFLICT (kind, key, window_start)
    DO UPDATE SET count = window_counts.count + 1 WHERE window_counts.count < $15::int
    RETURNING count
), offer AS (
    SELECT pl.id, pl.season_id, pl.field_id, pl.plot_area_m2, pl.price_fen
    FROM plans pl JOIN seasons s ON s.id = pl.season_id
    WHERE pl.id = $1 AND s.sale_starts_on <= $2 AND s.sale_ends_on > $2
      AND pl.published  -- a draft takes no reservation
      AND EXISTS (SELECT 1 FROM buyer)
      AND ($15::int = 0 OR EXISTS (SELECT 1 FROM counted))  -- under the address's limit
      AND EXISTS (  -- a full plan answers at once, before any plot is searched
          SELECT 1 FROM plan_places s WHERE s.plan_id = pl.id AND {room}
      )
      AND (  -- the family's own plots of this plan stay within what it allows
          SELECT count(*) FROM subscriptions x
          WHERE x.customer_id = (SELECT id FROM buyer) AND x.plan_id = pl.id
            AND x.status = 'active'
      ) < pl.max_plots_per_customer
), chosen AS (
    SELECT p.id FROM plots p, offer o
    WHERE {chosen} AND p.id = $3 AND p.field_id = o.field_id
      AND p.area_m2 = o.plot_area_m2
      AND NOT EXISTS (  -- not a plot this buyer let lapse a moment ago
          SELECT 1 FROM subscriptions x
          WHERE x.customer_id = (SELECT id FROM buyer) AND x.plot_id = p.id
            AND x.season_id = o.season_id AND x.cancel_reason = 'lapsed'
            AND x.cancelled_at > $11
      )
    -- The lock the claim's foreign key takes anyway, taken here: a plot being corrected
    -- (FOR UPDATE, farm/fieldwork/plot_corrections.py) is waited for and read again, so a
    -- plot whose size changed meanwhile is not taken at the plan's size.
    FOR KEY SHARE OF p
), picked AS (
    SELECT p.id FROM plots p, offer o
    WHERE {picked} AND p.field_id = o.field_id AND p.area_m2 = o.plot_area_m2
      AND {where_candidates}
      AND NOT EXISTS (
          SELECT 1 FROM plot_claims c WHERE c.season_id = o.season_id AND c.plot_id = p.id
      )
    {order} LIMIT 1
    FOR NO KEY UPDATE OF p SKIP LOCKED
), plot AS (
    SELECT id FROM chosen UNION ALL SELECT id FROM picked
), place_free AS (
    SELECT s.id FROM plan_places s, offer pl
    WHERE s.plan_id = pl.id AND {room} AND EXISTS (SELECT 1 FROM plot)
    ORDER BY (s.shard + $16) % 16 LIMIT 1
    FOR NO KEY UPDATE OF s SKIP LOCKED
), place_wait AS (  -- every row with room is being updated: the one to wait for, unlocked
    SELECT s.id FROM plan_places s, offer pl
    WHERE s.plan_id = pl.id AND {room} AND EXISTS (SELECT 1 FROM plot)
      AND NOT EXISTS (SELECT 1 FROM place_free)
    ORDER BY (s.shard + $16) % 16 LIMIT 1
), place AS (  -- waits for that one row alone, and takes it only if it still has room
    UPDATE plan_places s SET held = s.held + 1 FROM offer pl
    WHERE s.id = (SELECT id FROM place_free UNION ALL SELECT id FROM place_wait)
      AND pl.id = s.plan_id AND {room}
    RETURNING s.plan_id
), sub AS (
    INSERT INTO subscriptions (
        customer_id, season_id, plan_id, plot_id, status, price_fen, sign_name, reserved_at,
        cancel_reason, refunded_fen, recipient, phone, province, city, address
    )
    SELECT buyer.id, offer.season_id, offer.id, plot.id, 'pending_payment', offer.price_fen,
           buyer.sign_name, $6, '', 0, '', '', '', '', ''
    FROM place, offer, plot, buyer
    RETURNING id, customer_id, season_id, plan_id, plot_id, price_fen, sign_name
), claim AS (
    INSERT INTO plot_claims (season_id, plot_id, plan_id, customer_id, subscription_id, expires_at)
    SELECT sub.season_id, sub.plot_id, sub.plan_id, sub.customer_id, sub.id, $7 FROM sub
    RETURNING subscription_id, season_id, plan_id, plot_id
)
SELECT claim.subscription_id AS id, claim.season_id, claim.plan_id, claim.plot_id,
       (SELECT price_fen FROM sub) AS price_fen, (SELECT sign_name FROM sub) AS sign_name,
       EXISTS (SELECT 1 FROM counted) AS counted
FROM (VALUES (1)) AS one (x) LEFT JOIN claim ON true
"""
# Three statements, each with the way of finding the plot it does not take switched off by a
# constant (the planner drops it, parameters and all): with both ways behind parameters, the
# plan PostgreSQL would keep for the prepared statement costed both, so it planned every
# execution afresh instead (a millisecond, twice the statement's own work).
# The plot asked for.
_RESERVE_CHOSEN = _RESERVE_PG.format(
    chosen="true", picked="false", where_candidates="p.id = ANY($8::int[])", order="",
    room=places.ROOM,
)  # fmt: skip
# First among a few random plots of the plan (a handful of index probes, whatever has been
# sold, and thousands of pickers rarely want the same plot), then, if all of those are taken,
# the first free plot in order.
_RESERVE_SAMPLED = _RESERVE_PG.format(
    chosen="false", picked="true", where_candidates="p.id = ANY($8::int[])", order="",
    room=places.ROOM,
)  # fmt: skip
_RESERVE_FIRST_FREE = _RESERVE_PG.format(
    chosen="false", picked="true", where_candidates="p.id >= coalesce(($8::int[])[1], 0)",
    order="ORDER BY p.id", room=places.ROOM,
)  # fmt: skip
PICK_SAMPLE = 24


async def reserve_in_one_statement(
    conn: BaseDBAsyncClient,
    *,
    plan_id: int,
    plot_id: int | None,
    customer_id: int | None,
    session_hash: str | None,
    require_confirmed: bool,
    relapse_since: datetime,
    sign_name_max: int,
    today: date,
    now: datetime,
    expires_at: datetime,
    candidates: list[int],
    from_id: int | None = None,
    limit: Limit | None = None,
) -> dict:
    """PostgreSQL only. The new subscription's columns (`id` None when nothing was reserved)
    and whether the address's `limit` counted this one (`counted`; raises IntegrityError,
    with nothing counted, when a unique index refused the claim). The buyer is the active
    customer `customer_id`, or with None the user of the open session whose token hashes to
    `session_hash` (farm.accounts.sessions); with `require_confirmed`, one whose email is
    confirmed. A plot asked for that the buyer's hold lapsed on after `relapse_since` is not
    taken.
    Picking (no plot_id), a free plot among `candidates`, or with none given the first free
    plot from `from_id` on (from the start without it)."""
    if plot_id is not None:
        sql = _RESERVE_CHOSEN
    else:
        sql = _RESERVE_SAMPLED if candidates else _RESERVE_FIRST_FREE
        if not candidates and from_id is not None:
            candidates = [from_id]  # $8[1]: where the first-free search starts
    counted = limit.counted if limit else Counted("", "", now)
    free = limit.free if limit else 0
    # The driver's connection itself (a prepared statement, one row back): on the hot path
    # the ORM's wrapping of each query cost a noticeable share of a worker's time.
    async with conn.acquire_connection() as driver:
        try:
            row = await driver.fetchrow(
                sql, plan_id, today, plot_id, customer_id, sign_name_max, now, expires_at,
                candidates, session_hash, require_confirmed, relapse_since,
                counted.kind, counted.key, counted.window_start, free,
                random.randrange(places.SHARDS),  # noqa: S311  (spreading buyers)
            )  # fmt: skip
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(exc) from exc
        except asyncpg.DeadlockDetectedError:
            # A place row the statement locked with SKIP LOCKED and then found full stays
            # locked to its end, while it waits for another: rarely, two such statements
            # wait for each other and PostgreSQL undoes one. Nothing was reserved or counted:
            # the caller's explaining path tries again, its waits in savepoints.
            return {"id": None, "counted": False}
    return dict(row)


def pick_start(plan_id: int) -> int | None:
    """A random plot id in the plan's range to start a first-free search at, if this process
    knows its plots: a search from the start scans every plot sold before the first free one,
    thousands near the end of a sale (the caller searches from the start if this finds none)."""
    bounds = _plan_ranges.get(plan_id)
    return random.randint(*bounds) if bounds else None  # noqa: S311


def pick_candidates(plan_id: int) -> list[int] | None:
    """A few random plot ids in the plan's range, if this process knows its plots (a stale
    range only makes the sample miss: the first-free search still finds every plot)."""
    bounds = _plan_ranges.get(plan_id)
    if bounds is None:
        return None
    lo, hi = bounds
    return random.choices(range(lo, hi + 1), k=PICK_SAMPLE)  # noqa: S311


async def learn_plot_ids(conn: BaseDBAsyncClient, plan_id: int) -> None:
    rows = await conn.execute_query_dict(
        "SELECT min(p.id) AS lo, max(p.id) AS hi FROM plots p JOIN plans pl "
        "ON p.field_id = pl.field_id AND p.area_m2 = pl.plot_area_m2 WHERE pl.id = $1",
        [plan_id],
    )
    if rows[0]["lo"] is not None:
        _plan_ranges[plan_id] = (rows[0]["lo"], rows[0]["hi"])
