"""A public draw (公开抽签) that anyone can recompute from the shown inputs.

The moderator resolves a tie that changes the winner by a draw only when asked to, and the
inputs are recorded in the resolution: the motion id, the tied options (ids, in the motion's
order) and a public value entered by the moderator (for example numbers called out by
witnesses in the room). Nothing secret goes in, nothing random is added.

    seed  = SHA-256("agora-draw-v1\\nmotion:<id>\\ntied:<id>,<id>,…\\nvalue:<public value>")  (hex)
    pick  = options[int(SHA-256("<seed>\\nstep:<n>\\noptions:<id>,<id>,…"), 16) mod len(options)]

``n`` counts the draws within one count from 1 (a ranked count may need a second draw later).
docs/voting.md shows how to recompute it with a few lines of Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

DRAW_VERSION = "agora-draw-v1"


def draw_seed(*, motion_id: int, tied: Sequence[str], public_value: str) -> str:
    text = f"{DRAW_VERSION}\nmotion:{motion_id}\ntied:{','.join(tied)}\nvalue:{public_value}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_pick(seed: str, options: Sequence[str], *, step: int = 1) -> str:
    """One of ``options`` chosen by ``seed`` (the same inputs always give the same option)."""
    if not options:
        raise ValueError("a draw needs at least one option")
    digest = hashlib.sha256(f"{seed}\nstep:{step}\noptions:{','.join(options)}".encode()).hexdigest()
    return options[int(digest, 16) % len(options)]
