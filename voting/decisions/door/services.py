"""Door to door (扫楼) and proxies (委托书): the writes.

- ``door_vote_record``: a grid worker, with the owner present, records the owner's ballot for a
  unit in their grids' buildings (a moderator for any unit of the community); the vote is marked
  assisted with the reason and audited. The one path is ``vote_record(channel=Channel.DOOR)``.
- ``proxy_record`` / ``proxy_revoke``: a moderator records who holds a unit's vote, on what
  paper (the signed 委托书, an image or PDF kept under MEDIA_ROOT with a random name), and may
  revoke it until the holder has voted with it.
- ``proxy_vote_record``: the holder votes for the principal's unit
  (``vote_record(channel=Channel.PROXY)``).

Every refusal is a sentence (``Refused``; ``NotAllowed`` for a missing right).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.infra import clock
from agora.infra.errors import NotAllowed, Refused
from agora.infra.sanitize import clean_plain_text
from agora.roster.audit import audit_record
from agora.roster.names import display_name
from voting.decisions.ballots import CHANNEL_SENTENCES, RecordedVote, vote_record, when_text
from voting.decisions.rules import canvasses, decision_facts, manages
from voting.models import Channel, Decision, DecisionState, DecisionVote, Proxy, ProxyKind, VoteState
from voting.units import DecisionUnit, decision_unit

# Why the owner was helped: the common reasons a grid worker picks from, and "other" with text.
DOOR_REASONS: dict[str, Promise] = {
    "phone": _("Elderly owner, cannot use a phone"),
    "sight": _("Poor eyesight"),
    "family": _("Not at home, a family member arranged it"),
    "other": _("Other reason (please write it)"),
}
REASON_MAX = 200

# The signed proxy: what a phone photo or a scanner gives, recognised by its first bytes.
DOCUMENT_KINDS: dict[str, tuple[bytes, ...]] = {
    ".jpg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".pdf": (b"%PDF-",),
}
DOCUMENT_CONTENT_TYPES = {"image/jpeg": ".jpg", "image/pjpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# States in which a proxy may still be recorded: before the period ends.
PROXY_STATES = {DecisionState.DRAFT, DecisionState.ANNOUNCED, DecisionState.OPEN}


def _unit(decision: Decision, unit_key: str) -> DecisionUnit:
    unit = decision_unit(decision, unit_key)
    if unit is None:
        raise Refused(_("That unit is not on this decision's roster."), code="not_found")
    return unit


def door_reason_text(reason: str, text: str) -> str:
    """The stored reason: the common reason in Chinese (the records' language), and the words
    the grid worker added. Refuses an unknown reason, or "other" without words."""
    words = " ".join(clean_plain_text(text).split())
    if reason not in DOOR_REASONS:
        raise Refused(_("Please choose why the owner was helped."), code="reason")
    if reason == "other" and not words:
        raise Refused(_("Please write why the owner was helped."), code="reason")
    if reason == "other":
        return words[:REASON_MAX]
    with translation.override("zh-hans"):
        label = str(DOOR_REASONS[reason])
    return (f"{label}：{words}" if words else label)[:REASON_MAX]


def door_vote_record(
    *,
    decision: Decision,
    by: User,
    unit_key: str,
    choices: Mapping[int, Any],
    reason: str,
    reason_text: str = "",
    idempotency_key: str = "",
) -> RecordedVote:
    """Record a unit's ballot door to door, with the owner present (``by``: the grid worker)."""
    f = decision_facts(user=by, decision=decision)
    unit = _unit(decision, unit_key)
    if not canvasses(f, building_ids=unit.building_ids):
        raise NotAllowed(_("This unit is not in the buildings of your grids, so you cannot record its ballot."))
    assisted = door_reason_text(reason, reason_text)
    with transaction.atomic():
        recorded = vote_record(
            decision=decision,
            unit=unit,
            choices=choices,
            channel=Channel.DOOR,
            recorded_by=by,
            assisted_reason=assisted,
            idempotency_key=idempotency_key,
        )
        if not recorded.replayed:
            audit_record(
                kind="decision.door_vote",
                community=decision.community_id,
                actor=by,
                decision_id=decision.pk,
                unit_key=unit.unit_key,
                unit=unit.label,
                assisted=True,
                reason=assisted,
            )
    return recorded


# Proxies.


def document_extension(document: UploadedFile) -> str:
    """The stored file's extension, or a refusal: an image (JPEG, PNG) or a PDF, within the size
    limit, whose first bytes are what its declared type says."""
    limit = settings.AGORA_PROXY_DOCUMENT_MAX_BYTES
    if document.size is None or document.size == 0:
        raise Refused(_("The uploaded file is empty. Please take the photo or scan again."), code="document")
    if document.size > limit:
        raise Refused(
            _("The file is %(size).1f MB; at most %(limit).0f MB is accepted. Please send a smaller photo or scan.")
            % {"size": document.size / 1_048_576, "limit": limit / 1_048_576},
            code="document",
        )
    ext = DOCUMENT_CONTENT_TYPES.get((document.content_type or "").split(";")[0].strip().lower())
    document.seek(0)
    head = document.read(16)
    document.seek(0)
    if ext is None or not head.startswith(DOCUMENT_KINDS[ext]):
        raise Refused(_("The signed proxy must be a photo (JPEG or PNG) or a PDF scan."), code="document")
    return ext


def _already_voted(vote: DecisionVote) -> Refused:
    how = CHANNEL_SENTENCES.get(vote.channel, vote.channel)
    if vote.state in {VoteState.AWAITING_CHECK, VoteState.MISMATCH}:
        return Refused(
            _("This unit's paper ballot was entered at %(time)s and is being checked, so no proxy is recorded for it.")
            % {"time": when_text(vote.at)},
            code="already_voted",
        )
    return Refused(
        _("This unit has already voted %(how)s, at %(time)s, so no proxy is recorded for it.") % {"how": how, "time": when_text(vote.at)},
        code="already_voted",
    )


def holder_find(login: str) -> User:
    """The proxy holder's account by its login, or a refusal."""
    login = login.strip()
    holder = get_user_model().objects.filter(username=login, is_active=True).first() if login else None
    if holder is None:
        raise Refused(
            _("There is no active account with the login “%(login)s”. Make one for the holder first (in the admin), then record the proxy.")
            % {"login": login},
            code="holder",
        )
    return holder


@dataclass(frozen=True)
class ProxyTerms:
    kind: str
    scope: str
    valid_from: datetime
    valid_until: datetime


def proxy_record(
    *,
    decision: Decision,
    by: User,
    principal_unit_key: str,
    holder: User,
    terms: ProxyTerms,
    document: UploadedFile,
) -> Proxy:
    """Record a proxy for a unit that has not voted (moderators only)."""
    if not manages(decision_facts(user=by, decision=decision)):
        raise NotAllowed(_("Only the community's moderators can record proxies."))
    unit = _unit(decision, principal_unit_key)
    if terms.kind not in ProxyKind.values:
        raise Refused(_("Please choose the kind of proxy."), code="invalid")
    if terms.valid_until <= terms.valid_from:
        raise Refused(_("The proxy must end after it starts."), code="invalid")
    if holder.pk in unit.owner_user_ids:
        raise Refused(
            _("%(name)s is an owner of %(unit)s and votes for it themselves; a proxy is for someone else.")
            % {"name": display_name(holder), "unit": unit.label},
            code="holder",
        )
    ext = document_extension(document)
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state not in PROXY_STATES or clock.now() >= locked.closes_at:
            raise Refused(_("Voting on this decision has closed, so no proxy is recorded."), code="closed")
        voted = DecisionVote.objects.filter(decision=locked, unit_key=unit.unit_key).exclude(state=VoteState.VOIDED).first()
        if voted is not None:
            raise _already_voted(voted)
        live = Proxy.objects.filter(decision=locked, revoked_at__isnull=True)
        held = live.filter(principal_unit_key=unit.unit_key).select_related("holder").first()
        if held is not None:
            raise Refused(
                _("%(unit)s already has a proxy, held by %(name)s since %(time)s. Revoke it first to record another.")
                % {"unit": unit.label, "name": display_name(held.holder), "time": when_text(held.recorded_at)},
                code="duplicate",
            )
        count = live.filter(holder=holder).count()
        if count >= locked.proxies_per_holder:
            raise Refused(
                _("%(name)s already holds as many proxies in this decision as one holder may (%(limit)d).")
                % {"name": display_name(holder), "limit": locked.proxies_per_holder},
                code="limit",
            )
        proxy = Proxy(
            decision=locked,
            principal_unit_key=unit.unit_key,
            holder=holder,
            kind=terms.kind,
            scope=clean_plain_text(terms.scope)[:200],
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            recorded_by=by,
        )
        # A name nobody can guess: the file is served only to the community's moderators.
        proxy.document.save(secrets.token_urlsafe(24) + ext, document, save=False)
        proxy.save()
        audit_record(
            kind="decision.proxy_recorded",
            community=locked.community_id,
            actor=by,
            decision_id=locked.pk,
            proxy_id=proxy.pk,
            unit_key=unit.unit_key,
            unit=unit.label,
            holder_id=holder.pk,
            holder=display_name(holder),
            proxy_kind=terms.kind,
        )
    return proxy


def proxy_revoke(*, proxy: Proxy, by: User, reason: str) -> Proxy:
    """Revoke a proxy before its holder has voted with it (moderators only); after, refused."""
    decision = proxy.decision
    if not manages(decision_facts(user=by, decision=decision)):
        raise NotAllowed(_("Only the community's moderators can revoke proxies."))
    words = " ".join(clean_plain_text(reason).split())[:200]
    if not words:
        raise Refused(_("Please give the reason for revoking the proxy."), code="reason")
    with transaction.atomic():
        # The decision's lock first, as vote_record takes it: a vote with this proxy and its
        # revocation never cross.
        Decision.objects.select_for_update().get(pk=decision.pk)
        locked = Proxy.objects.select_for_update().select_related("holder").get(pk=proxy.pk)
        if locked.revoked_at is not None:
            raise Refused(_("This proxy was already revoked at %(time)s.") % {"time": when_text(locked.revoked_at)}, code="state")
        used = DecisionVote.objects.filter(proxy=locked).exclude(state=VoteState.VOIDED).first()
        if used is not None:
            raise Refused(
                _("%(name)s already voted with this proxy at %(time)s, so it can no longer be revoked.")
                % {"name": display_name(locked.holder), "time": when_text(used.at)},
                code="used",
            )
        locked.revoked_at = clock.now()
        locked.revoked_by = by
        locked.revoke_reason = words
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(
            kind="decision.proxy_revoked",
            community=decision.community_id,
            actor=by,
            decision_id=decision.pk,
            proxy_id=locked.pk,
            unit_key=locked.principal_unit_key,
            holder=display_name(locked.holder),
            reason=words,
        )
    return locked


def proxy_vote_record(
    *, decision: Decision, holder: User, proxy: Proxy, choices: Mapping[int, Any], idempotency_key: str = ""
) -> RecordedVote:
    """The holder votes for the principal's unit with their proxy."""
    if proxy.decision_id != decision.pk or proxy.holder_id != holder.pk:
        raise NotAllowed(_("This proxy is not yours."))
    if proxy.revoked_at is not None:
        raise Refused(_("This proxy was revoked, so it cannot be used to vote."), code="proxy_revoked")
    unit = _unit(decision, proxy.principal_unit_key)
    with transaction.atomic():
        recorded = vote_record(
            decision=decision,
            unit=unit,
            choices=choices,
            channel=Channel.PROXY,
            voter=holder,
            proxy=proxy,
            idempotency_key=idempotency_key,
        )
        if not recorded.replayed:
            audit_record(
                kind="decision.proxy_vote",
                community=decision.community_id,
                actor=holder,
                decision_id=decision.pk,
                proxy_id=proxy.pk,
                unit_key=unit.unit_key,
                unit=unit.label,
            )
    return recorded
