"""Writing a correction in the transaction of the change, and reading them back: a record's
history, and a cooperative's corrections a page at a time (all, or a season's)."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from farm.accounts.models import User
from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.paging import Page, paginate

PER_PAGE = 50


async def keep(
    conn: BaseDBAsyncClient,
    *,
    manager: User,
    kind: RecordKind,
    record_id: int,
    label: str,
    action: CorrectionAction,
    before: dict[str, str],
    after: dict[str, str],
    reason: str,
    day: date,
    now: datetime,
) -> Correction:
    """The audit row of one change, written with the change (same `conn`)."""
    assert manager.cooperative_id is not None
    return await Correction.create(
        cooperative_id=manager.cooperative_id, kind=kind, record_id=record_id, label=label,
        action=action, before=before, after=after, reason=reason, made_by_id=manager.id,
        made_at=now, day=day, using_db=conn,
    )  # fmt: skip


async def history(*, cooperative_id: int, kind: RecordKind, record_id: int) -> list[Correction]:
    """A record's corrections, oldest first, with who made them."""
    return list(
        await Correction.filter(cooperative_id=cooperative_id, kind=kind, record_id=record_id)
        .order_by("made_at", "id")
        .prefetch_related("made_by")
    )


async def page(
    *,
    cooperative_id: int,
    page: int,
    since: date | None = None,
    until_exclusive: date | None = None,
    kind: str = "",
) -> Page[Correction]:
    """The cooperative's corrections, newest first; of the records whose day falls in
    [since, until_exclusive) when given (a season), of one kind when given."""
    query = Correction.filter(cooperative_id=cooperative_id)
    if since is not None:
        query = query.filter(day__gte=since)
    if until_exclusive is not None:
        query = query.filter(day__lt=until_exclusive)
    if kind in set(RecordKind):
        query = query.filter(kind=kind)
    return await paginate(
        query,
        page=page,
        size=PER_PAGE,
        order_by=("-made_at", "-id"),
        fetch=lambda q: q.prefetch_related("made_by"),
    )
