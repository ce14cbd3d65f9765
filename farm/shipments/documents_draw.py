"""Drawing one document part to its file: a plain, picklable description in, the file out.

This is what a worker process runs (`farm.shipments.documents` hands parts to a process pool
so both cores draw), and what a thread runs when there is one part to make. No database: the
boxes come gathered; the file is written under a temporary name and renamed when whole, so a
part killed mid-way never leaves a file that looks done."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from farm import i18n
from farm.i18n import _
from farm.shipments.models import DocumentKind
from farm.shipments.packing import box_url, reason_text
from farm.shipments.packing_pdf import Box, Labels, PackingList


@dataclass(frozen=True)
class FieldLine:
    """A field on the summary: its name, boxes and how many parts it was split into."""

    name: str
    boxes: int
    parts: int


@dataclass
class PartJob:
    kind: str  # DocumentKind
    path: str  # the file to write
    language: str
    cooperative: str
    ship_on: date
    generated: str
    part_label: str = ""  # "田1, part 2 of 3"
    boxes: list[Box] = field(default_factory=list)
    diverted: list[tuple[str, str, int]] | None = None  # (reason code, crop, grams)
    picks: list[tuple[str, int]] = field(default_factory=list)  # the summary's, per crop
    fields: list[FieldLine] = field(default_factory=list)  # the summary's
    secret: str = ""
    base_url: str = ""


def picks_of(boxes: list[Box]) -> list[tuple[str, int]]:
    """Grams per crop over these boxes, by crop name."""
    grams: dict[str, int] = defaultdict(int)
    for box in boxes:
        for item in box.items:
            grams[item.crop] += item.grams
    return sorted(grams.items())


def _draw(job: PartJob, out) -> int:
    if job.kind == DocumentKind.LABELS:
        labels = Labels(
            cooperative=job.cooperative, ship_on=job.ship_on, out=out, part=job.part_label
        )
        for box in job.boxes:
            labels.label(box, box_url(job.base_url, job.secret, box.shipment_id))
        return labels.finish()
    doc = PackingList(
        cooperative=job.cooperative,
        ship_on=job.ship_on,
        generated=job.generated,
        out=out,
        part=job.part_label,
    )
    if job.kind == DocumentKind.SUMMARY:
        doc.picks(job.picks)
        doc.heading(_("Packing lists and labels by field"))
        for line in job.fields:
            doc.row(
                [
                    (0, line.name),
                    (-110 * 72 / 25.4, _("%(num)s boxes") % {"num": line.boxes}),
                    (-155 * 72 / 25.4, _("%(num)s parts") % {"num": line.parts}),
                ]
            )
    else:
        doc.picks(picks_of(job.boxes), heading=_("To pick for these boxes"))
        for box in job.boxes:
            doc.box(box)
    if job.diverted is not None:
        doc.diverted([(reason_text(r), crop, g) for r, crop, g in job.diverted])
    return doc.finish()


def draw_part(job: PartJob) -> tuple[int, int]:
    """Write the part's PDF to job.path; returns (pages, bytes)."""
    path = Path(job.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with i18n.use_language(job.language), open(partial, "wb") as out:
        pages = _draw(job, out)
    os.replace(partial, path)
    return pages, path.stat().st_size


def watch_parent(parent: int) -> None:
    """A drawing process's start: it exits when the scheduler that started it is gone
    (killed, say), instead of waiting forever for work that will never come."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()
    # Ctrl-C or a SIGTERM to the process group (`farm dev` stopping) is the scheduler's to
    # handle: it cancels its jobs and shuts the pool down, and this process ends with it (or
    # with the watcher above), rather than dying under a part and breaking the pool.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    # Paper can wait; the web workers sharing the host's cores should not.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)
