"""Onboarding and staff accounts: the platform's cooperatives and their profiles, managers
invited by mail, and staff accounts deactivated or reactivated.

Who may do what: an admin, anything here for any cooperative and any staff account; a
manager, their own cooperative's profile and managers (never themself) and the staff of its
partners. Anything else is "not found", so another cooperative's records are not revealed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q

from farm import forms
from farm.accounts import invitations, sessions
from farm.accounts.models import Role, User
from farm.accounts.services import QueueMail
from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork.photos import BadPhoto, PhotoStore, check_in_thread
from farm.i18n import N_, _
from farm.land.models import Cooperative
from farm.links import Links
from farm.paging import Page, paginate
from farm.partners.models import Partner

PAGE_SIZE = 50
STAFF_ROLES = (Role.MANAGER, Role.PARTNER_STAFF, Role.ADMIN)
DESCRIPTION_MAX = 1000


def _not_found() -> NotFound:
    return NotFound(_("Page not found."))


# ---- cooperatives and their profiles ----


@dataclass(frozen=True)
class ProfileInput:
    name: str
    name_en: str = ""
    village: str = ""
    province: str = ""
    phone: str = ""
    description: str = ""


PROFILE_NAMES = ("name", "name_en", "village", "province", "phone", "description")


def _read_profile(data: ProfileInput) -> dict[str, str]:
    form = forms.Form()
    found = {
        "name": form.read("name", forms.text, data.name, limit=100, required=True),
        "name_en": form.read("name_en", forms.text, data.name_en, limit=100),
        "village": form.read("village", forms.text, data.village, limit=100),
        "province": form.read("province", forms.text, data.province, limit=50),
        "phone": form.read("phone", forms.phone, data.phone),
        "description": form.read(
            "description", forms.text, data.description, limit=DESCRIPTION_MAX, one_line=False
        ),
    }
    form.check()
    return {k: v or "" for k, v in found.items()}


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise _not_found()


async def list_cooperatives(*, admin: User, text: str, page: int) -> Page[Cooperative]:
    """The platform's cooperatives, by name; `text` finds a name in either language."""
    require_admin(admin)
    query = Cooperative.all()
    if text:
        query = query.filter(Q(name__icontains=text) | Q(name_en__icontains=text))
    return await paginate(query, page=page, size=PAGE_SIZE, order_by=("name", "id"))


async def create_cooperative(*, admin: User, data: ProfileInput) -> Cooperative:
    require_admin(admin)
    return await Cooperative.create(**_read_profile(data))


async def own_cooperative(*, user: User, cooperative_id: int) -> Cooperative:
    """The cooperative an admin or its own manager may edit; else "not found"."""
    if user.role == Role.ADMIN or (
        user.role == Role.MANAGER and user.cooperative_id == cooperative_id
    ):
        found = await Cooperative.get_or_none(id=cooperative_id)
        if found is not None:
            return found
    raise _not_found()


async def update_profile(*, user: User, cooperative_id: int, data: ProfileInput) -> Cooperative:
    """Change a cooperative's profile (an admin, or its own manager)."""
    cooperative = await own_cooperative(user=user, cooperative_id=cooperative_id)
    changes = _read_profile(data)
    await Cooperative.filter(id=cooperative.id).update(**changes)
    await cooperative.refresh_from_db()
    return cooperative


async def managers_of(*, user: User, cooperative_id: int) -> list[User]:
    await own_cooperative(user=user, cooperative_id=cooperative_id)
    return list(
        await User.filter(cooperative_id=cooperative_id, role=Role.MANAGER).order_by("name", "id")
    )


async def set_picture(
    *, user: User, cooperative_id: int, data: bytes, store: PhotoStore
) -> Cooperative:
    """Give the cooperative (an admin's, or its own manager's) the picture customers see
    beside its plans: checked and shrunk by the field photos' pipeline (decoded in a worker
    thread), stored, and the one it replaces deleted."""
    cooperative = await own_cooperative(user=user, cooperative_id=cooperative_id)
    if not data:
        raise FieldErrors({"picture": _("Choose a JPEG, PNG or WebP photo.")})
    try:
        checked = await check_in_thread(data)
    except BadPhoto as problem:
        raise FieldErrors({"picture": problem.message}) from None
    name = await store.save(checked)
    old = cooperative.picture
    changed = await Cooperative.filter(id=cooperative.id, picture=old).update(picture=name)
    if not changed:  # replaced by someone else meanwhile: theirs stays, ours goes
        await store.delete(name)
        await cooperative.refresh_from_db()
        return cooperative
    if old:
        await store.delete(old)
    cooperative.picture = name
    return cooperative


async def cooperative_picture(*, cooperative_id: int) -> str:
    """The name of a cooperative's picture (public: customers see it); else not found."""
    found = await Cooperative.get_or_none(id=cooperative_id).values_list("picture", flat=True)
    if not found:
        raise _not_found()
    return str(found)


# ---- invitations ----


