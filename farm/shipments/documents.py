"""A ship day's packing lists and labels, made in the background by the scheduler.

A batch's paper is split into parts a printer and a person can handle: per field, and within
a field per at most PART_BOXES boxes (by plot code), each a packing list and its labels, plus
one summary for the batch (what to pick per crop, the fields, what was diverted). 1,000
boxes make about 230 A4 pages of packing list (a printer tray of 250 sheets) and 1,000 labels
of under 1 MB: what one packing table gets through in a shift, and a file any printer spools.

- Planned when a field's run is done (the unique (batch, slot) row plans it once), so a
  field's paper is made while the rest of the batch is still being made; the summary when
  the batch is complete.
- Claimed one part at a time by a conditional update with a lease, so several schedulers
  share the parts and never make one twice at once; a scheduler killed mid-part leaves it
  claimed until the lease runs out, then it is made again. Done parts are never redone.
- Made from at most PART_BOXES boxes read by shipment id (one query on PostgreSQL, a few
  hundred at a time elsewhere), once for a part's packing list and its labels, and written
  page by page to a temporary file, then put into the storage (farm/storage.py: the data
  folder or a bucket) and the temporary file removed: memory does not grow with the batch.
- Drawn in a pool of worker processes (both cores) while this process reads the next part.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import tempfile
import time as clock
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from anyio import to_thread
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from farm import i18n
from farm.accounts.models import User
from farm.errors import NotFound
from farm.i18n import _
from farm.land.models import Cooperative, Field
from farm.paging import Page, clamp_page, page_count
from farm.shipments.console import diverted_grams, diverted_on, own_batch
from farm.shipments.documents_draw import FieldLine, PartJob, draw_part, watch_parent
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    DocumentKind,
    DocumentPart,
    DocumentStatus,
    FieldRun,
    Shipment,
    ShipmentStatus,
)
from farm.shipments.packing import (
    READ_BOXES,
    boxes_of,
    cooperative_name,
    crop_names,
    sorted_diversions,
)
from farm.shipments.packing_pdf import Box
from farm.shipments.rules import masked_phone
from farm.sql import is_postgres
from farm.storage import Storage, StorageUnavailable, Stored
from farm.subscriptions.models import Subscription

log = logging.getLogger("farm.documents")

PART_BOXES = 1000  # boxes a part at most (see the module's docstring)
LEASE = timedelta(minutes=5)  # a claimed part is another scheduler's for this long
RECENT = timedelta(days=31)  # ship days whose paper is made without being asked
FOLDER = "documents"
PARTS_PER_PAGE = 50


def split(boxes: int, most: int | None = None) -> list[tuple[int, int]]:
    """(first box, boxes) of each part: as few parts as hold at most `most` boxes, evenly
    sized (4,650 boxes: five parts of 930, rather than four of 1,000 and one of 650)."""
    most = most or PART_BOXES
    parts = max(1, -(-boxes // most))
    size, extra = divmod(boxes, parts)
    out, first = [], 0
    for k in range(parts):
        n = size + (1 if k < extra else 0)
        out.append((first, n))
        first += n
    return out


_FIELD_BOXES_SQL = (
    "SELECT p.code, s.id FROM plots p JOIN subscriptions sub ON sub.plot_id = p.id"
    " JOIN shipments s ON s.subscription_id = sub.id AND s.ship_on = $2"
    " WHERE p.field_id = $1 AND s.batch_id = $3 AND s.status <> 'empty'"
)


async def field_box_ids(batch: Batch, field_id: int) -> list[int]:
    """The field's boxes with something in them, in packing order (by plot code). Read
    from the field's plots down, by the indexes the batch itself uses, so a part costs its
    field and not the whole batch (a join from the batch's shipments grows with the batch):
    on PostgreSQL one query, elsewhere the shipments a few hundred subscriptions at a time."""
    conn = connections.get("default")
    found: list[tuple[str, int]] = []
    if is_postgres(conn):
        params = [field_id, batch.ship_on, batch.id]
        found = [tuple(row) for row in (await conn.execute_query(_FIELD_BOXES_SQL, params))[1]]
        return [box for _code, box in sorted(found)]
    subs = await Subscription.filter(plot__field_id=field_id).values_list("id", "plot__code")
    code = dict(subs)
    ids = list(code)
    for start in range(0, len(ids), READ_BOXES):  # on the unique (subscription, ship_on)
        rows = (
            await Shipment.filter(
                ship_on=batch.ship_on, subscription_id__in=ids[start : start + READ_BOXES]
            )
            .filter(batch_id=batch.id, status__not=ShipmentStatus.EMPTY)
            .values_list("id", "subscription_id")
        )
        found.extend((code[sub], box) for box, sub in rows)
    return [box for _code, box in sorted(found)]


# ---- planning ----


async def plan_field(*, batch: Batch, field_id: int, now: datetime) -> int:
    """The parts of one field of a batch, once: returns how many were planned (0 when
    another scheduler planned them first)."""
    boxes = len(await field_box_ids(batch, field_id))
    rows = []
    parts = split(boxes)
    of = len(parts)
    for seq, (first, n) in enumerate(parts, start=1):
        kinds = [DocumentKind.PACKING] + ([DocumentKind.LABELS] if n else [])
        for kind in kinds:
            rows.append(
                DocumentPart(
                    batch_id=batch.id, field_id=field_id, kind=kind, seq=seq, of_parts=of,
                    slot=f"f{field_id}-p{seq}-{kind}", first_box=first, boxes=n, created_at=now,
                )
            )  # fmt: skip
    try:
        async with in_transaction() as conn:
            await DocumentPart.bulk_create(rows, using_db=conn)
    except IntegrityError:
        return 0
    return len(rows)


async def _plan_summary(batch_id: int, now: datetime) -> int:
    try:
        await DocumentPart.create(
            batch_id=batch_id, kind=DocumentKind.SUMMARY, slot="summary", created_at=now
        )
    except IntegrityError:  # planned by another scheduler a moment ago
        return 0
    return 1


async def plan_due(*, today: date, now: datetime) -> int:
    """Plan the parts of every recent field run that has none, and the summary of every
    complete recent batch that has none."""
    since = today - RECENT
    runs = await FieldRun.filter(ship_on__gte=since).values_list("batch_id", "field_id")
    planned = set(
        await DocumentPart.filter(batch__ship_on__gte=since, field_id__isnull=False)
        .distinct()
        .values_list("batch_id", "field_id")
    )
    made = 0
    batches: dict[int, Batch] = {}
    for batch_id, field_id in sorted(set(runs) - planned):
        if batch_id not in batches:
            batches[batch_id] = await Batch.get(id=batch_id)
        made += await plan_field(batch=batches[batch_id], field_id=field_id, now=now)
    summed = set(
        await DocumentPart.filter(batch__ship_on__gte=since, kind=DocumentKind.SUMMARY).values_list(
            "batch_id", flat=True
        )
    )
    complete = Batch.filter(ship_on__gte=since, completed_at__isnull=False)
    for batch_id in await complete.values_list("id", flat=True):
        if batch_id not in summed:
            made += await _plan_summary(batch_id, now)
    return made


async def plan_batch(*, batch: Batch, now: datetime) -> int:
    """Plan every part of one batch that is not planned, whatever its ship day."""
    planned = set(await DocumentPart.filter(batch_id=batch.id).values_list("field_id", flat=True))
    made = 0
    for field_id in await FieldRun.filter(batch_id=batch.id).values_list("field_id", flat=True):
        if field_id not in planned:
            made += await plan_field(batch=batch, field_id=field_id, now=now)
    if batch.completed_at is not None and None not in planned:
        made += await _plan_summary(batch.id, now)
    return made


# ---- claiming and making ----


def _free(now: datetime) -> Q:
    return Q(status=DocumentStatus.PENDING) | Q(status=DocumentStatus.MAKING, claimed_until__lt=now)


async def claim_next(*, now: datetime, token: str) -> DocumentPart | None:
    """Take the lease on the next part nobody is making: a conditional update, so of two
    schedulers asking at once one gets it."""
    for part_id in (
        await DocumentPart.filter(_free(now)).order_by("id").limit(20).values_list("id", flat=True)
    ):
        taken = await DocumentPart.filter(_free(now), id=part_id).update(
            status=DocumentStatus.MAKING, claim=token, claimed_until=now + LEASE
        )
        if taken:
            return await DocumentPart.get(id=part_id)
    return None


@dataclass(frozen=True)
class Paper:
    """What every part needs besides its rows."""

    storage: Storage  # where the made parts are kept
    secret: str
    base_url: str
    language: str
    timezone: str


class _Known:
    """What the parts of one run share, read once: per batch its row, names and the
    diversions of each field; the box ids of the last few fields read (their parts follow
    each other, a packing list and its labels)."""

    def __init__(self) -> None:
        self.batches: dict[int, tuple[Batch, dict[int, str], str]] = {}
        self.masked: dict[int, bool] = {}  # per cooperative: its labels hide phones' middles
        self.diverted: dict[int, dict[int, list[tuple[str, int, int]]]] = {}
        self.fields: dict[tuple[int, int], list[int]] = {}
        self.slices: dict[tuple[int, int, int, int], asyncio.Future[list[Box]]] = {}

    async def batch(self, batch_id: int) -> tuple[Batch, dict[int, str], str]:
        if batch_id not in self.batches:
            batch = await Batch.get(id=batch_id)
            crops = await crop_names(batch.cooperative_id)
            self.batches[batch_id] = (batch, crops, await cooperative_name(batch.cooperative_id))
        return self.batches[batch_id]

    async def masks_phone(self, cooperative_id: int) -> bool:
        if cooperative_id not in self.masked:
            self.masked[cooperative_id] = bool(
                await Cooperative.filter(id=cooperative_id)
                .first()
                .values_list("labels_mask_phone", flat=True)
            )
        return self.masked[cooperative_id]

    async def box_ids(self, batch: Batch, field_id: int) -> list[int]:
        key = (batch.id, field_id)
        if key not in self.fields:
            while len(self.fields) >= 4:  # a field's ids at a time per worker, not a batch's
                del self.fields[next(iter(self.fields))]
            self.fields[key] = await field_box_ids(batch, field_id)
        return self.fields[key]

    async def boxes(self, batch: Batch, part: DocumentPart, crops: dict[int, str]) -> list[Box]:
        """The boxes of a part, read once for its packing list and its labels (claimed one
        after the other, often drawn at once): the last few parts' boxes are kept."""
        key = (batch.id, part.field_id, part.first_box, part.boxes)
        if key not in self.slices:
            while len(self.slices) >= 4:
                del self.slices[next(iter(self.slices))]
            self.slices[key] = asyncio.ensure_future(self._read(batch, part, crops))
        read = self.slices[key]
        try:
            # Shielded: a worker stopped while it waits does not cancel its sibling's read.
            return await asyncio.shield(read)
        except BaseException:
            if read.done() and self.slices.get(key) is read:
                del self.slices[key]  # a failed read is not kept: the sibling reads again
            raise

    async def _read(self, batch: Batch, part: DocumentPart, crops: dict[int, str]) -> list[Box]:
        ids = await self.box_ids(batch, part.field_id)
        return await boxes_of(ids[part.first_box : part.first_box + part.boxes], crops)

    async def diverted_on_field(self, batch: Batch, field_id: int) -> list[tuple[str, int, int]]:
        """What the ship day did not send from the field, per reason and crop: one query
        for the whole batch (per field it would read the day's allocations each time)."""
        if batch.id not in self.diverted:
            rows = (
                await diverted_on(batch)
                .group_by("lot__field_id", "reason", "lot__crop_id")
                .values_list("lot__field_id", "reason", "lot__crop_id", "g")
            )
            by_field: dict[int, list[tuple[str, int, int]]] = {}
            for field_id_, reason, crop, grams in rows:
                by_field.setdefault(field_id_, []).append((str(reason), crop, int(grams or 0)))
            self.diverted[batch.id] = by_field
        return self.diverted[batch.id].get(field_id, [])


async def _job(
    part: DocumentPart, paper: Paper, now: datetime, path: Path, known: _Known
) -> PartJob:
    batch, crops, cooperative = await known.batch(part.batch_id)
    job = PartJob(
        kind=str(part.kind),
        path=str(path),
        language=paper.language,
        cooperative=cooperative,
        ship_on=batch.ship_on,
        generated=now.astimezone(ZoneInfo(paper.timezone)).strftime("%Y-%m-%d %H:%M"),
        secret=paper.secret,
        base_url=paper.base_url,
    )
    if part.kind == DocumentKind.SUMMARY:
        picked = (
            await Allocation.filter(shipment__batch_id=batch.id, state=AllocationState.SHIPPED)
            .annotate(total=Sum("grams"))
            .group_by("lot__crop_id")
            .values_list("lot__crop_id", "total")
        )
        job.picks = sorted((crops.get(c, "?"), int(g)) for c, g in picked)
        names = dict(
            await Field.filter(cooperative_id=batch.cooperative_id).values_list("id", "name")
        )
        lines = (
            await DocumentPart.filter(batch_id=batch.id, kind=DocumentKind.PACKING)
            .annotate(n=Sum("boxes"), parts=Count("id"))
            .group_by("field_id")
            .values_list("field_id", "n", "parts")
        )
        job.fields = [
            FieldLine(names.get(f, "?"), int(n or 0), int(p)) for f, n, p in sorted(lines)
        ]
        job.diverted = sorted_diversions(await diverted_grams(batch), crops)
        return job
    name = (await Field.get(id=part.field_id)).name
    job.part_label = _("%(field)s, part %(num)s of %(of)s") % {
        "field": name,
        "num": part.seq,
        "of": part.of_parts,
    }
    job.boxes = await known.boxes(batch, part, crops)
    if await known.masks_phone(batch.cooperative_id):
        job.boxes = [replace(box, phone=masked_phone(box.phone)) for box in job.boxes]
    if part.kind == DocumentKind.PACKING and part.seq == part.of_parts:
        # The field's last part ends with what this ship day did not send from the field.
        job.diverted = sorted_diversions(await known.diverted_on_field(batch, part.field_id), crops)
    return job


async def make_part(
    part: DocumentPart,
    *,
    paper: Paper,
    now: datetime,
    pool: Executor | None,
    known: _Known | None = None,
) -> bool:
    """Make one claimed part and mark it done, if the claim is still ours: drawn page by
    page into a temporary file (TMPDIR), which is then put into the storage and removed."""
    key = f"{FOLDER}/{part.batch_id}/{part.slot}-{part.claim[:8]}.pdf"
    path = Path(tempfile.gettempdir()) / f"farm-part-{uuid.uuid4().hex}.pdf"
    try:
        with i18n.use_language(paper.language):  # crop and field names, the part's title
            job = await _job(part, paper, now, path, known or _Known())
        if pool is None:
            pages, size = await to_thread.run_sync(draw_part, job)
        else:
            pages, size = await asyncio.get_running_loop().run_in_executor(pool, draw_part, job)
        await paper.storage.put_file(key, path, content_type="application/pdf")
    finally:
        _remove(path)  # two unlinks: quick, and done even when the job is cancelled
    done = await DocumentPart.filter(
        id=part.id, claim=part.claim, status=DocumentStatus.MAKING
    ).update(
        status=DocumentStatus.DONE, file=key, pages=pages, size_bytes=size, done_at=now,
        claimed_until=None,
    )  # fmt: skip
    if not done:  # the lease ran out and the part was made again, or a remake was asked
        await paper.storage.delete(key)
    return bool(done)


def _remove(path: Path) -> None:
    """The drawn file, and what a drawing that failed half-way left (draw_part's .partial)."""
    for leftover in (path, path.with_name(path.name + ".partial")):
        leftover.unlink(missing_ok=True)


async def _fresh_statistics() -> None:
    """A batch writes a ship day's shipments and allocations in bulk. Where the tables'
    statistics still describe them as they were before (empty, for a first batch, or a
    fraction of their size), PostgreSQL plans the parts' reads, from each field's plots down,
    as scans of the whole tables, which grow with the batch: 285 ms a field instead of 3 ms
    at 100,000 subscriptions. Autovacuum would analyze them in time, but may be off or late,
    so the tables are analyzed here when half their rows or more are new since."""
    conn = connections.get("default")
    if not is_postgres(conn):
        return
    stale = await conn.execute_query_dict(
        "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('shipments', 'lot_allocations')"
        " AND n_mod_since_analyze > 1000 + n_live_tup / 2"
    )
    if stale:
        await conn.execute_script("ANALYZE " + ", ".join(row["relname"] for row in stale))


@dataclass
class DocumentsResult:
    planned: int = 0
    made: int = 0


def drawing_pool(workers: int) -> ProcessPoolExecutor:
    """Processes that draw parts; each exits if the process that started it dies."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )


async def make_due_documents(
    *,
    paper: Paper,
    today: date,
    now: datetime,
    workers: int = 1,
    pool: Executor | None = None,
) -> DocumentsResult:
    """The scheduler's documents job: plan the parts of the field runs done, then make
    every part nobody is making, `workers` at a time (in a process pool when more than one,
    the caller's if given), planning again as long as there is work, so it follows a batch
    still being made."""
    started = clock.monotonic()

    def current() -> datetime:  # `now` advanced by the time this run has taken
        return now + timedelta(seconds=clock.monotonic() - started)

    await _fresh_statistics()  # before planning, which reads every field's boxes
    result = DocumentsResult(planned=await plan_due(today=today, now=now))
    pending = await DocumentPart.filter(_free(now)).count()
    if not pending:
        return result
    own_pool = pool is None and workers > 1 and pending > 1
    if own_pool:
        pool = drawing_pool(workers)

    known = _Known()

    async def worker() -> None:
        token = uuid.uuid4().hex
        while True:
            part = await claim_next(now=current(), token=token)
            if part is None:
                planned = await plan_due(today=today, now=current())
                result.planned += planned
                part = await claim_next(now=current(), token=token) if planned else None
            if part is None:
                return
            if await make_part(part, paper=paper, now=current(), pool=pool, known=known):
                result.made += 1

    try:
        # Two parts in hand a drawing process: while they draw, the next are read, so the
        # processes never wait on the database. Memory: at most 2 × workers parts of boxes.
        await asyncio.gather(*(worker() for _ in range(2 * max(1, workers))))
    finally:
        if own_pool and pool is not None:
            pool.shutdown()
    return result


# ---- the batch page, downloads, remaking ----


@dataclass
class FieldParts:
    field_name: str
    seq: int
    of_parts: int
    boxes: int
    packing: DocumentPart | None = None
    labels: DocumentPart | None = None


@dataclass
class DocumentsView:
    parts_done: int = 0
    parts_total: int = 0
    boxes_done: int = 0  # boxes whose label is made
    boxes_total: int = 0  # boxes with something in them
    summary: DocumentPart | None = None
    stale_since: datetime | None = None  # a correction changed boxes after they were made
    parts: Page[FieldParts] = field(
        default_factory=lambda: Page(items=[], number=1, size=PARTS_PER_PAGE, total=0)
    )

    @property
    def complete(self) -> bool:
        return (
            self.parts_total > 0
            and self.parts_done == self.parts_total
            and (self.summary is not None)
        )


async def batch_documents(*, manager: User, batch_id: int, page: int = 1) -> DocumentsView:
    """The progress of a batch's paper and one page of its parts, for the batch page."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    view = DocumentsView(stale_since=batch.documents_stale_at)
    counts = (
        await DocumentPart.filter(batch_id=batch.id)
        .annotate(n=Count("id"), b=Sum("boxes"))
        .group_by("kind", "status")
        .values_list("kind", "status", "n", "b")
    )
    for kind, status, n, boxes in counts:
        view.parts_total += int(n)
        if status == DocumentStatus.DONE:
            view.parts_done += int(n)
            if kind == DocumentKind.LABELS:
                view.boxes_done += int(boxes or 0)
    view.boxes_total = await Shipment.filter(
        batch_id=batch.id, status__not=ShipmentStatus.EMPTY
    ).count()
    view.summary = await DocumentPart.get_or_none(batch_id=batch.id, kind=DocumentKind.SUMMARY)
    packing = DocumentPart.filter(batch_id=batch.id, kind=DocumentKind.PACKING)
    total = await packing.count()
    page = clamp_page(page, page_count(total, PARTS_PER_PAGE))
    shown = await (
        packing.order_by("field_id", "seq")
        .offset((page - 1) * PARTS_PER_PAGE)
        .limit(PARTS_PER_PAGE)
    )
    if not shown:
        return view
    field_ids = sorted({p.field_id for p in shown})
    names = dict(await Field.filter(id__in=field_ids).values_list("id", "name"))
    labels = {
        (p.field_id, p.seq): p
        for p in await DocumentPart.filter(
            batch_id=batch.id, kind=DocumentKind.LABELS, field_id__in=field_ids
        )
    }
    rows = [
        FieldParts(names.get(p.field_id, "?"), p.seq, p.of_parts, p.boxes, p,
                   labels.get((p.field_id, p.seq)))
        for p in shown
    ]  # fmt: skip
    view.parts = Page(items=rows, number=page, size=PARTS_PER_PAGE, total=total)
    return view


async def document_file(
    *, manager: User, batch_id: int, part_id: int, storage: Storage
) -> tuple[Stored, str]:
    """A made part of the manager's own batch, opened from the storage, and its download
    name. Anything else, another cooperative's included, is not found."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    part = await DocumentPart.get_or_none(id=part_id, batch_id=batch.id, status=DocumentStatus.DONE)
    stored = await storage.open(part.file) if part is not None and part.file else None
    if part is None or stored is None:
        raise NotFound(_("This document is not made yet."))
    return stored, f"{part.kind}-{batch.ship_on.isoformat()}-{part.slot}.pdf"


async def only_part(*, manager: User, batch_id: int, kind: str) -> DocumentPart | None:
    """The batch's one made part of a kind, when the whole batch is one part (a small
    batch on one field): the old single-file downloads serve it. None otherwise."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    parts = await DocumentPart.filter(batch_id=batch.id, kind=kind).limit(2)
    if len(parts) == 1 and parts[0].status == DocumentStatus.DONE:
        return parts[0]
    return None


async def mark_stale(conn: BaseDBAsyncClient, *, shipment_ids: set[int], now: datetime) -> int:
    """After a correction changed these boxes' items: their batches whose paper is already
    planned or made are marked, and the batch page says to make it again. Returns how many
    batches were marked."""
    if not shipment_ids:
        return 0
    batch_ids = set(
        await Shipment.filter(id__in=shipment_ids).using_db(conn).values_list("batch_id", flat=True)
    )
    papered = set(
        await DocumentPart.filter(batch_id__in=batch_ids)
        .using_db(conn)
        .distinct()
        .values_list("batch_id", flat=True)
    )
    if not papered:
        return 0
    return await Batch.filter(id__in=papered).using_db(conn).update(documents_stale_at=now)


async def remake_documents(*, manager: User, batch_id: int, storage: Storage, now: datetime) -> int:
    """Forget the batch's parts (and their files) and plan them again from the batch as it
    is now, so the scheduler makes them on its next run, however old the ship day; a part
    being made meanwhile is dropped when it finishes. Returns the parts planned."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    files = await DocumentPart.filter(batch_id=batch.id).values_list("file", flat=True)
    await DocumentPart.filter(batch_id=batch.id).delete()
    await Batch.filter(id=batch.id).update(documents_stale_at=None)
    planned = await plan_batch(batch=batch, now=now)
    try:  # after planning: a storage that is down leaves old files behind, never no parts
        await storage.delete(*(name for name in files if name))
    except StorageUnavailable:
        log.warning("batch %s: the old parts' files stay in the storage", batch.id)
    return planned
