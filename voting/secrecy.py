"""Secret ballots that whoever reads the database cannot tie to their voters.

Why (docs/decisions.md, "Secret ballots sealed until close"): a ballot written in the voter's
own transaction, beside the participation that says who voted, is linked to it by the
transaction id (PostgreSQL ``xmin``), the insertion order (SQLite ``rowid``, heap position) and
any time or serial. So while a secret vote is open its ballots are :class:`SealedBallot` rows:

- the content (choice, weight, area, receipt hash; who entered an in-room ballot) is padded to a
  fixed size and sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
  ``settings.SECRET_KEY`` and the motion id — a key that is not in the database or its backups;
- the row has a random id, no time, and no voter; a change finds it by an HMAC of the receipt
  under a second derived key (only the voter's device holds the receipt).

While the vote is open only the number of ballots is shown, so nothing needs their content.
Closing calls :func:`sealed_ballots_mix` in the closing transaction: it opens every sealed
ballot, writes the plain :class:`Ballot` rows (and in-room :class:`InPersonCount` rows without
the household) in a random order, and deletes the sealed rows. The plain rows then share one
transaction id (the close's), sit in a random physical order with random ids and no times, and
their receipt hashes appear nowhere before the close. Crash-safe: all or nothing with the close.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db.models import Count

from agora.infra.precompiled import insert
from voting.models import Ballot, Channel, InPersonCount, Motion, SealedBallot

# Every payload is padded to this many bytes before sealing, so the ciphertext's length says
# nothing about the choice (how many options, which ids) or the weight.
PAYLOAD_SIZE = 1024
_NONCE = 12
_KEYS: dict[tuple[str, int], tuple[AESGCM, bytes]] = {}
_KEYS_KEPT = 256


class SealedBallotUnreadable(RuntimeError):
    """A sealed ballot opens with no configured key: the close stops (nothing is counted or
    lost) until the key it was sealed with is back in SECRET_KEY or SECRET_KEY_FALLBACKS."""


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _keys(secret: str, motion_id: int) -> tuple[AESGCM, bytes]:
    cached = _KEYS.get((secret, motion_id))
    if cached is None:
        material = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=b"agora.voting.sealed-ballot", info=f"motion:{motion_id}".encode()
        ).derive(secret.encode())
        if len(_KEYS) >= _KEYS_KEPT:
            _KEYS.clear()
        cached = _KEYS[(secret, motion_id)] = (AESGCM(material[:32]), material[32:])
    return cached


def _aad(motion_id: int) -> bytes:
    return f"agora-ballot:{motion_id}".encode()


def seal(motion_id: int, payload: dict[str, Any]) -> bytes:
    """Nonce + ciphertext of the padded payload, under the current key."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    if len(raw) >= PAYLOAD_SIZE:
        raise ValueError("ballot payload too large to seal")
    raw += b" " * (PAYLOAD_SIZE - len(raw))
    nonce = os.urandom(_NONCE)
    return nonce + _keys(settings.SECRET_KEY, motion_id)[0].encrypt(nonce, raw, _aad(motion_id))


def unseal(motion_id: int, blob: bytes | memoryview) -> dict[str, Any]:
    """The payload, opened with the current key or a fallback (a key rotated during a vote)."""
    blob = bytes(blob)
    for secret in _secrets():
        try:
            raw = _keys(secret, motion_id)[0].decrypt(blob[:_NONCE], blob[_NONCE:], _aad(motion_id))
        except InvalidTag:
            continue
        return json.loads(raw)
    raise SealedBallotUnreadable(f"a sealed ballot of motion {motion_id} opens with no configured SECRET_KEY")


def receipt_lookups(motion_id: int, receipt: str) -> list[str]:
    """The lookup tags this receipt may have been stored under (current key first)."""
    return [hmac.new(_keys(s, motion_id)[1], receipt.encode(), hashlib.sha256).hexdigest() for s in _secrets()]


def _payload(
    *, choice: list[int], weight: Decimal | int, area: Decimal | None, receipt_hash: str, entered_by: int | None
) -> dict[str, Any]:
    return {
        "choice": choice,
        "weight": str(weight),
        "area": None if area is None else str(area),
        "receipt_hash": receipt_hash,
        "entered_by": entered_by,
    }