@dataclass(frozen=True)
class InvitationInput:
    email: str
    name: str = ""


async def invite_manager(
    *,
    user: User,
    cooperative_id: int,
    data: InvitationInput,
    language: str,
    secret: str,
    links: Links,
    now: datetime,
    queue_mail: QueueMail,
) -> User:
    """Make a manager's account for the cooperative, with a password nobody knows, and queue
    an email with a link (good for 7 days, once) where its owner chooses name and password.
    An invitation not yet accepted is sent again (a new link; the old one is dead); an
    address with any other account is refused (FieldErrors on `email`)."""
    cooperative = await own_cooperative(user=user, cooperative_id=cooperative_id)
    mail = invitations.letter(
        "invite", N_("You are invited to manage %(cooperative)s"), cooperative=cooperative.name
    )
    return await invitations.invite_staff(
        email=data.email, name=data.name, language=language,
        scope={"role": Role.MANAGER, "cooperative_id": cooperative.id},
        taken=_("This email address already has an account."), mail=mail,
        secret=secret, links=links, now=now, queue_mail=queue_mail,
    )  # fmt: skip


# ---- staff accounts ----


@dataclass(frozen=True)
class StaffRow:
    id: int
    name: str
    email: str
    role: str
    is_active: bool
    cooperative: str  # the manager's cooperative, or the staff's partner's
    partner: str
    by_admin: bool = False  # deactivated by an admin: only an admin reactivates it
    invited: bool = False  # invited, not joined yet


def _staff_query(user: User) -> Q:
    """The staff accounts `user` may deactivate or reactivate (themself excluded)."""
    if user.role == Role.ADMIN:
        scope = Q(role__in=list(STAFF_ROLES))
    elif user.role == Role.MANAGER and user.cooperative_id is not None:
        scope = Q(role=Role.MANAGER, cooperative_id=user.cooperative_id) | Q(
            role=Role.PARTNER_STAFF, partner__cooperative_id=user.cooperative_id
        )
    else:
        raise _not_found()
    return scope & ~Q(id=user.id)


async def list_staff(*, user: User, text: str, page: int) -> Page[StaffRow]:
    """The staff accounts `user` looks after, by name; `text` finds a name or email."""
    query = User.filter(_staff_query(user))
    if text:
        query = query.filter(Q(name__icontains=text) | Q(email__icontains=text))
    found: Page[User] = await paginate(query, page=page, size=PAGE_SIZE, order_by=("name", "id"))
    partner_ids = {u.partner_id for u in found.items if u.partner_id}
    partners = {p.id: p for p in await Partner.filter(id__in=partner_ids)} if partner_ids else {}
    coop_ids = {u.cooperative_id for u in found.items if u.cooperative_id} | {
        p.cooperative_id for p in partners.values()
    }
    coops = {c.id: c for c in await Cooperative.filter(id__in=coop_ids)} if coop_ids else {}
    by_ids = {u.deactivated_by_id for u in found.items if u.deactivated_by_id}  # type: ignore[attr-defined]
    admins = set(
        await User.filter(id__in=by_ids, role=Role.ADMIN).values_list("id", flat=True)
    ) if by_ids else set()  # fmt: skip
    rows = []
    for u in found.items:
        partner = partners.get(u.partner_id) if u.partner_id else None
        coop_id = partner.cooperative_id if partner else u.cooperative_id
        coop = coops.get(coop_id) if coop_id else None
        rows.append(
            StaffRow(
                id=u.id,
                name=u.name,
                email=u.email,
                role=str(u.role),
                is_active=u.is_active,
                cooperative=coop.name if coop else "",
                partner=partner.name if partner else "",
                by_admin=u.deactivated_by_id in admins,  # type: ignore[attr-defined]
                invited=u.invitation_pending,
            )  # fmt: skip
        )
    return Page(items=rows, number=found.number, size=found.size, total=found.total)


async def set_active(
    *, user: User, staff_id: int, active: bool, now: datetime | None = None
) -> User:
    """Deactivate (its sessions end at once, it cannot log in) or reactivate a staff
    account `user` looks after; anything else, themself included, is not found.
    Who deactivated it is kept: an account an admin deactivated is reactivated by an admin
    only (409 for a manager)."""
    target = await User.filter(_staff_query(user), id=staff_id).first()
    if target is None:
        raise _not_found()
    if active and user.role != Role.ADMIN and target.deactivated_by_id is not None:  # type: ignore[attr-defined]
        by = await User.get_or_none(id=target.deactivated_by_id)  # type: ignore[attr-defined]
        if by is not None and by.role == Role.ADMIN:
            raise Conflict(
                _("The platform's administrators deactivated this account: only they can "
                  "reactivate it.")
            )  # fmt: skip
    by_id = None if active else user.id
    await User.filter(id=target.id).update(is_active=active, deactivated_by_id=by_id)
    if not active:
        await sessions.end_sessions_of(target.id, now=now or datetime.now(UTC))
    target.is_active = active
    return target
