"""Account use cases: sign up, log in (slowed down after failures), reset a password."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts import limits, rules, sessions, tokens
from farm.accounts.models import Role, User
from farm.errors import DomainError, FieldErrors, NotFound, TooManyRequests
from farm.i18n import _
from farm.letters import Letter
from farm.links import Links

hasher = PasswordHasher()
RESET_MAX_AGE_S = 3600
# A hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = hasher.hash("not-a-real-password")


# argon2 is meant to be slow (tens of ms of CPU and 64 MiB, on several lanes): it runs in
# worker threads, so a wave of logins does not stall every other request on the event loop,
# and only a few at a time, so those threads cannot starve the loop of CPU either (a queue of
# logins waits its turn instead).
HASHING_THREADS = max(1, (os.cpu_count() or 2) // 2)
HASHING_NICENESS = 10
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _hashing_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = anyio.CapacityLimiter(HASHING_THREADS)
    return _limiters[loop]


def _yield_cpu_to_the_loop() -> None:
    """Lower this worker thread's priority (Linux: per thread; argon2's lane threads inherit
    it), so the event loop's thread wins the CPU while passwords are hashed."""
    with contextlib.suppress(AttributeError, OSError):
        if os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < HASHING_NICENESS:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


async def hash_password(password: str) -> str:
    def hash_() -> str:
        _yield_cpu_to_the_loop()
        return hasher.hash(password)

    return await anyio.to_thread.run_sync(hash_, limiter=_hashing_limiter())


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        _yield_cpu_to_the_loop()
        try:
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify, limiter=_hashing_limiter())


def check_new_account(*, email: str, name: str, password: str) -> tuple[str, str]:
    form = forms.Form()
    clean_email = form.read("email", rules.email, email)
    if not name.strip():
        form.refuse("name", _("Enter your name."))
    clean_name = form.read("name", forms.text, name, limit=100)
    form.read("password", rules.password, password)
    form.check()
    assert clean_email is not None and clean_name is not None
    return clean_email, clean_name


async def sign_up(
    *,
    email: str,
    name: str,
    password: str,
    language: str,
    role: Role = Role.CUSTOMER,
    cooperative_id: int | None = None,
    partner_id: int | None = None,
    address: str = "",
    now: datetime | None = None,
) -> User:
    """Create an account. Staff roles need their cooperative or partner. A sign-up from the
    web counts against its client address (farm.accounts.limits)."""
    clean_email, clean_name = check_new_account(email=email, name=name, password=password)
    if address and now is not None:
        await limits.take(limits.SIGNUP_ADDRESS, address, now=now)
    if role == Role.MANAGER and cooperative_id is None:
        raise DomainError(_("A manager belongs to a cooperative."))
    if role == Role.PARTNER_STAFF and partner_id is None:
        raise DomainError(_("Partner staff belong to a partner."))
    try:
        return await User.create(
            email=clean_email,
            name=clean_name,
            password_hash=await hash_password(password),
            role=role,
            language=language,
            cooperative_id=cooperative_id if role == Role.MANAGER else None,
            partner_id=partner_id if role == Role.PARTNER_STAFF else None,
        )
    except IntegrityError:
        raise FieldErrors(
            {"email": _("An account with this email already exists. Try logging in.")}
        ) from None


CONFIRM_MAX_AGE_S = 7 * 24 * 3600


def _confirm_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="email-confirm")


async def register_customer(
    *,
    email: str,
    name: str,
    password: str,
    language: str,
    address: str,
    now: datetime,
    confirm: bool,
    secret: str,
    links: Links,
    queue_mail: QueueMail,
) -> User | None:
    """Sign-up from the web, saying nothing about whether the address has an account: the new
    customer (with `confirm`, a link to confirm the address is queued for them), or None when
    the address was taken, and then its owner is told by mail instead. Both take as long (a
    password is hashed either way) and count against the client's address."""
    clean_email, clean_name = check_new_account(email=email, name=name, password=password)
    await limits.take(limits.SIGNUP_ADDRESS, address, now=now)
    password_hash = await hash_password(password)
    owner = await User.get_or_none(email=clean_email)
    if owner is None:
        try:
            user = await User.create(
                email=clean_email, name=clean_name, password_hash=password_hash,
                role=Role.CUSTOMER, language=language,
            )  # fmt: skip
        except IntegrityError:  # registered at the same moment
            owner = await User.get_or_none(email=clean_email)
        else:
            await _queue_welcome(
                user, confirm=confirm, secret=secret, links=links, now=now, queue_mail=queue_mail
            )
            return user
    if owner is not None and owner.is_active:
        await _tell_owner_of_signup(owner, links=links, now=now, queue_mail=queue_mail)
    return None


