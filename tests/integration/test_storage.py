"""Photos and documents kept in the storage: the same behaviour against both back ends, the
data folder and an S3-compatible bucket, the bucket on a real S3 server (moto in server mode,
on 127.0.0.1, started only when these tests ask for it)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.datastructures import Secret

from farm.fieldwork.models import Photo, WorkEntry
from farm.land.models import Plot
from farm.shipments.documents import claim_next, make_part, plan_due
from farm.shipments.models import DocumentPart, DocumentStatus
from farm.storage import LocalStorage, S3Storage, storage_for
from tests import support
from tests.integration.test_fieldwork import TODAY, coop_with_manager, jpeg, subscriber_of
from tests.integration.test_packing import SHIP_ON, make_documents, paper, pdf_text, scene
from tests.support import NOW, log_in_client

S3_KEYS = {"s3_access_key_id": "testing", "s3_secret_access_key": Secret("testing")}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3 API (moto's server, in a thread of the test process) on a free port."""
    from moto.server import ThreadedMotoServer

    port = support.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def bucket_client(settings):
    import boto3

    return boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


@pytest.fixture(params=["local", "s3"])
def settings(request, settings):
    """The suite's settings, with the data folder (as shipped) or a fresh bucket (a key
    prefix too, as a shared bucket would have) as the storage."""
    if request.param == "local":
        return settings
    s3 = settings.with_(
        storage="s3", s3_bucket=f"farm-test-{secrets.token_hex(4)}", s3_prefix="farm/",
        s3_endpoint_url=request.getfixturevalue("s3_server"), s3_region="us-east-1",
        s3_addressing_style="path", **S3_KEYS,
    )  # fmt: skip
    bucket_client(s3).create_bucket(Bucket=s3.s3_bucket)
    return s3


def bucket_keys(settings) -> set[str]:
    answer = bucket_client(settings).list_objects_v2(Bucket=settings.s3_bucket)
    return {item["Key"] for item in answer.get("Contents", [])}


def local_files(settings) -> set[str]:
    root = settings.data_dir
    return {
        p.relative_to(root).as_posix()
        for folder in ("photos", "documents")
        if (root / folder).exists()
        for p in (root / folder).rglob("*")
        if p.is_file()
    }


def stored_keys(settings) -> set[str]:
    """What the storage holds, looked at from outside the service: files in the data folder,
    or objects in the bucket (under the prefix, and then nothing in the folder)."""
    if settings.storage == "local":
        return local_files(settings)
    assert local_files(settings) == set()
    keys = bucket_keys(settings)
    assert all(key.startswith("farm/") for key in keys)
    return {key.removeprefix("farm/") for key in keys}


async def test_a_file_is_put_read_back_in_chunks_and_deleted(settings, tmp_path):
    storage = storage_for(settings)
    assert isinstance(storage, LocalStorage if settings.storage == "local" else S3Storage)
    await storage.put_bytes("photos/a.jpg", b"small", content_type="image/jpeg")
    big = secrets.token_bytes(700_000)  # several chunks
    source = tmp_path / "part.pdf"
    source.write_bytes(big)
    await storage.put_file(
        "documents/7/f3-p1-packing-ab12.pdf", source, content_type="application/pdf"
    )
    assert stored_keys(settings) == {"photos/a.jpg", "documents/7/f3-p1-packing-ab12.pdf"}
    assert source.read_bytes() == big  # the caller's file is left to the caller
    assert await storage.exists("photos/a.jpg")
    stored = await storage.open("documents/7/f3-p1-packing-ab12.pdf")
    chunks = [chunk async for chunk in stored.chunks()]
    assert stored.size == len(big) and b"".join(chunks) == big and len(chunks) >= 3
    assert max(len(c) for c in chunks) <= 256 * 1024  # read a chunk at a time, not whole
    assert await (await storage.open("photos/a.jpg")).read() == b"small"
    await storage.put_bytes("photos/a.jpg", b"again", content_type="image/jpeg")
    assert await (await storage.open("photos/a.jpg")).read() == b"again"
    await storage.delete("photos/a.jpg", "documents/7/f3-p1-packing-ab12.pdf", "photos/gone.jpg")
    assert stored_keys(settings) == set()
    assert not await storage.exists("photos/a.jpg")
    assert await storage.open("photos/a.jpg") is None


async def test_a_key_that_could_leave_the_folder_or_prefix_is_refused(settings):
    storage = storage_for(settings)
    for bad in ("../farm.sqlite3", "/etc/passwd", "photos/../../x", "photos//a.jpg", "", "a\\b"):
        with pytest.raises(ValueError):
            await storage.put_bytes(bad, b"x", content_type="text/plain")
        with pytest.raises(ValueError):
            await storage.open(bad)
    assert stored_keys(settings) == set()


