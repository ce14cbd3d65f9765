"""A set of field photos uploaded in one go from a phone: several plots, or a whole field,
tagged by tapping them; the families of those plots told by mail, at most once a day.

The photos become a work entry of their own (activity 'other', the caption as its notes),
so they show on each tagged plot's page and pass the same access check as any work photo
(farm.fieldwork.timeline.photo_for). A photo of a family's name sign is tagged to its one
plot and marked as the sign: the plot's page shows the newest as its sign."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from farm import forms
from farm.accounts.models import User
from farm.errors import NotFound
from farm.fieldwork import photo_mail, rules
from farm.fieldwork.models import Activity, WorkEntry
from farm.fieldwork.photos import PhotoStore, check_photos
from farm.fieldwork.services import _save_entry
from farm.i18n import _
from farm.land.console import own_field
from farm.land.models import Plot
from farm.notifications.services import Unsubscribing

MAX_SET = 12  # photos in one upload (the upload as a whole stays under 62 MB)


@dataclass
class PhotoSet:
    field_id: int
    plot_ids: list[int]
    whole_field: bool
    sign: bool
    taken_on: str
    caption: str
    photos: list[bytes] = field(default_factory=list)


async def upload_photos(
    *,
    manager: User,
    upload: PhotoSet,
    today: date,
    now: datetime,
    store: PhotoStore,
    unsubscribing: Unsubscribing,
) -> WorkEntry:
    """Check and store a set of photos as one entry on the tapped plots (or the whole field),
    and queue, in the same transaction, a mail to each active subscriber of those plots who
    has had none today."""
    field_ = await own_field(manager=manager, field_id=upload.field_id)
    errors = forms.Form()
    day = errors.read("taken_on", rules.log_day, upload.taken_on, today=today)
    caption = errors.read("caption", forms.text, upload.caption, limit=200) or ""
    plot_ids = sorted(set(upload.plot_ids))
    if plot_ids:
        found = await Plot.filter(id__in=plot_ids, field_id=field_.id).count()
        if found != len(plot_ids):
            raise NotFound(_("This plot does not exist."))
    whole = upload.whole_field and not upload.sign
    if not whole and not plot_ids:
        errors.refuse("plots", _("Tap the plots these photos show, or choose the whole field."))
    if upload.sign and len(plot_ids) != 1:
        errors.refuse("plots", _("A photo of a family's sign shows one plot: tap just that plot."))
    if not upload.photos:
        errors.refuse("photos", _("Choose the photos to upload."))
    elif len(upload.photos) > MAX_SET:
        errors.refuse("photos", _("At most %(count)d photos at once.") % {"count": MAX_SET})
    checked = [] if "photos" in errors else await check_photos(upload.photos, errors)
    errors.check()
    assert day is not None

    async def tell(conn, entry: WorkEntry) -> None:
        await photo_mail.tell_families(
            conn, entry=entry, plot_ids=plot_ids, count=len(checked), today=today, now=now,
            unsubscribing=unsubscribing,
        )  # fmt: skip

    return await _save_entry(
        coop_id=field_.cooperative_id, field_id=field_.id,
        plot_ids=[] if whole else plot_ids, whole_field=whole,
        activity=Activity.OTHER.value, day=day, notes=caption, user=manager, now=now,
        inputs=[], shifts=[], photos=checked, store=store, sign=upload.sign, then=tell,
    )  # fmt: skip