async def _tell_owner_of_signup(
    owner: User, *, links: Links, now: datetime, queue_mail: QueueMail
) -> None:
    try:
        await limits.take(limits.SIGNUP_ACCOUNT, owner.email, now=now)
    except TooManyRequests:
        return  # told often enough this hour

    def render() -> Letter:
        return Letter("signup_taken", _("Someone tried to sign up with your address"), {
            "name": owner.name, "login": links.to("/login"), "forgot": links.to("/password/forgot"),
        })  # fmt: skip

    await queue_mail(user=owner, key=f"signup-taken:{owner.id}:{uuid.uuid4().hex}",
                     render=render, now=now)  # fmt: skip


def _confirmation_link(user: User, *, secret: str, links: Links) -> str:
    return links.email_confirmation(
        _confirm_serializer(secret).dumps({"u": user.id, "e": user.email})
    )


async def _queue_welcome(
    user: User, *, confirm: bool, secret: str, links: Links, now: datetime, queue_mail: QueueMail
) -> None:
    """The one mail a new customer gets at sign-up: welcome, what comes next, and (when the
    address must be confirmed first) the link that confirms it."""
    confirm_link = _confirmation_link(user, secret=secret, links=links) if confirm else ""

    def render() -> Letter:
        return Letter("welcome", _("Welcome to Our Farm Plot"), {
            "name": user.name, "confirm_link": confirm_link, "plans": links.to("/"),
            "account": links.to("/account"),
        })  # fmt: skip

    await queue_mail(user=user, key=f"welcome:{user.id}", render=render, now=now)


async def _queue_confirmation(
    user: User, *, secret: str, links: Links, now: datetime, queue_mail: QueueMail
) -> None:
    link = _confirmation_link(user, secret=secret, links=links)

    def render() -> Letter:
        return Letter("confirm", _("Confirm your email address"), {"name": user.name, "link": link})

    await queue_mail(user=user, key=f"confirm:{user.id}:{uuid.uuid4().hex}", render=render,
                     now=now)  # fmt: skip


async def send_confirmation(
    *, user: User, secret: str, links: Links, now: datetime, queue_mail: QueueMail
) -> None:
    """Mail the confirmation link again (a few times an hour at most: TooManyRequests)."""
    if user.email_confirmed_at is not None:
        return
    await limits.take(limits.CONFIRM_ACCOUNT, user.email, now=now)
    await _queue_confirmation(user, secret=secret, links=links, now=now, queue_mail=queue_mail)