async def test_a_photo_is_stored_shown_to_its_plots_subscriber_and_refused_to_another(
    client, settings
):
    plan, _, token = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    r = await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plots[0].id, "activity": "sowing", "worked_on": TODAY.isoformat(), "csrf_token": token},
                          files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    assert r.status_code == 303
    photo = await Photo.get()
    assert stored_keys(settings) == {
        f"photos/{photo.file_name}.jpg",
        f"photos/{photo.file_name}.thumb.jpg",
    }
    r = await client.get(f"/photos/{photo.id}")  # the manager
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8" and int(r.headers["content-length"]) == len(r.content)
    assert r.headers["cache-control"] == "private, max-age=86400"  # never a shared cache
    full = r.content
    await client.post("/logout", data={"csrf_token": token})
    await subscriber_of(plan, plots[0], "owner@example.com")
    await subscriber_of(plan, plots[1], "neighbour@example.com")
    token = await log_in_client(client, "owner@example.com")
    assert (await client.get(f"/photos/{photo.id}")).content == full
    thumb = await client.get(f"/photos/{photo.id}/thumb")
    assert thumb.status_code == 200 and 0 < len(thumb.content) < len(full)
    await client.post("/logout", data={"csrf_token": token})
    token = await log_in_client(client, "neighbour@example.com")
    for path in (f"/photos/{photo.id}", f"/photos/{photo.id}/thumb"):
        r = await client.get(path)
        assert r.status_code == 404 and r.content != full
    await client.post("/logout", data={"csrf_token": token})
    assert (await client.get(f"/photos/{photo.id}")).status_code == 404  # a visitor
    # The row outliving its file (a restore, a lost object) is a 404 too, not an error.
    await storage_for(settings).delete(f"photos/{photo.file_name}.jpg")
    await log_in_client(client, "owner@example.com")
    assert (await client.get(f"/photos/{photo.id}")).status_code == 404


async def test_when_writing_an_entry_fails_its_stored_photos_are_removed(
    client, settings, monkeypatch
):
    from farm.fieldwork import services as fieldwork

    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()

    async def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(fieldwork.Photo, "create", broken)
    with pytest.raises(RuntimeError):
        await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plot.id, "activity": "sowing", "worked_on": TODAY.isoformat(), "csrf_token": token},
                          files=[("photos", ("a.jpg", jpeg(), "image/jpeg")), ("photos", ("b.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    assert not await WorkEntry.exists()
    assert stored_keys(settings) == set()


async def test_a_document_part_is_stored_and_downloaded_by_its_manager_only(client, settings):
    batch, _boxes, _lots = await scene()
    await make_documents(settings)
    parts = await DocumentPart.filter(batch_id=batch.id)
    assert parts and all(p.status == DocumentStatus.DONE for p in parts)
    mine = {p.file for p in parts}
    assert all(re.fullmatch(rf"documents/{batch.id}/[a-z0-9-]+\.pdf", f) for f in mine)
    assert mine <= stored_keys(settings)
    await log_in_client(client, "li@coop.cn")
    for part in parts:
        r = await client.get(f"/manage/shipments/{batch.id}/documents/{part.id}.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.headers["cache-control"] == "private, no-store"
        assert len(r.content) == part.size_bytes == int(r.headers["content-length"])
        assert r.content.startswith(b"%PDF")
    labels = await client.get(f"/manage/shipments/{batch.id}/labels.pdf")  # the one part
    assert labels.status_code == 200 and "王小明" in pdf_text(labels.content)
    _plan, other, _token = await coop_with_manager(client, email="m2@coop.cn")
    assert other.cooperative_id != batch.cooperative_id  # another cooperative's manager
    for part in parts:
        r = await client.get(f"/manage/shipments/{batch.id}/documents/{part.id}.pdf")
        assert r.status_code == 404 and b"%PDF" not in r.content
    assert (await client.get(f"/manage/shipments/{batch.id}/labels.pdf")).status_code == 404


async def test_a_remake_deletes_the_old_parts_from_the_storage(client, settings):
    batch, _boxes, _lots = await scene()
    await make_documents(settings)
    old = {p.file for p in await DocumentPart.filter(batch_id=batch.id)}
    others = stored_keys(settings) - old  # the season's earlier ship days' paper
    assert len(old) == 3 and old <= stored_keys(settings)
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(f"/manage/shipments/{batch.id}/documents/remake",
                          data={"csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    assert stored_keys(settings) == others  # the batch's old files gone, nothing else
    await make_documents(settings, now=NOW + timedelta(hours=1))
    new = {p.file for p in await DocumentPart.filter(batch_id=batch.id)}
    assert len(new) == 3 and new.isdisjoint(old) and stored_keys(settings) == others | new


async def test_a_part_finished_after_its_claim_was_lost_leaves_no_file(conn, settings):
    batch, _boxes, _lots = await scene()
    await plan_due(today=SHIP_ON, now=NOW)
    part = await claim_next(now=NOW, token="slow" * 8)
    # Meanwhile the lease ran out and another scheduler took the part over.
    await DocumentPart.filter(id=part.id).update(claim="next" * 8)
    assert not await make_part(part, paper=paper(settings), now=NOW, pool=None)
    assert stored_keys(settings) == set()
    assert (await DocumentPart.get(id=part.id)).status == DocumentStatus.MAKING


async def test_a_bucket_that_refuses_is_a_503_and_no_entry_is_written(client, settings):
    if settings.storage != "s3":
        pytest.skip("a bucket's failure")
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    bucket_client(settings).delete_bucket(Bucket=settings.s3_bucket)
    r = await client.post("/manage/log", data={"field_id": plan.field_id, "plot_ids": plot.id, "activity": "sowing", "worked_on": TODAY.isoformat(), "csrf_token": token},
                          files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))])  # fmt: skip
    assert r.status_code == 503 and "稍后" in r.text
    assert not await WorkEntry.exists()
