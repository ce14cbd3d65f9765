"""Files kept beside the database: the farm log's photos and the ship day's paper, under keys
such as "photos/NAME.jpg" and "documents/7/f3-p1-packing-ab12.pdf".

One interface, two back ends, chosen by FARM_STORAGE:
- `local` (the embedded default): a folder, FARM_DATA_DIR, in the layout the service always
  had, so files written before keep working. One machine only.
- `s3`: a bucket of any S3-compatible object store (AWS S3, MinIO, Aliyun OSS, Tencent COS,
  Cloudflare R2...), through boto3: every web machine and scheduler sees the same files, and
  a lost disk loses none.

Every call that waits on a disk or the network runs in a worker thread, so the event loop
never blocks; a file is read in chunks of CHUNK bytes, so memory does not grow with it. A file
appears whole or not at all: the folder writes a temporary name and renames it, a bucket
stores an object only once its upload is complete."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any, Protocol

from anyio import to_thread
from starlette.responses import StreamingResponse

from farm.errors import DomainError
from farm.i18n import _
from farm.settings import Settings

log = logging.getLogger("farm.storage")

CHUNK = 256 * 1024
# Keys are made by the service, never taken from a request; still, a key is only ever a
# relative path of plain names, so no key can leave the folder or the prefix.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
DELETE_BATCH = 1000  # S3's DeleteObjects takes at most 1,000 keys a call


class StorageUnavailable(DomainError):
    """The object store did not answer, or refused: a 503 page, nothing else changed."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(_("Stored files are unavailable just now. Please try again shortly."))


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or len(key) > 512:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Stored:
    """A stored file opened for reading: its size, and its bytes chunk by chunk."""

    def __init__(self, size: int, body: IO[bytes] | Any):
        self.size = size
        self._body = body  # a local file, or boto3's StreamingBody: read(n) and close()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await to_thread.run_sync(self._body.read, CHUNK):
                yield chunk
        finally:
            self._body.close()  # quick either way: a file handle, or a connection back to its pool

    async def read(self) -> bytes:
        """The whole file: for small ones, and tests."""
        return b"".join([chunk async for chunk in self.chunks()])


def streamed(stored: Stored, *, media_type: str, headers: dict[str, str]) -> StreamingResponse:
    """A download of a stored file, streamed with its length (so a browser shows progress)."""
    return StreamingResponse(
        stored.chunks(),
        media_type=media_type,
        headers={**headers, "Content-Length": str(stored.size)},
    )


class Storage(Protocol):
    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None: ...

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        """Store a copy of a local file (the caller removes its own)."""

    async def open(self, key: str) -> Stored | None:
        """The file under `key`, or None when there is none."""

    async def exists(self, key: str) -> bool: ...

    async def delete(self, *keys: str) -> None:
        """Remove these keys; one already gone is no error."""


class LocalStorage:
    """Files in a folder: key "photos/a.jpg" is ROOT/photos/a.jpg."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write(self, key: str, write: Callable[[Path], object]) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            write(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None:
        await to_thread.run_sync(self._write, key, lambda p: p.write_bytes(data))

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        await to_thread.run_sync(self._write, key, lambda p: shutil.copyfile(path, p))

    def _open(self, key: str) -> Stored | None:
        try:
            body = open(self.path(key), "rb")  # noqa: SIM115 - closed by Stored.chunks
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return Stored(os.fstat(body.fileno()).st_size, body)

    async def open(self, key: str) -> Stored | None:
        return await to_thread.run_sync(self._open, key)

    async def exists(self, key: str) -> bool:
        return await to_thread.run_sync(self.path(key).is_file)

    def _delete(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    async def delete(self, *keys: str) -> None:
        await to_thread.run_sync(self._delete, keys)


class S3Storage:
    """Objects in a bucket of an S3-compatible store: key "photos/a.jpg" is the object
    PREFIX + "photos/a.jpg". One boto3 client per process, made at first use (boto3's
    clients are thread-safe; its sessions are not)."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
        addressing_style: str = "auto",
    ):
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._options = {
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
        }
        self._addressing_style = addressing_style
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    connect_timeout=5,
                    read_timeout=30,
                    retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": self._addressing_style},
                    # boto3 1.36+ adds CRC checksums to every upload by default, which many
                    # S3-compatible stores refuse: only where the API requires one.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    max_pool_connections=20,
                )
                self._client = boto3.session.Session().client("s3", config=config, **self._options)
            return self._client

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def _call(self, work: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await to_thread.run_sync(work)
        except (BotoCoreError, ClientError) as exc:
            log.warning("object store: %s", exc)
            raise StorageUnavailable() from exc

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None:
        name = self._key(key)
        await self._call(
            lambda: self.client().put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            )
        )

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        name = self._key(key)

        def upload() -> None:
            with open(path, "rb") as body:  # sent as it is read, not read whole first
                self.client().put_object(
                    Bucket=self.bucket, Key=name, Body=body, ContentType=content_type
                )

        await self._call(upload)

    async def open(self, key: str) -> Stored | None:
        from botocore.exceptions import ClientError

        name = self._key(key)

        def get() -> Stored | None:
            try:
                answer = self.client().get_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
            return Stored(int(answer["ContentLength"]), answer["Body"])

        return await self._call(get)

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        name = self._key(key)

        def head() -> bool:
            try:
                self.client().head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if _missing(exc):
                    return False
                raise
            return True

        return await self._call(head)

    async def delete(self, *keys: str) -> None:
        names = [self._key(key) for key in keys]
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start : start + DELETE_BATCH]
            answer = await self._call(
                lambda batch=batch: self.client().delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
            )
            if answer.get("Errors"):  # refused per key (access denied...), not as a whole
                log.warning("object store kept %s", answer["Errors"][:3])
                raise StorageUnavailable()


def _missing(exc: Any) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") in ("NoSuchKey", "404", "NotFound")


def storage_for(settings: Settings) -> Storage:
    """The storage the settings name: the data folder, or the bucket."""
    if settings.storage == "s3":
        return S3Storage(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=str(settings.s3_secret_access_key),
            addressing_style=settings.s3_addressing_style,
        )
    return LocalStorage(settings.data_dir)
