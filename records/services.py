"""Writes for minutes, follow-up and the needs list. Every rule and refusal lives here."""

from __future__ import annotations

import html
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra import hashchain as chain
from agora.infra.errors import NotAllowed, Refused
from agora.infra.isotime import iso_utc
from agora.infra.sanitize import clean_plain_text
from agora.roster.audit import audit_record
from agora.roster.models import Building, Community
from agora.roster.names import display_name
from agora.roster.roles import is_moderator
from records import rules, search, voting_bridge
from records.content import SCHEMA, held_on, minutes_content, outcome_of
from records.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    ChainHead,
    MinutesDraft,
    MinutesRecord,
    Need,
    NeedStatus,
    NeedSupport,
    RecordKind,
    SatisfactionRating,
    SearchToken,
    Visibility,
)
from sessions.models import Category, TopicSession
from sessions.services import topic_session_archive, topic_session_create

SUMMARY_MAX = 5000
# Which status may follow which (PRODUCT.md: pending / in progress / done / dropped).
ACTION_MOVES: dict[str, set[str]] = {
    ActionStatus.PENDING: {ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.DROPPED},
    ActionStatus.IN_PROGRESS: {ActionStatus.PENDING, ActionStatus.DONE, ActionStatus.DROPPED},
    ActionStatus.DONE: {ActionStatus.IN_PROGRESS},
    ActionStatus.DROPPED: {ActionStatus.PENDING},
}


def plain(text: str) -> str:
    """User text → plain characters: tags stripped by agora.infra.sanitize; templates escape on output."""
    return html.unescape(clean_plain_text(text or "")).replace("\r\n", "\n")


# --- Minutes -----------------------------------------------------------------------------


def minutes_draft_generate(*, session: TopicSession, by: User) -> tuple[MinutesDraft, dict[str, Any]]:
    """The session's draft (created on first call) and the minutes as they would be published now."""
    if not rules.can_draft_minutes(user=by, session=session):
        if not is_moderator(user=by, community=session.community_id):
            raise NotAllowed(_("Only a moderator of this community can draft the minutes."))
        raise Refused(_("Minutes can be drafted once the session is adjourned, until they are published."), code="state")
    draft, _created = MinutesDraft.objects.get_or_create(session=session, defaults={"created_by": by})
    return draft, _draft_content(session, draft, by=by, at=timezone.now())


def _draft_content(session: TopicSession, draft: MinutesDraft, *, by: User, at: datetime) -> dict[str, Any]:
    """The minutes of the draft as ``by`` would publish them at ``at``."""
    return minutes_content(
        session=session,
        summaries=draft.summaries,
        visibility=draft.visibility,
        published_by=display_name(by),
        published_by_id=by.pk,
        published_at=at,
    )


def minutes_draft_save(*, session: TopicSession, by: User, summaries: dict[str, str], visibility: str) -> MinutesDraft:
    if not rules.can_draft_minutes(user=by, session=session):
        raise NotAllowed(_("Only a moderator of this community can draft the minutes."))
    if visibility not in Visibility.values:
        raise Refused(_("Choose who may read the minutes."), code="invalid")
    valid_keys = {str(pk) for pk in session.agenda_items.values_list("pk", flat=True)} | {"general"}
    cleaned: dict[str, str] = {}
    for key, text in summaries.items():
        if key not in valid_keys:
            continue
        text = plain(text).strip()
        if len(text) > SUMMARY_MAX:
            raise Refused(_("A summary is too long (at most %(limit)d characters).") % {"limit": SUMMARY_MAX}, code="too_long")
        if text:
            cleaned[key] = text
    draft, _created = MinutesDraft.objects.get_or_create(session=session, defaults={"created_by": by})
    draft.summaries = cleaned
    draft.visibility = visibility
    draft.save()
    return draft


