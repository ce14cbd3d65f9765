from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    CUSTOMER = "customer"
    MANAGER = "manager"
    PARTNER_STAFF = "partner_staff"
    ADMIN = "admin"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=32, default="")
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20, default=Role.CUSTOMER)
    language = fields.CharField(max_length=10, default="zh_CN")
    cooperative: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Cooperative", null=True, related_name="managers", on_delete=fields.RESTRICT
    )
    partner: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.Partner", null=True, related_name="staff", on_delete=fields.RESTRICT
    )
    # A deactivated account cannot log in, and its sessions end at its next request.
    is_active = fields.BooleanField(default=True, db_default=True)
    # Bulk mail the family chose to get (farm.notifications.rules.BULK); other mail is always sent.
    mail_photos = fields.BooleanField(default=True, db_default=True)
    mail_announcements = fields.BooleanField(default=True, db_default=True)
    # Who deactivated it: a manager may not reactivate an account an admin deactivated.
    deactivated_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "farm.User", null=True, related_name=False, on_delete=fields.SET_NULL
    )
    # Invited and not yet joined: the invitation can be sent again (farm.accounts.invitations)
    invitation_pending = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When the owner opened the link mailed at sign-up (a customer reserves only after, when
    # FARM_REQUIRE_EMAIL_CONFIRMATION is on); accounts older than the column count as confirmed.
    email_confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"
        # staff among 100,000 customers: the staff lists by role and name, a cooperative's
        # managers, a partner's staff
        indexes = (("role", "name"), ("cooperative_id",), ("partner_id",))


class Attempt(Model):
    """One attempt counted against a limit (farm.accounts.limits): a login per account and
    per client address, a sign-up or a password reset per address. Written before the
    attempt is checked, so concurrent attempts count each other."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    key = fields.CharField(max_length=254)
    # The browser's device token (a login from a device its owner signed in on before)
    device = fields.CharField(max_length=32, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "attempts"
        indexes = (("kind", "key", "at"), ("at",))


class Session(Model):
    """A signed-in browser (farm.accounts.sessions). Its cookie holds a random token, and only the
    token's SHA-256 is kept, so a copy of this table opens no session. Logging out, a password
    change or reset, and deactivation end sessions here, wherever their cookie was copied."""

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "farm.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    user_agent = fields.CharField(max_length=120, default="")
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sessions"
        # a user's sessions (the account page, ending them all); the hourly purge
        indexes = (("user_id", "ended_at"), ("expires_at",))


class WindowCount(Model):
    """How many times `key` did `kind` in the fixed window starting at `window_start`
    (farm.accounts.counters): one row per address and hour, counted by one atomic upsert."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    key = fields.CharField(max_length=254)
    window_start = fields.DatetimeField()
    count = fields.IntField(default=0)

    class Meta:
        table = "window_counts"
        unique_together = (("kind", "key", "window_start"),)
        indexes = (("window_start",),)
