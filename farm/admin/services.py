"""Onboarding and staff accounts: the platform's cooperatives and their profiles, managers
invited by mail, and staff accounts deactivated or reactivated.

Who may do what: an admin, anything here for any cooperative and any staff account; a
manager, their own cooperative's profile and managers (never themself) and the staff of its
partners. Anything else is "not found", so another cooperative's records are not revealed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts import rules as account_rules
from farm.accounts import sessions
from farm.accounts.models import Role, User
from farm.accounts.services import QueueMail, add_staff_account, hash_password
from farm.errors import NotFound
from farm.i18n import _
from farm.land.models import Cooperative
from farm.links import Links
from farm.paging import Page, paginate
from farm.partners.models import Partner

PAGE_SIZE = 50
INVITATION_MAX_AGE_S = 7 * 24 * 3600
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


# ---- invitations ----


def _invitations(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="manager-invitation")


def _fingerprint(password_hash: str) -> str:
    # Choosing a password changes this, so an invitation works once.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


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
    An address that already has an account is refused (FieldErrors on `email`)."""
    cooperative = await own_cooperative(user=user, cooperative_id=cooperative_id)
    email = account_rules.normalize_email(data.email)
    invited = await add_staff_account(
        email=data.email, name=data.name.strip() or (email or "").split("@")[0],
        language=language, role=Role.MANAGER, cooperative_id=cooperative.id,
        taken=_("This email address already has an account."),
    )  # fmt: skip
    token = _invitations(secret).dumps({"u": invited.id, "h": _fingerprint(invited.password_hash)})
    coop_name = cooperative.name

    def render() -> tuple[str, str]:
        body = _(
            "Hello,\n\nYou are invited to manage %(cooperative)s on the farm's website. "
            "Open this link within 7 days to choose your name and password:\n%(link)s\n\n"
            "If you did not expect this, ignore this email."
        ) % {"cooperative": coop_name, "link": links.invitation(token)}
        return _("You are invited to manage %(cooperative)s") % {"cooperative": coop_name}, body

    await queue_mail(user=invited, key=f"invite:{invited.id}", render=render, now=now)
    return invited


async def invited_user(*, token: str, secret: str) -> User:
    """The manager an invitation link names, while it is unused and fresh; else not found."""
    try:
        data = _invitations(secret).loads(token, max_age=INVITATION_MAX_AGE_S)
        user = await User.get_or_none(id=int(data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        user, data = None, {}
    if (
        user is None
        or not user.is_active
        or user.role != Role.MANAGER
        or data.get("h") != _fingerprint(user.password_hash)
    ):
        raise NotFound(_("This invitation is invalid, used or expired. Ask for a new one."))
    return user


async def accept_invitation(*, token: str, secret: str, name: str, password: str) -> User:
    """The invited manager chooses their name and password; the link is then spent."""
    async with in_transaction():
        user = await invited_user(token=token, secret=secret)
        form = forms.Form()
        if not name.strip():
            form.refuse("name", _("Enter your name."))
        clean_name = form.read("name", forms.text, name, limit=100)
        form.read("password", account_rules.password, password)
        form.check()
        assert clean_name is not None
        user.name = clean_name
        user.password_hash = await hash_password(password)
        await user.save(update_fields=["name", "password_hash"])
    return user


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
            )  # fmt: skip
        )
    return Page(items=rows, number=found.number, size=found.size, total=found.total)


async def set_active(
    *, user: User, staff_id: int, active: bool, now: datetime | None = None
) -> User:
    """Deactivate (its sessions end at once, it cannot log in) or reactivate a staff
    account `user` looks after; anything else, themself included, is not found."""
    target = await User.filter(_staff_query(user), id=staff_id).first()
    if target is None:
        raise _not_found()
    await User.filter(id=target.id).update(is_active=active)
    if not active:
        await sessions.end_sessions_of(target.id, now=now or datetime.now(UTC))
    target.is_active = active
    return target
