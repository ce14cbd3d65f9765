"""Signed links mailed to an account's owner: a password reset and a staff invitation, one
way. A token names the account and a fingerprint of its password hash, signed with the
secret key and a salt per purpose, and dated. Choosing a password changes the hash, so a
link works once; giving the account a new password nobody knows (an invitation sent again)
kills every link sent before."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, URLSafeTimedSerializer
from tortoise.backends.base.client import BaseDBAsyncClient

from farm.accounts.models import User

RESET = "password-reset"
INVITATION = "manager-invitation"  # the salt of the links already sent, partner staff's too


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=purpose)


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def make_token(*, secret: str, purpose: str, user: User) -> str:
    return _serializer(secret, purpose).dumps({"u": user.id, "h": fingerprint(user.password_hash)})


async def account_of(
    token: str,
    *,
    secret: str,
    purpose: str,
    max_age_s: int,
    conn: BaseDBAsyncClient | None = None,
) -> User | None:
    """The active account a token was made for, while it is fresh and the password is the
    one it was made with; else None. Within `conn` the account's row is locked first and
    checked under the lock, so of two submits of one link at the same moment the second
    finds it spent."""
    try:
        data = _serializer(secret, purpose).loads(token, max_age=max_age_s)
        user_id = int(data["u"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    query = User.filter(id=user_id)
    if conn is not None:
        query = query.select_for_update().using_db(conn)
    user = await query.first()
    if user is None or not user.is_active or data.get("h") != fingerprint(user.password_hash):
        return None
    return user