def _chain_append(
    *,
    session: TopicSession,
    by: User,
    content: dict[str, Any],
    kind: str,
    corrects: MinutesRecord | None,
    check: Any = None,
) -> MinutesRecord:
    """Append one sealed record to the community's chain. Call inside transaction.atomic().

    The head row is locked (select_for_update) so concurrent publications queue; the
    unique (community, prev_hash) constraint is the backstop if anything slipped past.
    """
    community = session.community
    try:
        with transaction.atomic():
            ChainHead.objects.get_or_create(community=community, defaults={"head_hash": chain.GENESIS})
    except IntegrityError:
        pass  # another publication created it a moment ago
    head = ChainHead.objects.select_for_update().get(community=community)
    if check is not None:
        check()
    seq = head.length + 1
    record = MinutesRecord.objects.create(
        community=community,
        session=session,
        seq=seq,
        prev_hash=head.head_hash,
        content_hash=f"pending-{uuid.uuid4().hex}",
        canonical="",
        kind=kind,
        corrects=corrects,
        title=content["session"]["title"],
        category=content["session"]["category"],
        outcome=outcome_of(content),
        visibility=content["visibility"],
        held_on=date.fromisoformat(content["held_on"]),
        published_at=datetime.fromisoformat(content["published_at"].replace("Z", "+00:00")),
        published_by=by,
    )
    record.canonical, record.content_hash = chain.seal(
        community=community.slug, record_id=record.pk, seq=seq, prev_hash=head.head_hash, minutes=content
    )
    record.save(update_fields=["canonical", "content_hash"])
    head.head_hash = record.content_hash
    head.length = seq
    head.save(update_fields=["head_hash", "length", "updated_at"])
    search_index_record(record=record, content=content)
    return record


def search_index_record(*, record: MinutesRecord, content: dict[str, Any] | None = None) -> int:
    """(Re)build the search tokens of one record; returns how many rows it has."""
    tokens = search.index_fields(search.search_texts(content or record.content))
    SearchToken.objects.filter(record=record).delete()
    SearchToken.objects.bulk_create([SearchToken(record=record, token=t, fields=f) for t, f in tokens.items()], batch_size=2000)
    return len(tokens)


def minutes_publish(*, session: TopicSession, by: User) -> MinutesRecord:
    """Freeze the draft into the chain and mark the session archived (minutes published)."""
    draft, _content = minutes_draft_generate(session=session, by=by)
    now = timezone.now()
    content = _draft_content(session, draft, by=by, at=now)

    def not_yet_published() -> None:
        if MinutesRecord.objects.filter(session=session, kind=RecordKind.ORIGINAL).exists():
            raise Refused(_("These minutes are already published."), code="published")

    with transaction.atomic():
        record = _chain_append(session=session, by=by, content=content, kind=RecordKind.ORIGINAL, corrects=None, check=not_yet_published)
        topic_session_archive(session=session, by=by)
        audit_record(
            kind="minutes.published",
            community=session.community_id,
            actor=by,
            session_id=session.pk,
            record_id=record.pk,
            content_hash=record.content_hash,
        )
    return record


def minutes_correct(*, record: MinutesRecord, by: User, summaries: dict[str, str], reason: str) -> MinutesRecord:
    """Publish a correction (更正): a new record linked to the one it corrects; nothing is edited."""
    if not rules.can_correct_minutes(user=by, record=record):
        raise NotAllowed(_("Only a moderator of this community can correct the minutes."))
    reason = plain(reason).strip()
    if not reason:
        raise Refused(_("Say what the correction changes and why."), code="invalid")
    base = record.content
    content = _json_copy(base)
    for section in [content["general"], *content["agenda"]]:
        key = "general" if section is content["general"] else str(section["id"])
        if key in summaries:
            text = plain(summaries[key]).strip()
            if len(text) > SUMMARY_MAX:
                raise Refused(_("A summary is too long (at most %(limit)d characters).") % {"limit": SUMMARY_MAX}, code="too_long")
            section["summary"] = text
    root = record.corrects or record
    content["kind"] = RecordKind.CORRECTION
    content["corrects"] = {"id": record.pk, "hash": record.content_hash, "reason": reason}
    content["published_by"] = display_name(by)
    content["published_by_id"] = by.pk
    content["published_at"] = iso_utc(timezone.now())
    # A correction is sealed by today's rule even when it corrects an older record.
    content["schema"] = SCHEMA
    content["held_on"] = held_on(record.session.starts_at)
    content["motions"] = [voting_bridge.sealable(m) for m in content.get("motions", [])]

    def still_latest() -> None:
        if MinutesRecord.objects.filter(session=record.session_id, seq__gt=record.seq).exists():
            raise Refused(_("These minutes were corrected already; correct the newest version."), code="stale")

    with transaction.atomic():
        correction = _chain_append(
            session=record.session, by=by, content=content, kind=RecordKind.CORRECTION, corrects=root, check=still_latest
        )
        audit_record(
            kind="minutes.corrected",
            community=record.session.community_id,
            actor=by,
            session_id=record.session_id,
            record_id=correction.pk,
            corrects_id=record.pk,
            reason=reason,
        )
    return correction