async def confirm_email(*, token: str, secret: str, now: datetime) -> User:
    """The account whose address the link confirms, confirmed (once: opening it again
    changes nothing). NotFound for a forged, expired or outdated link."""
    try:
        data = _confirm_serializer(secret).loads(token, max_age=CONFIRM_MAX_AGE_S)
        user = await User.get_or_none(id=int(data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        user, data = None, {}
    if user is None or not user.is_active or data.get("e") != user.email:
        raise NotFound(
            _("This confirmation link is invalid or has expired. Log in to get a new one.")
        )
    await User.filter(id=user.id, email_confirmed_at__isnull=True).update(email_confirmed_at=now)
    return await User.get(id=user.id)


async def add_staff_account(
    *,
    email: str,
    name: str,
    language: str,
    role: Role,
    cooperative_id: int | None = None,
    partner_id: int | None = None,
    taken: str,
) -> User:
    """A staff account made for someone else, with a password nobody knows (its owner chooses
    one through a link mailed to them). An address that already has an account is refused
    with `taken` (FieldErrors on `email`), and nothing is written."""
    refused = FieldErrors({"email": taken})
    clean = rules.normalize_email(email)
    if clean is not None and await User.filter(email=clean).exists():
        raise refused
    try:
        return await sign_up(
            email=email, name=name, password=secrets.token_urlsafe(24), language=language,
            role=role, cooperative_id=cooperative_id, partner_id=partner_id,
        )  # fmt: skip
    except FieldErrors as exc:
        if "email" in exc.errors and clean is not None:  # registered at the same moment
            raise refused from None
        raise


async def authenticate(
    *,
    email: str,
    password: str,
    now: datetime,
    free_attempts: int,
    address: str = "",
    device_cookie: str = "",
    secret: str = "",
) -> User:
    """The user of this email and password. An email that is not one, or nothing typed, is
    refused field by field (FieldErrors, 422) and counts as no attempt; a wrong password is
    counted, and too many failures for the account, or from the client's address, wait
    (TooManyRequests: farm.accounts.limits). A browser that signed in to the account before
    (its device cookie) is counted on its own, so others' guesses cannot lock the owner out."""
    form = forms.Form()
    clean = form.read("email", rules.email, email)
    form.read("password", rules.typed_password, password)
    form.check()
    assert clean is not None
    user = await User.get_or_none(email=clean)
    taken = []
    if address:
        taken.append(await limits.take(limits.LOGIN_ADDRESS, address, now=now))
    device = limits.device_of(device_cookie, secret=secret, user_id=user.id if user else None)
    try:
        taken.append(
            await limits.take(
                limits.LOGIN_ACCOUNT, clean, now=now, device=device, free=free_attempts
            )
        )
    except TooManyRequests:
        await limits.forgive(*taken)
        raise
    ok = await verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.is_active:  # counted: they are failures
        # A deactivated account is refused like a wrong password: nothing more is said.
        raise DomainError(_("Wrong email or password."), status_code=400)
    await limits.forgive(*taken)
    await limits.clear(limits.LOGIN_ACCOUNT, clean)
    return user


# notifications.services.queue_mail, which the app passes down (notifications stands above
# accounts): (user=, key=, render=, now=) -> queued or not; render returns a farm.letters.Letter.
QueueMail = Callable[..., Awaitable[bool]]


async def request_password_reset(
    *,
    email: str,
    secret: str,
    links: Links,
    now: datetime,
    queue_mail: QueueMail,
    address: str = "",
) -> None:
    """Queue a reset link for the account's owner (the scheduler's send_mail job sends it),
    if the account exists and has not asked too often; say nothing either way. Only too many
    requests from one address are refused, which says nothing about any account."""
    form = forms.Form()
    clean = form.read("email", rules.email, email)
    form.check()
    if address:
        await limits.take(limits.RESET_ADDRESS, address, now=now)
    user = await User.get_or_none(email=clean)
    if user is None or not user.is_active:
        return
    try:
        await limits.take(limits.RESET_ACCOUNT, clean, now=now)
    except TooManyRequests:
        return  # the owner has links enough in their inbox
    token = tokens.make_token(secret=secret, purpose=tokens.RESET, user=user)

    def render() -> Letter:
        return Letter(
            "reset",
            _("Reset your password"),
            {"name": user.name, "link": links.password_reset(token)},
        )

    await queue_mail(user=user, key=f"reset:{user.id}:{uuid.uuid4().hex}", render=render, now=now)


async def user_for_reset_token(
    *, token: str, secret: str, conn: BaseDBAsyncClient | None = None
) -> User:
    """The account a reset link is for (locked, within `conn`); else not found."""
    user = await tokens.account_of(
        token, secret=secret, purpose=tokens.RESET, max_age_s=RESET_MAX_AGE_S, conn=conn
    )
    if user is None:
        raise NotFound(_("This reset link is invalid or has expired. Ask for a new one."))
    return user


async def reset_password(
    *,
    token: str,
    password: str,
    secret: str,
    now: datetime | None = None,
    links: Links | None = None,
    queue_mail: QueueMail | None = None,
) -> User:
    """Set the new password; every session of the account ends (the caller opens a new one
    for the browser that reset it). With `queue_mail`, the owner is told by mail that the
    password changed (once a change), in case it was not them."""
    at = now or datetime.now(UTC)
    async with in_transaction() as conn:
        user = await user_for_reset_token(token=token, secret=secret, conn=conn)
        form = forms.Form()
        form.read("password", rules.password, password)
        form.check()
        user.password_hash = await hash_password(password)
        await user.save(using_db=conn, update_fields=["password_hash"])
        await limits.clear(limits.LOGIN_ACCOUNT, user.email)
        await sessions.end_sessions_of(user.id, now=at, conn=conn)
        if queue_mail is not None:
            await queue_password_changed(
                user, links=links, now=at, queue_mail=queue_mail, conn=conn
            )
    return user


async def queue_password_changed(
    user: User,
    *,
    links: Links | None,
    now: datetime,
    queue_mail: QueueMail,
    conn,
    others_signed_out: bool = False,
) -> None:
    """The owner's mail that the password changed; `others_signed_out`: the device that
    changed it stays signed in (a change from the account), else every device was."""
    forgot = links.to("/password/forgot") if links else ""

    def render() -> Letter:
        return Letter("password_changed", _("Your password was changed"), {
            "name": user.name, "when": f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            "forgot": forgot, "others_signed_out": others_signed_out,
        })  # fmt: skip

    await queue_mail(
        user=user, key=f"password-changed:{user.id}:{uuid.uuid4().hex}", render=render, now=now,
        conn=conn,
    )  # fmt: skip


async def set_language(*, user: User, language: str) -> None:
    user.language = language
    await user.save(update_fields=["language"])
