"""Photos from the field: checked to be real images, re-encoded (which drops EXIF, GPS
included), stored with a thumbnail in the storage (the data folder, or a bucket)."""

from __future__ import annotations

import contextlib
import io
import uuid
from dataclasses import dataclass

import anyio
from PIL import Image, ImageOps, UnidentifiedImageError

from farm import forms
from farm.i18n import _
from farm.storage import Storage, Stored

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 6
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what some phone cameras write
MAX_SIDE = 2048
THUMB_SIDE = 320
# Refuse decompression bombs before decoding: a 48-megapixel phone picture (8000 x 6000, or
# 8064 x 6048) passes, a 7,745-pixel square PNG (60 million) does not.
MAX_PIXELS = 50_000_000
FOLDER = "photos"
JPEG = "image/jpeg"


class BadPhoto(forms.Problem):
    """Not an image we accept, a form's problem: `code` is 'too_large' (bytes),
    'too_many_pixels', 'not_image' or 'too_many', with its message in the current language."""

    def __init__(self, code: str):
        messages = {
            "too_large": _("A photo is larger than 10 MB."),
            "too_many_pixels": _(
                "A photo has more than 50 million pixels (a phone's 48-megapixel picture is "
                "fine): make it smaller first."
            ),
            "not_image": _("A file is not a JPEG, PNG or WebP photo."),
            "too_many": _("At most 6 photos per entry."),
        }
        super().__init__(code, messages[code])


@dataclass(frozen=True)
class CheckedPhoto:
    full: bytes
    thumb: bytes
    width: int
    height: int


def check_photo(data: bytes) -> CheckedPhoto:
    """Decode, orient, shrink and re-encode as JPEG; raise BadPhoto for anything else."""
    if len(data) > MAX_BYTES:
        raise BadPhoto("too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise BadPhoto("not_image")
            if probe.width * probe.height > MAX_PIXELS:
                raise BadPhoto("too_many_pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            full = io.BytesIO()
            image.save(full, "JPEG", quality=85, optimize=True)
            width, height = image.size
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            thumb = io.BytesIO()
            image.save(thumb, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, BadPhoto):
            raise
        raise BadPhoto("not_image") from None
    except Image.DecompressionBombError:
        raise BadPhoto("too_many_pixels") from None
    return CheckedPhoto(full.getvalue(), thumb.getvalue(), width, height)


async def check_in_thread(data: bytes) -> CheckedPhoto:
    """check_photo in a worker thread: decoding and re-encoding a 10 MB photo takes CPU for a
    while, and every other request goes on meanwhile."""
    return await anyio.to_thread.run_sync(check_photo, data)


async def check_photos(photos: list[bytes], form: forms.Form) -> list[CheckedPhoto]:
    """The photos checked one by one (in a worker thread); the first bad one is refused on the
    form's `photos` and the rest are not read (what was checked before it is returned)."""
    checked: list[CheckedPhoto] = []
    for data in photos:
        try:
            checked.append(await check_in_thread(data))
        except BadPhoto as problem:
            form.refuse("photos", problem.message)
            break
    return checked


class PhotoStore:
    """Photos in the storage (farm/storage.py): photos/NAME.jpg and photos/NAME.thumb.jpg."""

    def __init__(self, storage: Storage):
        self.storage = storage

    @staticmethod
    def key(name: str, *, thumb: bool = False) -> str:
        return f"{FOLDER}/{name}.thumb.jpg" if thumb else f"{FOLDER}/{name}.jpg"

    async def save(self, photo: CheckedPhoto) -> str:
        """Store the photo and its thumbnail under a new name: both, or neither."""
        name = uuid.uuid4().hex
        try:
            await self.storage.put_bytes(self.key(name), photo.full, content_type=JPEG)
            await self.storage.put_bytes(self.key(name, thumb=True), photo.thumb, content_type=JPEG)
        except BaseException:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self.delete(name)
            raise
        return name

    async def open(self, name: str, *, thumb: bool = False) -> Stored | None:
        return await self.storage.open(self.key(name, thumb=thumb))

    async def delete(self, *names: str) -> None:
        keys = [self.key(name, thumb=thumb) for name in names for thumb in (False, True)]
        if keys:
            await self.storage.delete(*keys)