def _json_copy(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))


# --- Follow-up (落实事项) ------------------------------------------------------------------


def action_item_create(
    *,
    session: TopicSession,
    by: User,
    what: str,
    responsible: str,
    due_on: date | None,
    owner: User | None = None,
    resolution_id: int | None = None,
) -> ActionItem:
    if not rules.can_add_action_item(user=by, session=session):
        raise NotAllowed(_("Only a moderator of this community can add action items, once the session is adjourned."))
    owner = owner or by
    if not is_moderator(user=owner, community=session.community_id):
        raise Refused(_("The responsible person must be a moderator of this community."), code="invalid")
    what, responsible = plain(what).strip(), plain(responsible).strip()
    if not what or not responsible:
        raise Refused(_("Say what is to be done and who is responsible."), code="invalid")
    fields: dict[str, Any] = {}
    if resolution_id is not None:
        if resolution_id not in voting_bridge.resolution_ids(session=session):
            raise Refused(_("That resolution is not from this session."), code="invalid")
        fields["resolution_id"] = resolution_id
    return ActionItem.objects.create(
        session=session, what=what[:2000], responsible=responsible[:120], owner=owner, due_on=due_on, created_by=by, **fields
    )


def action_item_update(*, item: ActionItem, by: User, status: str | None = None, note: str = "", drop_reason: str = "") -> ActionItem:
    """A progress note and/or a status change, by the responsible moderator only."""
    if not rules.can_update_action_item(user=by, item=item):
        raise NotAllowed(_("Only the moderator responsible for this item can update it."))
    note = plain(note).strip()[:2000]
    with transaction.atomic():
        locked = ActionItem.objects.select_for_update().get(pk=item.pk)
        old = locked.status
        if status and status != old:
            if status not in ACTION_MOVES.get(old, set()):
                raise Refused(
                    _("An item that is “%(old)s” cannot become “%(new)s”.")
                    % {"old": ActionStatus(old).label, "new": ActionStatus(status).label if status in ActionStatus.values else status},
                    code="bad_transition",
                )
            if status == ActionStatus.DROPPED:
                reason = plain(drop_reason).strip()[:300]
                if not reason:
                    raise Refused(_("Give a reason for dropping this item."), code="invalid")
                locked.drop_reason = reason
            locked.status = status
            locked.done_at = timezone.now() if status == ActionStatus.DONE else None
            locked.save()
        elif not note:
            raise Refused(_("Write a progress note or choose a new status."), code="empty")
        ActionUpdate.objects.create(
            item=locked,
            by=by,
            text=note,
            status_from=old if locked.status != old else "",
            status_to=locked.status if locked.status != old else "",
        )
    return locked


def satisfaction_rate(*, item: ActionItem, user: User, score: int) -> SatisfactionRating:
    """One rating per resident per item; rating again changes it."""
    if not rules.can_rate(user=user, item=item):
        if item.status != ActionStatus.DONE:
            raise Refused(_("You can rate an item once it is done."), code="not_done")
        raise NotAllowed(_("Only residents of this community can rate its action items."))
    if score not in {1, 2, 3, 4, 5}:
        raise Refused(_("Choose a rating from 1 to 5."), code="invalid")
    rating, _created = SatisfactionRating.objects.update_or_create(item=item, user=user, defaults={"score": score})
    return rating


# --- Needs list (需求清单) -----------------------------------------------------------------

NEED_MAX = 1000
# Needs one resident may add in an hour: the list is for neighbours to read, and 100 needs in
# 2 s bury everyone else's.
NEEDS_PER_HOUR = 5


