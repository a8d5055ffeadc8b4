"""Helpers for vote tests: motions in a live session, and casting with fresh keys."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from voting import ballots
from voting.models import Motion
from voting.services import MotionSettings, motion_create, motion_open


def key() -> str:
    return secrets.token_urlsafe(16)


def open_motion(session: Any, by: AbstractBaseUser, text: str = "东门夜间划线停车", **settings: Any) -> Motion:
    motion = motion_create(session=session, by=by, text=text, settings=MotionSettings(**settings))
    return motion_open(motion=motion, by=by)


def option(motion: Motion, code_or_label: str) -> int:
    for o in motion.options.all():
        if code_or_label in (o.code, o.label):
            return o.pk
    raise KeyError(code_or_label)


def vote(motion: Motion, user: AbstractBaseUser, *choices: str, idem: str | None = None, receipt: str | None = None) -> ballots.CastResult:
    return ballots.ballot_cast(
        motion=motion, voter=user, choice=[option(motion, c) for c in choices], idempotency_key=idem or key(), receipt=receipt
    )


def stored_ballots(motion: Motion) -> list[dict[str, Any]]:
    """The online ballots the server holds for a motion, as the close will count them: plain
    rows, and (a secret vote still open) the sealed ones opened with the server's key."""
    from voting.models import Ballot, Channel, SealedBallot
    from voting.secrecy import unseal

    plain = [{"choice": b.choice, "receipt_hash": b.receipt_hash, "weight": b.weight} for b in Ballot.objects.filter(motion=motion)]
    sealed = [unseal(motion.pk, s.sealed) for s in SealedBallot.objects.filter(motion=motion, channel=Channel.ONLINE)]
    return plain + [{"choice": p["choice"], "receipt_hash": p["receipt_hash"], "weight": p["weight"]} for p in sealed]


def stored_choices(motion: Motion) -> list[list[int]]:
    return [b["choice"] for b in stored_ballots(motion)]
