"""Canonical JSON and a per-community hash chain. Pure: no ORM. Two chains use it: published
minutes (records/, body key "minutes") and owners' decisions' steps (voting/decisions/, body key
"decision_step").

A published record is the canonical bytes of an *envelope*::

    {"chain": {"community": <slug>, "id": <row id>, "seq": <1-based position>,
               "prev_hash": <hex>},
     "minutes": <the minutes content>}

Its hash is SHA-256 over those bytes. Because the row id (the permalink), the position and the
previous hash are inside the hashed bytes, a record cannot be moved, dropped or edited
without the chain showing where.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def _normalize(value: Any) -> Any:
    """NFC-normalize every string so that equal text has equal bytes; refuse floats."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_normalize(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    if isinstance(value, float):
        # Floats have several spellings; numbers in minutes are integers or decimal strings.
        raise TypeError("canonical content holds no floats; use integers or decimal strings")
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, UTF-8 characters as themselves, no insignificant whitespace."""
    return json.dumps(_normalize(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def content_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def envelope(*, community: str, record_id: int, seq: int, prev_hash: str, minutes: dict[str, Any], key: str = "minutes") -> dict[str, Any]:
    return {"chain": {"community": community, "id": record_id, "prev_hash": prev_hash, "seq": seq}, key: minutes}


def seal(*, community: str, record_id: int, seq: int, prev_hash: str, minutes: dict[str, Any], key: str = "minutes") -> tuple[str, str]:
    """The canonical text of a new record and its hash (``minutes`` is the body, under ``key``)."""
    text = canonical_json(envelope(community=community, record_id=record_id, seq=seq, prev_hash=prev_hash, minutes=minutes, key=key))
    return text, content_hash(text)


@dataclass(frozen=True)
class StoredRecord:
    """One row as the database holds it (the verifier trusts none of it)."""

    id: int
    seq: int
    prev_hash: str
    content_hash: str
    canonical: str


@dataclass(frozen=True)
class Problem:
    kind: str  # "altered" | "missing" | "reordered" | "head"
    record_id: int | None
    seq: int | None
    detail: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    head_hash: str
    count: int
    problem: Problem | None = None


def check_record(*, community: str, record: StoredRecord) -> Problem | None:
    """What one row alone can show: its hash, and that its sealed place is the row's place."""
    if content_hash(record.canonical) != record.content_hash:
        return Problem("altered", record.id, record.seq, "content does not match its hash")
    try:
        sealed = json.loads(record.canonical)["chain"]
    except (ValueError, KeyError, TypeError):
        return Problem("altered", record.id, record.seq, "content is not a chain record")
    if sealed.get("community") != community:
        return Problem("altered", record.id, record.seq, "record belongs to another community")
    if sealed.get("seq") != record.seq or sealed.get("prev_hash") != record.prev_hash or sealed.get("id") != record.id:
        # The sealed position differs from the row's: rows were moved around.
        return Problem("reordered", record.id, record.seq, f"sealed at position {sealed.get('seq')}")
    return None


def verify(*, community: str, records: list[StoredRecord], head_hash: str | None, head_count: int | None) -> Verdict:
    """Walk the chain in stored order (by seq) and name the first record that is wrong.

    ``head_hash``/``head_count`` are what the chain head row says (None when there is no
    head row); they reveal a dropped or re-hashed last record.
    """
    expected_prev = GENESIS
    expected_seq = 1
    ordered = sorted(records, key=lambda r: (r.seq, r.id))
    hashes_at = {r.content_hash: r for r in ordered}
    for index, record in enumerate(ordered):
        problem = check_record(community=community, record=record)
        if problem is not None:
            return Verdict(False, "", len(ordered), problem)
        if record.prev_hash != expected_prev:
            if record.seq > expected_seq:
                return Verdict(
                    False,
                    "",
                    len(ordered),
                    Problem("missing", None, expected_seq, f"record {expected_seq} before record id {record.id} is missing"),
                )
            if record.prev_hash in hashes_at and hashes_at[record.prev_hash].seq >= record.seq:
                return Verdict(False, "", len(ordered), Problem("reordered", record.id, record.seq, "links to a later record"))
            previous = ordered[index - 1] if index else None
            return Verdict(
                False,
                "",
                len(ordered),
                Problem(
                    "altered",
                    previous.id if previous else record.id,
                    previous.seq if previous else record.seq,
                    "re-sealed: the next record links to a different hash",
                ),
            )
        if record.seq != expected_seq:
            # Right link but wrong number can only come from editing the seq column and content together.
            return Verdict(False, "", len(ordered), Problem("altered", record.id, record.seq, f"expected position {expected_seq}"))
        expected_prev = record.content_hash
        expected_seq += 1
    count = len(ordered)
    if head_count is not None and head_count != count:
        if head_count > count:
            return Verdict(
                False,
                expected_prev,
                count,
                Problem("missing", None, count + 1, f"the head counts {head_count} records, {count} are stored"),
            )
        return Verdict(
            False, expected_prev, count, Problem("head", None, None, f"the head counts {head_count} records, {count} are stored")
        )
    if head_hash is not None and count and head_hash != expected_prev:
        last = ordered[-1]
        return Verdict(False, expected_prev, count, Problem("altered", last.id, last.seq, "the last record differs from the head hash"))
    return Verdict(True, expected_prev, count)
