"""A plan's places: how many claims it may hold (max_plots), counted in 16 rows.

`plan_places` has 16 rows per plan. Row s may hold its `cap`, (max_plots + 15 - s) // 16, so
the caps add up to max_plots whatever it is, and a count shared out the same way
((n + 15 - s) // 16) fits exactly when n <= max_plots. Database triggers (migration 0042)
add the rows with the plan and, when its max_plots changes, set the caps again and share the
places held out anew, the rows locked in shard order: whoever changes a plan, no row keeps
room the plan no longer has.

Whoever creates a claim takes a place in the same transaction (`take_place`), whoever deletes
one gives it back (`give_back`). A lapsed claim keeps its place until it is released.

Why 16 rows and not one counter: every buyer of a plan updates the row that counts it, and a
row stays locked until its transaction commits, so with one counter a flash sale's buyers
queued for it one commit apart. A buyer takes a place in a row nobody else is updating (SKIP
LOCKED) and waits only when every row with room is busy, and then for exactly one row.

Lock order. A reservation: the plot (one it picks, SKIP LOCKED, never waits; the one asked
for, FOR KEY SHARE, which waits only for a correction of that plot), then one place row, then
the claim's unique indexes and its foreign-key checks (KEY SHARE on the plan, season, plot and
customer: whoever locks a plan row while waiting for its places takes FOR NO KEY UPDATE, which
those checks pass). A release: its subscription (a releaser of lapsed reservations skips one
that someone else holds: a payment landing), then one place row holding a place, then the
claim's delete. Whoever needs several place rows of a plan locks all 16 in shard order first
(`lock_all`), before it deletes a claim, so nobody waits for anybody in a circle.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient

from farm.sql import is_postgres, portable

SHARDS = 16

# The room in a place row, as SQL (its alias is the caller's `s`).
ROOM = "s.held < s.cap"

# Free first (a row no other transaction is updating), else wait for one. A wait waits for
# exactly one row, chosen unlocked: a locking search with LIMIT that finds its first row full
# after the wait keeps that row locked and goes on to wait for the next, so two such searches
# could each hold the row the other waits for. The wait re-checks the row (and its cap) as the
# other's commit left it, so a row that filled up meanwhile answers nothing: `take_place` then
# looks again.
_ROOMY = f"""
    SELECT s.id FROM plan_places s WHERE s.plan_id = $1 AND {ROOM}
    ORDER BY (s.shard + $2) % 16 LIMIT 1"""  # noqa: S608  (constants only)
_TAKE_FREE = f"""
UPDATE plan_places SET held = held + 1
WHERE id = ({_ROOMY} FOR NO KEY UPDATE OF s SKIP LOCKED)"""  # noqa: S608
_TAKE_WAIT = f"""
UPDATE plan_places s SET held = s.held + 1 WHERE s.id = ({_ROOMY}) AND {ROOM}"""  # noqa: S608
_TAKE_SQLITE = f"""
UPDATE plan_places SET held = held + 1 WHERE id = ({_ROOMY})"""  # noqa: S608

# A row over its cap first (claims counted by hand past max_plots): giving a place back there
# opens no room the plan does not have.
_HOLDING = """
    SELECT id FROM plan_places WHERE plan_id = $1 AND held > 0
    ORDER BY held > cap DESC, (shard + $2) % 16 LIMIT 1"""
_GIVE_FREE = _HOLDING + " FOR NO KEY UPDATE SKIP LOCKED"
_GIVE_WAIT = f"""
SELECT id FROM plan_places WHERE id = ({_HOLDING}) AND held > 0
FOR NO KEY UPDATE"""  # noqa: S608
_GIVE_UNLOCKED = _HOLDING

# A wait that found its row full (or emptied) looks again, at most once per row.
_LOOKS = SHARDS


def _start() -> int:
    return random.randrange(SHARDS)  # noqa: S311  (spreading buyers, not a secret)


async def _first(conn: BaseDBAsyncClient, sql: str, values: list) -> int | None:
    rows = await conn.execute_query_dict(portable(conn, sql), values)
    return rows[0]["id"] if rows else None


async def _took(conn: BaseDBAsyncClient, sql: str, values: list) -> bool:
    count, _rows = await conn.execute_query(portable(conn, sql), values)
    return count == 1


async def _look(conn: BaseDBAsyncClient, run: Callable, free: str, wait: str, values: list):  # noqa: ANN202
    """`run(conn, free, values)`, else `run(conn, wait, values)`, in a savepoint rolled back
    when neither answers: a row that either locked and then found full (or empty) by then
    stays locked to the end of the transaction unless the savepoint that locked it is undone,
    and a transaction that looked again while still holding it could hold what another
    waits for while waiting for what that one holds."""
    await conn.execute_query("SAVEPOINT place_look")
    answer = await run(conn, free, values) or await run(conn, wait, values)
    await conn.execute_query(
        "RELEASE SAVEPOINT place_look" if answer else "ROLLBACK TO SAVEPOINT place_look"
    )
    return answer


async def take_place(conn: BaseDBAsyncClient, plan_id: int) -> bool:
    """Count one more claim on the plan, unless that would pass max_plots. The place's row
    stays locked until the caller commits: take it before inserting the claim."""
    start = _start()
    if not is_postgres(conn):  # one writer at a time
        return await _took(conn, _TAKE_SQLITE, [plan_id, start])
    for _attempt in range(_LOOKS):
        if await _look(conn, _took, _TAKE_FREE, _TAKE_WAIT, [plan_id, start]):
            return True
        if not await has_room(conn, plan_id):
            return False
    return False


async def give_back(
    conn: BaseDBAsyncClient, plan_id: int, delete: Callable[[], Awaitable[int]]
) -> int:
    """Delete one claim of the plan with `delete`, which says whether it went (0 or 1), and
    give its place back. The place row is locked before the delete (the lock order above);
    with no place held (a count set by hand), the delete still runs."""
    place = await _place_to_give_back(conn, plan_id)
    gone = await delete()
    if gone > 1:
        raise ValueError("give_back deletes one claim: lock_all and recount for more")
    if gone and place is not None:
        await conn.execute_query(
            portable(conn, "UPDATE plan_places SET held = held - 1 WHERE id = $1 AND held > 0"),
            [place],
        )
    return gone


async def _place_to_give_back(conn: BaseDBAsyncClient, plan_id: int) -> int | None:
    """A place row of the plan holding a place, locked: one no reservation is updating if
    there is one, else wait for one (and look again if it was emptied meanwhile)."""
    start = _start()
    if not is_postgres(conn):
        return await _first(conn, _GIVE_UNLOCKED, [plan_id, start])
    for _attempt in range(_LOOKS):
        place = await _look(conn, _first, _GIVE_FREE, _GIVE_WAIT, [plan_id, start])
        if place is not None:
            return place
        if not await _first(conn, _GIVE_UNLOCKED, [plan_id, start]):
            return None  # nothing held (a count set by hand): nothing to give back
    return None


async def has_room(conn: BaseDBAsyncClient, plan_id: int) -> bool:
    """Whether the plan can take one more claim now (lapsed claims still count)."""
    rows = await conn.execute_query_dict(
        portable(conn, f"SELECT 1 FROM plan_places s WHERE s.plan_id = $1 AND {ROOM} LIMIT 1"),  # noqa: S608
        [plan_id],
    )
    return bool(rows)


async def held(conn: BaseDBAsyncClient, plan_ids: Sequence[int]) -> dict[int, int]:
    """The claims counted for each of these plans (a few plans: one parameter each)."""
    if not plan_ids:
        return {}
    marks = ", ".join(f"${n}" for n in range(1, len(plan_ids) + 1))
    rows = await conn.execute_query_dict(
        portable(
            conn,
            f"SELECT plan_id, SUM(held) AS n FROM plan_places "  # noqa: S608
            f"WHERE plan_id IN ({marks}) GROUP BY plan_id",
        ),
        list(plan_ids),
    )
    return {plan_id: 0 for plan_id in plan_ids} | {r["plan_id"]: int(r["n"]) for r in rows}


async def area_held(conn: BaseDBAsyncClient, *, field_id: int, season_id: int) -> Decimal:
    """The land held on a field this season, m²: each of its plans' plot area times the places
    it holds, in one grouped read (a small table; the field's claims would be read whole)."""
    rows = await conn.execute_query_dict(
        portable(
            conn,
            "SELECT pl.plot_area_m2 AS area, SUM(s.held) AS n FROM plans pl "
            "JOIN plan_places s ON s.plan_id = pl.id WHERE pl.field_id = $1 AND pl.season_id = $2 "
            "GROUP BY pl.id, pl.plot_area_m2",
        ),
        [field_id, season_id],
    )
    return sum((Decimal(str(r["area"])) * int(r["n"]) for r in rows), Decimal(0))


async def lock_all(conn: BaseDBAsyncClient, plan_id: int) -> None:
    """Every place row of the plan locked, in shard order (so two such callers never wait for
    each other in a circle), before a transaction that takes or gives back more than one
    place or counts them again."""
    if is_postgres(conn):
        await conn.execute_query(
            "SELECT id FROM plan_places WHERE plan_id = $1 ORDER BY shard FOR NO KEY UPDATE",
            [plan_id],
        )


async def recount(conn: BaseDBAsyncClient, plan_id: int) -> None:
    """Set the plan's places from its claims themselves (after lapsed ones were released, or
    when claims were written by hand), shared out over the rows as the caps are. Locks all 16
    rows, in shard order: a caller that deletes claims first must `lock_all` before that."""
    await lock_all(conn, plan_id)
    await conn.execute_query(
        portable(
            conn,
            "UPDATE plan_places SET held = ((SELECT count(*) FROM plot_claims WHERE plan_id = $1)"
            " + 15 - shard) / 16 WHERE plan_id = $2",
        ),
        [plan_id, plan_id],
    )
