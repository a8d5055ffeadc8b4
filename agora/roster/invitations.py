"""Invitation sheets: a one-time login code per person, printed by a moderator (WCAG 2.2 3.3.8: a
login that needs no memory test).

A code is 12 characters from 31 letters and digits that are not mistaken for each other (no 0/O,
1/I/L): 59 bits, printed ``XXXX-XXXX-XXXX``, typed in any case with or without the dashes. Only
its HMAC (SHA-256, keyed by ``SECRET_KEY``) is stored, so a copy of the database cannot be used to
log in. A code works once, until it expires (``INVITATION_DAYS``), unless it is revoked; printing a
new sheet for a person revokes their codes not yet used. Wrong codes are limited per address (and
per account when one is logged in) by ``agora.infra.guess_limits``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import Refused
from agora.infra.guess_limits import GuessLimit
from agora.roster.audit import audit_record
from agora.roster.models import Community, Invitation
from agora.roster.stewardship import care_check

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
INVITATION_DAYS = 30
CODE_GUESSES = GuessLimit("invitation", per_account=10, per_address=20, window_seconds=60, pause_seconds=600)


@dataclass(frozen=True)
class IssuedCode:
    invitation: Invitation
    code: str  # in plain, only until it is printed


def code_normalized(typed: str) -> str:
    """What a person typed or scanned, as the code: upper case, without spaces or dashes."""
    return "".join(typed.split()).upper().replace("-", "").replace("－", "")


def code_printed(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"invitation:" + code.encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def invitation_issue(*, user: Any, community: Community, by: Any, ip_address: str | None = None) -> IssuedCode:
    """A new code for ``user`` (their codes not yet used stop working). Call inside a transaction
    with the other codes of the same print run."""
    care_check(user=user, community=community)
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    code = _new_code()
    invitation = Invitation.objects.create(
        user=user, community=community, code_hash=code_hash(code), issued_by=by, expires_at=now + timedelta(days=INVITATION_DAYS)
    )
    audit_record(kind="invitation.issued", community=community, actor=by, ip_address=ip_address, username=user.get_username())
    return IssuedCode(invitation, code)


def invitation_revoke(*, user: Any, community: Community, by: Any, ip_address: str | None = None) -> int:
    """Revoke every code of ``user`` not yet used; how many."""
    care_check(user=user, community=community)
    revoked = Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        audit_record(kind="invitation.revoked", community=community, actor=by, ip_address=ip_address, username=user.get_username())
    return revoked


WRONG_CODE = _(
    "This code is not valid. Check the code on your sheet; if it has been used or has expired, ask your community office for a new sheet."
)
PAUSED = _("Too many wrong codes from this device. Wait 10 minutes, then try again, or ask your community office.")


def invitation_redeem(*, typed: str, ip_address: str, user_id: int | None = None) -> Any:
    """The account a code logs in, once. Unknown, used, expired and revoked codes all get the same
    sentence (a guesser learns nothing) and each counts as a wrong guess."""
    if CODE_GUESSES.paused(address=ip_address, user_id=user_id):
        raise Refused(PAUSED, code="rate_limited")
    code = code_normalized(typed)
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("user", "community").filter(code_hash=code_hash(code)).first()
            if len(code) == CODE_LENGTH
            else None
        )
        usable = (
            invitation is not None
            and invitation.used_at is None
            and invitation.revoked_at is None
            and invitation.expires_at > now
            and invitation.user.is_active
        )
        if not usable:
            CODE_GUESSES.failed(address=ip_address, user_id=user_id)
            raise Refused(WRONG_CODE, code="wrong_code")
        assert invitation is not None
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
        audit_record(kind="invitation.used", community=invitation.community, actor=invitation.user, ip_address=ip_address)
    return invitation.user


def password_set_by_moderator(*, user: Any, community: Community, password: str, by: Any, ip_address: str | None = None) -> None:
    care_check(user=user, community=community)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(kind="account.password_set", community=community, actor=by, ip_address=ip_address, username=user.get_username())


def password_choose(*, user: Any, password: str, ip_address: str | None = None) -> None:
    """The person sets their own password after logging in with a code."""
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    for community_id in {i.community_id for i in Invitation.objects.filter(user=user)}:
        audit_record(kind="account.password_chosen", community=community_id, actor=user, ip_address=ip_address)


def invitation_state(invitations: list[Invitation]) -> str:
    """The latest sheet's state for the residents page: none, open, used, expired, revoked."""
    if not invitations:
        return "none"
    latest = invitations[0]
    if latest.used_at:
        return "used"
    if latest.revoked_at:
        return "revoked"
    return "expired" if latest.expires_at <= timezone.now() else "open"
