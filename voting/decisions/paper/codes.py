"""The single-use code printed on a paper ballot: pure, no ORM.

A code is 10 random characters (50 bits) and a check character, from an alphabet of 32 that has
no 0/O or 1/I, printed in groups (``7KQ4-MX2P-9RT``). The check character is Luhn's mod-N
algorithm over the alphabet: it catches every single wrong character and every swap of two
neighbours, so a mistyped code is answered "typed wrong" before any lookup, and a guess must hit
one of 2⁵⁰ codes. A USB scanner types what the QR code holds: the entry URL
(``…/paper/enter/?code=…``) is read back to its code.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LENGTH = 10  # 10 × 5 bits = 50 bits of chance
LENGTH = BODY_LENGTH + 1
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_N = len(ALPHABET)


def check_character(body: str) -> str:
    """Luhn mod N over ``body`` (characters of ALPHABET)."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * _INDEX[char]
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return ALPHABET[(_N - total % _N) % _N]


def code_new() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def code_printed(code: str) -> str:
    """The code as printed and shown: groups of four (``7KQ4-MX2P-9RT``)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_typed(text: str) -> str:
    """What was typed or scanned, as a code to check: the ``code`` of a scanned entry URL, upper
    case, without spaces and hyphens. (Not checked: see ``code_valid``.)"""
    text = (text or "").strip()
    if "code=" in text:
        found = parse_qs(urlsplit(text).query).get("code")
        if found:
            text = found[0]
    return "".join(text.split()).replace("-", "").replace("－", "").upper()[:40]


def code_valid(code: str) -> bool:
    """Whether a code from ``code_typed`` is well formed: its length, alphabet and check character."""
    if len(code) != LENGTH or any(c not in _INDEX for c in code):
        return False
    return check_character(code[:-1]) == code[-1]
