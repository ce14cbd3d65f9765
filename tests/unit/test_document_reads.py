"""The documents job reads a part's boxes once for its packing list and its labels (_Known):
a failed or abandoned read must not be handed to the sibling part."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from farm.shipments.documents import _Known

BATCH = SimpleNamespace(id=7)
PART = SimpleNamespace(field_id=3, first_box=0, boxes=2)


async def test_the_sibling_part_shares_one_read_of_the_boxes():
    known, reads = _Known(), []

    async def read(batch, part, crops):
        reads.append(part)
        return ["box"]

    known._read = read
    assert await known.boxes(BATCH, PART, {}) == ["box"]
    assert await known.boxes(BATCH, PART, {}) == ["box"]
    assert len(reads) == 1


async def test_a_failed_read_is_read_again_by_the_sibling_part():
    known, reads = _Known(), []

    async def read(batch, part, crops):
        reads.append(part)
        if len(reads) == 1:
            raise ConnectionError("the database went away for a moment")
        return ["box"]

    known._read = read
    with pytest.raises(ConnectionError):
        await known.boxes(BATCH, PART, {})
    assert await known.boxes(BATCH, PART, {}) == ["box"]
    assert len(reads) == 2


async def test_a_worker_stopped_while_waiting_does_not_cancel_its_siblings_read():
    known, started = _Known(), asyncio.Event()

    async def read(batch, part, crops):
        started.set()
        await asyncio.sleep(0.05)
        return ["box"]

    known._read = read
    first = asyncio.ensure_future(known.boxes(BATCH, PART, {}))
    await started.wait()
    first.cancel()
    assert await known.boxes(BATCH, PART, {}) == ["box"]