def need_submit(*, community: Community, by: User, text: str, category: str = Category.OTHER, building_id: int | None = None) -> Need:
    if not rules.can_submit_need(user=by, community_id=community.pk):
        raise NotAllowed(_("Only residents of this community can add to its needs list."))
    text = plain(text).strip()
    if not text:
        raise Refused(_("Describe the problem in a few words."), code="empty")
    if len(text) > NEED_MAX:
        raise Refused(_("Please keep it under %(limit)d characters.") % {"limit": NEED_MAX}, code="too_long")
    if category not in Category.values:
        raise Refused(_("Choose a category."), code="invalid")
    building = None
    if building_id:
        building = Building.objects.filter(pk=building_id, community=community).first()
        if building is None:
            raise Refused(_("That building is not in this community."), code="invalid")
    with transaction.atomic():
        _need_rate_check(by=by)
        return Need.objects.create(community=community, author=by, text=text, category=category, building=building)


def _need_rate_check(*, by: User) -> None:
    """Refuse the (NEEDS_PER_HOUR + 1)-th need of the last hour. Call inside a transaction: the
    user's row lock makes one person's concurrent submissions count one after another."""
    get_user_model().objects.select_for_update().filter(pk=by.pk).exists()
    since = timezone.now() - timedelta(hours=1)
    if Need.objects.filter(author_id=by.pk, created_at__gte=since).count() >= NEEDS_PER_HOUR:
        raise Refused(
            _("You have added %(count)d needs in the last hour, the most for now. Please add this one later; your text is kept below.")
            % {"count": NEEDS_PER_HOUR},
            code="rate_limited",
        )


def need_support(*, need: Need, user: User, supporting: bool = True) -> int:
    """Support a need (one support per resident) or take it back; returns the support count."""
    if supporting:
        if not rules.can_support_need(user=user, need=need):
            if need.author_id == user.pk:
                raise Refused(_("You raised this need yourself; it already counts you."), code="own")
            if need.status != NeedStatus.OPEN:
                raise Refused(_("This need is no longer open for support."), code="closed")
            raise NotAllowed(_("Only residents of this community can support its needs."))
        try:
            with transaction.atomic():
                NeedSupport.objects.get_or_create(need=need, user=user)
        except IntegrityError:
            pass  # a double click raced itself: the support is there once
    else:
        NeedSupport.objects.filter(need=need, user=user).delete()
    return NeedSupport.objects.filter(need=need).count()


def need_merge(*, need: Need, into: Need, by: User) -> Need:
    """Mark ``need`` a duplicate of ``into``; its author and supporters now support ``into``."""
    if not rules.can_manage_needs(user=by, community_id=need.community_id):
        raise NotAllowed(_("Only a moderator of this community can merge needs."))
    if need.pk == into.pk or need.community_id != into.community_id:
        raise Refused(_("Choose another need of the same community to merge into."), code="invalid")
    with transaction.atomic():
        first, second = sorted([need.pk, into.pk])
        locked = {n.pk: n for n in Need.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        source, target = locked[need.pk], locked[into.pk]
        if source.status != NeedStatus.OPEN or target.status == NeedStatus.MERGED:
            raise Refused(_("Only an open need can be merged, and only into one that is not merged itself."), code="state")
        people = set(NeedSupport.objects.filter(need=source).values_list("user_id", flat=True)) | {source.author_id}
        people -= {target.author_id}
        already = set(NeedSupport.objects.filter(need=target).values_list("user_id", flat=True))
        NeedSupport.objects.bulk_create([NeedSupport(need=target, user_id=u) for u in sorted(people - already)])
        source.status = NeedStatus.MERGED
        source.merged_into = target
        source.handled_by = by
        source.handled_at = timezone.now()
        source.save()
    return target


def need_to_session(*, need: Need, by: User, title: str, starts_at: datetime) -> TopicSession:
    """Open a draft topic session from a need; the need (and its duplicates) link to it."""
    if not rules.can_manage_needs(user=by, community_id=need.community_id):
        raise NotAllowed(_("Only a moderator of this community can turn a need into a topic session."))
    with transaction.atomic():
        locked = Need.objects.select_for_update().get(pk=need.pk)
        if locked.status != NeedStatus.OPEN:
            raise Refused(_("This need was already handled."), code="state")
        session = topic_session_create(
            community=locked.community,
            by=by,
            title=(plain(title).strip() or locked.text)[:120],
            starts_at=starts_at,
            category=locked.category,
            description=locked.text,
        )
        locked.status = NeedStatus.IN_SESSION
        locked.session = session
        locked.handled_by = by
        locked.handled_at = timezone.now()
        locked.save()
    return session
