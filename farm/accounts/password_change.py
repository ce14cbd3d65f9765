"""A signed-in user changes their password, proving the current one first."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts import limits, rules, sessions
from farm.accounts.models import User
from farm.accounts.services import (
    QueueMail,
    hash_password,
    queue_password_changed,
    verify_password,
)
from farm.errors import Conflict, DomainError
from farm.i18n import _
from farm.links import Links


def _confirmed(new: str, *, confirm: str) -> str:
    if confirm != new:
        raise forms.Problem("mismatch", _("The two new passwords are not the same."))
    return confirm


def check_change(*, current: str, new: str, confirm: str) -> None:
    """The form's fields, each refused with its own problem (FieldErrors, 422): nothing
    typed as the current password, a new one too short or too long, a confirmation that
    differs. Such a form counts as no attempt."""
    form = forms.Form()
    form.read("current", rules.typed_password, current)
    form.read("password", rules.password, new)
    if "password" not in form:
        form.read("confirm", _confirmed, new, confirm=confirm)
    form.check()


async def change_password(
    *,
    user: User,
    current: str,
    new: str,
    confirm: str,
    now: datetime,
    keep_session_id: int | None,
    links: Links,
    queue_mail: QueueMail,
) -> None:
    """Set a new password for `user` if `current` is theirs. A wrong current password is
    refused (400) and counted against limits.PASSWORD_CHANGE (TooManyRequests once there were
    too many); a right one is not. On success every other session of the user ends (the one
    asking, `keep_session_id`, stays open), failed logins on the account are forgotten, and
    the owner is mailed once that the password changed, in their language. argon2 runs in
    worker threads, outside the transaction; the new hash is written only over the hash that
    was checked, so two changes at once cannot both pass on the same current password."""
    check_change(current=current, new=new, confirm=confirm)
    attempt = await limits.take(limits.PASSWORD_CHANGE, str(user.id), now=now)
    checked = (await User.get(id=user.id)).password_hash
    if not await verify_password(checked, current):  # stays counted: it was a guess
        raise DomainError(
            _("The current password is not right. Nothing was changed."), status_code=400
        )
    await limits.forgive(attempt)
    new_hash = await hash_password(new)
    async with in_transaction() as conn:
        changed = (
            await User.filter(id=user.id, password_hash=checked)
            .using_db(conn)
            .update(password_hash=new_hash)
        )
        if not changed:
            raise Conflict(_("Your password was changed meanwhile. Nothing was changed now."))
        await sessions.end_sessions_of(user.id, now=now, keep_id=keep_session_id, conn=conn)
        await queue_password_changed(
            user, links=links, now=now, queue_mail=queue_mail, conn=conn,
            others_signed_out=keep_session_id is not None,
        )  # fmt: skip
    await limits.clear(limits.LOGIN_ACCOUNT, user.email)
    user.password_hash = new_hash
