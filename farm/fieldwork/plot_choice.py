"""Choosing plots in the farm log's forms by typing their codes: the suggestions a plot box
shows while a code is typed, and the ids of the codes typed (lists and ranges). Never every
plot of a cooperative in one query or one page."""

from __future__ import annotations

from dataclasses import dataclass

from farm.accounts.models import User
from farm.land.models import Plot

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class PlotMatch:
    id: int
    code: str
    field_id: int
    field: str


async def search_plots(
    *, manager: User, text: str, field_id: int | None = None, limit: int = SEARCH_LIMIT
) -> list[PlotMatch]:
    """The cooperative's plots whose code starts with `text` (any case), of one field if
    given, in code order: what a plot box suggests while a manager types. Never every plot."""
    text = text.strip()
    if not text or len(text) > 20:
        return []
    query = Plot.filter(field__cooperative_id=manager.cooperative_id, code__istartswith=text)
    if field_id is not None:
        query = query.filter(field_id=field_id)
    rows = (
        await query.order_by("code", "field_id")
        .limit(limit)
        .values("id", "code", "field_id", "field__name")
    )
    return [PlotMatch(r["id"], r["code"], r["field_id"], r["field__name"]) for r in rows]


async def plot_ids_by_code(*, field_id: int, codes: list[str]) -> tuple[list[int], list[str]]:
    """The ids of a field's plots with these codes (as typed, else in capitals: 'a01' finds
    A01), and the codes it has no plot of. At most MAX_CODES_PER_ENTRY codes, asked 500 at a
    time, so a query's parameters stay few."""
    found: dict[str, int] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        wanted = list(dict.fromkeys([*chunk, *(c.upper() for c in chunk)]))
        found.update(
            await Plot.filter(field_id=field_id, code__in=wanted).values_list("code", "id")
        )
    ids = {c: found.get(c) or found.get(c.upper()) for c in codes}
    return [i for i in ids.values() if i], [c for c, i in ids.items() if not i]
