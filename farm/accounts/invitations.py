"""Staff invited by mail: a cooperative's managers (invited by an admin or another manager)
and its partners' staff (invited by its managers). The account is made with a password
nobody knows and a link good for 7 days and once (farm.accounts.tokens) is queued to it,
where its owner chooses their name and password. An invitation not yet accepted can be sent
again, expired or not: the account gets a new unknown password, so only the newest link
works."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime

from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts import rules, tokens
from farm.accounts.models import User
from farm.accounts.services import QueueMail, add_staff_account, hash_password
from farm.errors import FieldErrors, NotFound
from farm.i18n import _
from farm.letters import Letter
from farm.links import Links

MAX_AGE_S = 7 * 24 * 3600


def _gone() -> NotFound:
    return NotFound(_("This invitation is invalid, used or expired. Ask for a new one."))


def letter(kind: str, subject: str, **context: str) -> Callable[[str], Letter]:
    """An invitation's mail for `invite_staff`: the letter `kind` with `context` and the link;
    its `subject` (marked with N_) is translated when the mail is written, in its reader's
    language, and filled from `context`."""

    def mail(link: str) -> Letter:
        return Letter(kind, _(subject) % context, {**context, "link": link})

    return mail


async def invite_staff(
    *,
    email: str,
    name: str,
    language: str,
    scope: dict[str, object],
    taken: str,
    mail: Callable[[str], Letter | tuple[str, str]],
    secret: str,
    links: Links,
    now: datetime,
    queue_mail: QueueMail,
    name_required: bool = False,
) -> User:
    """Make (or, for an invitation still pending in the same place, renew) a staff account
    with the `scope` given (role and cooperative or partner), and queue its invitation:
    `mail(link)` words it (a Letter, or a plain subject and body). An address with any
    other account is refused with `taken`. A blank name is the address's local part, unless
    `name_required`."""
    clean = rules.normalize_email(email)
    found = await User.get_or_none(email=clean) if clean else None
    if found is not None:
        same = all(getattr(found, k) == v for k, v in scope.items())
        if not (found.invitation_pending and found.is_active and same):
            raise FieldErrors({"email": taken})
        invited = found  # sent again: a new password nobody knows kills the old link
        invited.password_hash = await hash_password(secrets.token_urlsafe(24))
        await User.filter(id=invited.id).update(password_hash=invited.password_hash)
    else:
        invited = await add_staff_account(
            email=email, language=language,
            name=name if name_required else name.strip() or (clean or "").split("@")[0],
            taken=taken, **scope,  # type: ignore[arg-type]
        )  # fmt: skip
        await User.filter(id=invited.id).update(invitation_pending=True)
        invited.invitation_pending = True
    token = tokens.make_token(secret=secret, purpose=tokens.INVITATION, user=invited)
    link = links.invitation(token)
    await queue_mail(
        user=invited, key=f"invite:{invited.id}:{uuid.uuid4().hex}",
        render=lambda: mail(link), now=now,
    )  # fmt: skip
    return invited


async def invited_user(*, token: str, secret: str) -> User:
    """The staff account an invitation link names, while it is unused and fresh."""
    user = await tokens.account_of(
        token, secret=secret, purpose=tokens.INVITATION, max_age_s=MAX_AGE_S
    )
    if user is None:
        raise _gone()
    return user


async def accept_invitation(*, token: str, secret: str, name: str, password: str) -> User:
    """The invited person chooses their name and password; the link is then spent. Two
    submits of one link at the same moment: the account's row is locked, the second finds
    the link spent (404)."""
    form = forms.Form()
    clean_name = form.read("name", forms.text, name, limit=100, required=True)
    form.read("password", rules.password, password)
    async with in_transaction() as conn:
        user = await tokens.account_of(
            token, secret=secret, purpose=tokens.INVITATION, max_age_s=MAX_AGE_S, conn=conn
        )
        if user is None:
            raise _gone()
        form.check()
        assert clean_name is not None
        user.name = clean_name
        user.password_hash = await hash_password(password)
        user.invitation_pending = False
        await user.save(
            using_db=conn, update_fields=["name", "password_hash", "invitation_pending"]
        )
    return user
