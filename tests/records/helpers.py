"""Sessions that have happened: agenda, messages (one hidden), adjourned — ready for minutes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from agora.roster.models import Community
from records import services as minutes_services
from records.models import MinutesRecord, Visibility
from sessions.models import AgendaItem, Message, SessionState, TopicSession
from sessions.services import message_post, topic_session_adjourn
from tests.factories import World, session_make


def held_session(
    world: World,
    *,
    title: str = "新增停车位如何分配",
    texts: tuple[str, ...] = ("我家有两辆车，希望按户分配停车位", "租户也应该有机会申请车位", "地库改造预算多少？"),
    hidden_text: str = "广告：低价出租车位 请加微信",
    community: Community | None = None,
    moderator: AbstractBaseUser | None = None,
) -> TopicSession:
    """A live session with two agenda items and messages, then adjourned."""
    moderator = moderator or world.moderator
    session = session_make(community or world.community, moderator, state=SessionState.LIVE, title=title, audience=[])
    first = AgendaItem.objects.create(session=session, position=1, title="车位分配方案")
    second = AgendaItem.objects.create(session=session, position=2, title="租户的车位")
    authors = [world.resident, world.resident2, moderator] if session.community_id == world.community.pk else [moderator]
    for i, text in enumerate(texts):
        m = message_post(session=session, author=authors[i % len(authors)], text=text)
        Message.objects.filter(pk=m.pk).update(agenda_item=first if i < 2 else second)
    if hidden_text:
        m = message_post(session=session, author=authors[0], text=hidden_text)
        Message.objects.filter(pk=m.pk).update(
            agenda_item=first, hidden=True, hidden_reason="spam", hidden_by=moderator, hidden_at=timezone.now()
        )
    topic_session_adjourn(session=session, by=moderator)
    session.refresh_from_db()
    return session


def published(
    world: World,
    *,
    visibility: str = Visibility.PUBLIC,
    summary: str = "会议决定：新增停车位按户抽签分配，每户限一个。",
    **kwargs: object,
) -> MinutesRecord:
    moderator = kwargs.pop("moderator", None) or world.moderator
    session = held_session(world, moderator=moderator, **kwargs)  # type: ignore[arg-type]
    first = session.agenda_items.order_by("position").first()
    assert first is not None
    minutes_services.minutes_draft_save(
        session=session, by=moderator, summaries={str(first.pk): summary, "general": "全体通过。"}, visibility=visibility
    )
    return minutes_services.minutes_publish(session=session, by=moderator)


def voted_session(world: World) -> TopicSession:
    """A held session with one approve/reject motion on agenda item 1: 2 yes + 1 no online, 5 yes + 1 abstain in the room."""
    import secrets

    from tests.factories import resident_make
    from voting import ballots
    from voting.services import (
        InPersonEntry,
        MotionSettings,
        in_person_count_enter,
        motion_close,
        motion_create,
        motion_open,
    )

    # Enough eligible residents for the room's six: counts never exceed the eligible base.
    for _ in range(6):
        resident_make(world.community, building="4号楼")
    session = session_make(world.community, world.moderator, state=SessionState.LIVE, title="东门夜间划线停车", audience=[])
    item = AgendaItem.objects.create(session=session, position=1, title="是否在东门划线")
    m = message_post(session=session, author=world.resident, text="东门晚上车太多")
    Message.objects.filter(pk=m.pk).update(agenda_item=item)
    motion = motion_create(
        session=session, by=world.moderator, text="同意在东门夜间划线停车", agenda_item=item, settings=MotionSettings(secret=False)
    )
    motion = motion_open(motion=motion, by=world.moderator)
    code = {o.code: o.pk for o in motion.options.all()}
    for user, choice in ((world.resident, "yes"), (world.resident2, "yes"), (world.outsider, "no")):
        ballots.ballot_cast(motion=motion, voter=user, choice=[code[choice]], idempotency_key=secrets.token_urlsafe(16))
    in_person_count_enter(
        motion=motion,
        by=world.moderator,
        entries=[InPersonEntry(choice=[code["yes"]], count=5), InPersonEntry(choice=[code["abstain"]], count=1)],
    )
    motion_close(motion=motion, by=world.moderator)
    topic_session_adjourn(session=session, by=world.moderator)
    session.refresh_from_db()
    return session


def reseal_as_version_1(record: MinutesRecord, *, voters: list[dict[str, object]] | None = None) -> MinutesRecord:
    """Re-seal a (last) record as publishing did before version 2 (agora.minutes/1): no held_on
    or publisher id in the seal, and who voted what on open ballots kept in each motion's
    result. Stands for a record published before the upgrade, still in the database."""
    import json

    from agora.infra import hashchain as chain
    from records.models import ChainHead

    document = json.loads(record.canonical)
    minutes = document["minutes"]
    minutes["schema"] = "agora.minutes/1"
    minutes.pop("held_on")
    minutes.pop("published_by_id")
    for motion in minutes["motions"]:
        motion["result"]["voters"] = voters or []
    c = document["chain"]
    canonical, digest = chain.seal(community=c["community"], record_id=c["id"], seq=c["seq"], prev_hash=c["prev_hash"], minutes=minutes)
    MinutesRecord.objects.filter(pk=record.pk).update(canonical=canonical, content_hash=digest)
    ChainHead.objects.filter(community=record.community_id, head_hash=record.content_hash).update(head_hash=digest)
    return MinutesRecord.objects.get(pk=record.pk)
