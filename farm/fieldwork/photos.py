"""Photos from the field: checked to be real images, re-encoded (which drops EXIF, GPS
included), stored under the data folder with a thumbnail."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from farm import forms
from farm.i18n import _

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 6
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what some phone cameras write
MAX_SIDE = 2048
THUMB_SIDE = 320
# Refuse decompression bombs before decoding: a 48-megapixel phone picture (8000 x 6000, or
# 8064 x 6048) passes, a 7,745-pixel square PNG (60 million) does not.
MAX_PIXELS = 50_000_000


class BadPhoto(forms.Problem):
    """Not an image we accept, a form's problem: `code` is 'too_large', 'not_image' or
    'too_many', with its message in the current language."""

    def __init__(self, code: str):
        messages = {
            "too_large": _("A photo is larger than 10 MB."),
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
                raise BadPhoto("too_large")
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
        raise BadPhoto("too_large") from None
    return CheckedPhoto(full.getvalue(), thumb.getvalue(), width, height)


class PhotoStore:
    """Files under data_dir/photos: NAME.jpg and NAME.thumb.jpg."""

    def __init__(self, root: Path):
        self.root = root

    def save(self, photo: CheckedPhoto) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        (self.root / f"{name}.jpg").write_bytes(photo.full)
        (self.root / f"{name}.thumb.jpg").write_bytes(photo.thumb)
        return name

    def path(self, name: str, *, thumb: bool = False) -> Path:
        return self.root / (f"{name}.thumb.jpg" if thumb else f"{name}.jpg")

    def delete(self, name: str) -> None:
        for path in (self.path(name), self.path(name, thumb=True)):
            path.unlink(missing_ok=True)