def sealed_ballot_insert(
    *, motion_id: int, choice: list[int], weight: Decimal, area: Decimal | None, receipt: str, receipt_hash: str
) -> None:
    """Store an online secret ballot. Call in the voter's transaction, beside the participation."""
    sealed = seal(motion_id, _payload(choice=choice, weight=weight, area=area, receipt_hash=receipt_hash, entered_by=None))
    insert(SealedBallot(motion_id=motion_id, channel=Channel.ONLINE, sealed=sealed, lookup=receipt_lookups(motion_id, receipt)[0]))


def sealed_ballot_change(*, motion_id: int, receipt: str, choice: list[int]) -> bool:
    """Put a new choice in the sealed ballot this receipt belongs to; False if there is none."""
    row = SealedBallot.objects.filter(motion_id=motion_id, lookup__in=receipt_lookups(motion_id, receipt)).first()
    if row is None:
        return False
    payload = unseal(motion_id, row.sealed)
    payload["choice"] = choice
    # Sealed again under the current key, with a fresh nonce: the old and new rows differ entirely.
    SealedBallot.objects.filter(pk=row.pk).update(sealed=seal(motion_id, payload), lookup=receipt_lookups(motion_id, receipt)[0])
    return True


def sealed_in_person_insert(*, motion: Motion, rows: list[InPersonCount]) -> None:
    """Store in-room ballots of named households of a secret vote: sealed like online ones (the
    household is in the participation, never beside the choice)."""
    SealedBallot.objects.bulk_create(
        SealedBallot(
            motion_id=motion.pk,
            channel=Channel.IN_PERSON,
            sealed=seal(
                motion.pk, _payload(choice=row.choice, weight=row.weight, area=row.area, receipt_hash="", entered_by=row.entered_by_id)
            ),
        )
        for row in rows
        for _ in range(row.count)
    )


def sealed_counts(motion_id: int) -> dict[str, int]:
    """How many sealed ballots a motion has, per channel (the turnout of an open secret vote)."""
    counts = dict(
        SealedBallot.objects.filter(motion_id=motion_id).values_list("channel").annotate(n=Count("pk")).values_list("channel", "n")
    )
    return {"online": counts.get(Channel.ONLINE, 0), "in_person": counts.get(Channel.IN_PERSON, 0)}


def online_ballots_stored(motion_id: int) -> int:
    """Online ballots stored for a motion, sealed or plain (for the fault tests and the bench)."""
    return (
        Ballot.objects.filter(motion_id=motion_id).count()
        + SealedBallot.objects.filter(motion_id=motion_id, channel=Channel.ONLINE).count()
    )


def sealed_ballots_mix(*, motion: Motion) -> int:
    """Open the motion's sealed ballots into plain rows in a random order; delete the sealed.

    Precondition: inside the closing transaction, holding the motion row lock (no ballot can be
    added meanwhile). Returns how many ballots were mixed.
    """
    sealed = list(SealedBallot.objects.filter(motion=motion).values_list("channel", "sealed"))
    if not sealed:
        return 0
    opened = [(channel, unseal(motion.pk, blob)) for channel, blob in sealed]
    random.SystemRandom().shuffle(opened)
    # In the room several moderators may have entered households; which one entered which
    # ballot would narrow a batch's households to its choices, so the mixed rows name the
    # moderator who opened the vote (the audit log keeps who entered how many, and when).
    room_by = motion.opened_by_id
    online: list[Ballot] = []
    room: list[InPersonCount] = []
    for channel, p in opened:
        weight, area = Decimal(p["weight"]), None if p["area"] is None else Decimal(p["area"])
        if channel == Channel.ONLINE:
            online.append(Ballot(motion=motion, choice=p["choice"], weight=weight, area=area, receipt_hash=p["receipt_hash"]))
        else:
            room.append(
                InPersonCount(
                    motion=motion, choice=p["choice"], count=1, weight=weight, area=area, entered_by_id=room_by or p["entered_by"]
                )
            )
    Ballot.objects.bulk_create(online)
    InPersonCount.objects.bulk_create(room)
    SealedBallot.objects.filter(motion=motion).delete()
    return len(opened)
