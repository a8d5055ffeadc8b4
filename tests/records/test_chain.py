"""The hash chain: canonical JSON, sealing, and the verifier naming what was tampered with."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from agora.infra import hashchain as chain
from records.models import ChainHead, MinutesRecord
from records.verification import chain_verify
from tests.records.helpers import held_session, published

pytestmark = pytest.mark.django_db


def test_canonical_json_is_sorted_compact_utf8_and_nfc() -> None:
    a = chain.canonical_json({"b": 1, "a": ["停车", "e\u0301"]})
    b = chain.canonical_json({"a": ["停车", "\u00e9"], "b": 1})
    assert a == b == '{"a":["停车","é"],"b":1}'
    with pytest.raises(TypeError):
        chain.canonical_json({"x": 0.5})


def _records(n: int) -> list[chain.StoredRecord]:
    out, prev = [], chain.GENESIS
    for i in range(1, n + 1):
        text, digest = chain.seal(community="c", record_id=100 + i, seq=i, prev_hash=prev, minutes={"n": i})
        out.append(chain.StoredRecord(id=100 + i, seq=i, prev_hash=prev, content_hash=digest, canonical=text))
        prev = digest
    return out


def test_pure_verify_accepts_an_intact_chain_and_returns_the_head() -> None:
    records = _records(3)
    verdict = chain.verify(community="c", records=records, head_hash=records[-1].content_hash, head_count=3)
    assert verdict.ok and verdict.head_hash == records[-1].content_hash and verdict.count == 3


def test_pure_verify_names_a_resealed_record_by_the_broken_link() -> None:
    records = _records(3)
    text, digest = chain.seal(community="c", record_id=102, seq=2, prev_hash=records[0].content_hash, minutes={"n": 99})
    records[1] = chain.StoredRecord(id=102, seq=2, prev_hash=records[0].content_hash, content_hash=digest, canonical=text)
    verdict = chain.verify(community="c", records=records, head_hash=records[-1].content_hash, head_count=3)
    assert not verdict.ok and verdict.problem == chain.Problem("altered", 102, 2, verdict.problem.detail)


def _verify_output(slug: str) -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_minutes", community=slug, stdout=out, stderr=err)
    except CommandError:
        return False, err.getvalue()
    return True, out.getvalue()


@pytest.fixture
def three(world):  # type: ignore[no-untyped-def]
    return [published(world, title=f"议题{i}") for i in range(3)]


def test_verify_command_prints_the_head_hash(world, three) -> None:  # type: ignore[no-untyped-def]
    ok, out = _verify_output(world.community.slug)
    assert ok, out
    assert three[-1].content_hash in out and "3 record(s)" in out
    assert [r.seq for r in three] == [1, 2, 3]
    assert three[1].prev_hash == three[0].content_hash and three[0].prev_hash == chain.GENESIS


def test_one_changed_byte_is_named(world, three) -> None:  # type: ignore[no-untyped-def]
    target = three[1]
    altered = target.canonical.replace("议题1", "议题7", 1)
    assert altered != target.canonical
    MinutesRecord.objects.filter(pk=target.pk).update(canonical=altered)
    ok, err = _verify_output(world.community.slug)
    assert not ok
    assert f"ALTERED record id {target.pk} (position 2)" in err


def test_changed_listing_column_is_named(world, three) -> None:  # type: ignore[no-untyped-def]
    MinutesRecord.objects.filter(pk=three[0].pk).update(title="别的标题")
    ok, err = _verify_output(world.community.slug)
    assert not ok and f"ALTERED record id {three[0].pk}" in err


def test_a_deleted_record_is_named_missing(world, three) -> None:  # type: ignore[no-untyped-def]
    with connection.constraint_checks_disabled():
        MinutesRecord.objects.filter(pk=three[1].pk).delete()
    ok, err = _verify_output(world.community.slug)
    assert not ok and "MISSING position 2" in err


def test_a_deleted_last_record_is_named_missing(world, three) -> None:  # type: ignore[no-untyped-def]
    MinutesRecord.objects.filter(pk=three[2].pk).delete()
    ok, err = _verify_output(world.community.slug)
    assert not ok and "MISSING position 3" in err


def test_two_swapped_records_are_named_reordered(world, three) -> None:  # type: ignore[no-untyped-def]
    a, b = three[0], three[1]
    MinutesRecord.objects.filter(pk=a.pk).update(seq=99)
    MinutesRecord.objects.filter(pk=b.pk).update(seq=1)
    MinutesRecord.objects.filter(pk=a.pk).update(seq=2)
    ok, err = _verify_output(world.community.slug)
    assert not ok and f"REORDERED record id {b.pk} (position 1)" in err


def test_swapped_contents_between_two_ids_are_named(world, three) -> None:  # type: ignore[no-untyped-def]
    """Exchanging everything but the row ids would make permalinks lie: the sealed id catches it."""
    a, b = three[0], three[1]
    fields = ["seq", "prev_hash", "content_hash", "canonical", "title"]
    va = {f: getattr(a, f) for f in fields}
    vb = {f: getattr(b, f) for f in fields}
    MinutesRecord.objects.filter(pk=a.pk).update(seq=98, prev_hash="x", content_hash="tmp-a")
    MinutesRecord.objects.filter(pk=b.pk).update(**va)
    MinutesRecord.objects.filter(pk=a.pk).update(**vb)
    ok, err = _verify_output(world.community.slug)
    assert not ok and "REORDERED" in err


def test_unknown_community_is_an_error(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError):
        call_command("verify_minutes", community="nope", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_publishing_twice_at_once_never_forks_the_chain(tx_world) -> None:  # type: ignore[no-untyped-def]
    from django.db import connections

    from records.services import minutes_publish

    sessions = [held_session(tx_world, title=f"并发{i}") for i in range(4)]
    barrier = threading.Barrier(len(sessions))
    errors: list[BaseException] = []

    def publish(session):  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            minutes_publish(session=session, by=tx_world.moderator)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    records = list(MinutesRecord.objects.filter(community=tx_world.community).order_by("seq"))
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert len({r.prev_hash for r in records}) == 4
    verdict = chain_verify(community=tx_world.community)
    assert verdict.ok, verdict.problem
    assert ChainHead.objects.get(community=tx_world.community).head_hash == records[-1].content_hash


@pytest.mark.django_db(transaction=True)
def test_the_same_minutes_published_twice_at_once_are_stored_once(tx_world) -> None:  # type: ignore[no-untyped-def]
    from django.db import connections

    from agora.infra.errors import Refused
    from records.services import minutes_publish

    session = held_session(tx_world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def publish() -> None:
        try:
            barrier.wait(timeout=10)
            minutes_publish(session=session, by=tx_world.moderator)
            outcomes.append("ok")
        except Refused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ok", "refused"]
    assert MinutesRecord.objects.filter(session=session).count() == 1
    assert chain_verify(community=tx_world.community).ok


# --- Every field a reader is shown is sealed and verified (issue 14) ------------------------


def _tamper(record: MinutesRecord, field: str, world) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from records.models import Visibility

    changes = {
        "held_on": {"held_on": record.held_on - dt.timedelta(days=1)},
        "published_at": {"published_at": record.published_at - dt.timedelta(days=3)},
        "published_by": {"published_by": world.resident2},
        "visibility": {"visibility": Visibility.MEMBERS if record.visibility == Visibility.PUBLIC else Visibility.PUBLIC},
        "kind": {"kind": "correction"},
    }[field]
    MinutesRecord.objects.filter(pk=record.pk).update(**changes)


@pytest.mark.parametrize("field", ["held_on", "published_at", "published_by", "visibility", "kind"])
def test_a_changed_shown_column_fails_verification_naming_the_record(world, three, field) -> None:  # type: ignore[no-untyped-def]
    _tamper(three[1], field, world)
    ok, err = _verify_output(world.community.slug)
    assert not ok
    assert f"ALTERED record id {three[1].pk} (position 2): the {field} column differs from the sealed content" in err


def test_new_records_seal_the_date_and_the_publisher_account(world, three) -> None:  # type: ignore[no-untyped-def]
    minutes = three[0].content
    assert minutes["schema"] == "agora.minutes/2"
    assert minutes["held_on"] == three[0].held_on.isoformat() and minutes["published_by_id"] == world.moderator.pk


@pytest.mark.parametrize("field", ["held_on", "published_at", "published_by", "visibility"])
def test_a_record_sealed_by_version_1_still_verifies_and_its_columns_are_checked(world, three, field) -> None:  # type: ignore[no-untyped-def]
    from tests.records.helpers import reseal_as_version_1

    old = reseal_as_version_1(three[2])
    assert "held_on" not in old.content and old.content["schema"] == "agora.minutes/1"
    ok, out = _verify_output(world.community.slug)
    assert ok, out  # records published before the upgrade keep verifying, by their own rule
    _tamper(old, field, world)
    ok, err = _verify_output(world.community.slug)
    assert not ok and f"ALTERED record id {old.pk} (position 3): the {field} column differs" in err
