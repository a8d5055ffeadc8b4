"""Archive search that works for Chinese (no spaces) and English alike. Pure: no ORM.

Technique (docs/decisions.md "Archive search"): at publish time every record's text is
cut into tokens — each CJK character and each run of two and of three adjacent CJK
characters (bigrams, trigrams), and each lowercase Latin/digit word — and stored one row
per (token, record) in an indexed table. A query is cut the same way, except that a CJK
run gives only its longest pieces: one character itself, two characters their bigram,
three or more their trigrams. A record matches when it holds all query tokens. So 停车
finds “新增停车位如何分配”, 停车位 needs the trigram 停车位 (not just 停车 and 车位
somewhere), and the lookup is an index range scan on both SQLite and PostgreSQL, with
no extension and no per-database code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

FIELD_TITLE = 1
FIELD_SUMMARY = 2
FIELD_TRANSCRIPT = 4
FIELD_RESOLUTION = 8
ALL_FIELDS = FIELD_TITLE | FIELD_SUMMARY | FIELD_TRANSCRIPT | FIELD_RESOLUTION
# The ``fields`` values that include the title bit (for ranking title hits first).
TITLE_VALUES = tuple(v for v in range(1, ALL_FIELDS + 1) if v & FIELD_TITLE)

MAX_TOKEN = 32
MAX_QUERY_TOKENS = 16

_CJK = (
    "\u3400-\u4dbf"  # Extension A
    "\u4e00-\u9fff"  # Unified Ideographs
    "\uf900-\ufaff"  # Compatibility Ideographs
    "\u3040-\u30ff"  # Kana (names, loanwords)
)
_RUN = re.compile(rf"([{_CJK}]+)|([0-9a-z\u00c0-\u024f]+)")


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), lowercase."""
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for match in _RUN.finditer(normalize(text)):
        cjk, word = match.groups()
        if cjk:
            out.append(("cjk", cjk))
        elif word:
            out.append(("word", word[:MAX_TOKEN]))
    return out


def index_tokens(text: str) -> set[str]:
    """Every token a text is findable by: CJK characters, bigrams and trigrams; Latin/digit words."""
    tokens: set[str] = set()
    for kind, run in _runs(text):
        if kind == "word":
            tokens.add(run)
            continue
        tokens.update(run)
        tokens.update(run[i : i + 2] for i in range(len(run) - 1))
        tokens.update(run[i : i + 3] for i in range(len(run) - 2))
    return tokens


def index_fields(fields: dict[int, str]) -> dict[str, int]:
    """Token → bitmask of the fields (FIELD_*) it occurs in."""
    out: dict[str, int] = {}
    for bit, text in fields.items():
        for token in index_tokens(text):
            out[token] = out.get(token, 0) | bit
    return out


@dataclass(frozen=True)
class Query:
    text: str
    tokens: tuple[str, ...]
    phrases: tuple[str, ...]  # what to highlight: whole CJK runs and words as typed

    @property
    def empty(self) -> bool:
        return not self.tokens


def parse_query(text: str) -> Query:
    """The tokens a record must all hold. 停 → {停}; 停车 → {停车}; 停车位 → {停车位};
    加装电梯 → {加装电, 装电梯}."""
    tokens: list[str] = []
    phrases: list[str] = []
    for kind, run in _runs(text[:200]):
        phrases.append(run)
        if kind == "word" or len(run) <= 3:
            candidates = [run]
        else:
            candidates = [run[i : i + 3] for i in range(len(run) - 2)]
        for token in candidates:
            if token not in tokens:
                tokens.append(token)
    return Query(text=text.strip()[:200], tokens=tuple(tokens[:MAX_QUERY_TOKENS]), phrases=tuple(phrases))


Segment = tuple[str, bool]  # (text, is a match)


def _pattern(query: Query) -> re.Pattern[str] | None:
    terms = sorted({*query.phrases, *query.tokens}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)


def highlight(text: str, query: Query, *, width: int = 0) -> list[Segment]:
    """Split ``text`` into plain and matching segments (templates escape and wrap in <mark>).

    With ``width`` > 0, return only a window of about that many characters around the
    first match (an excerpt), or [] when nothing matches.
    """
    pattern = _pattern(query)
    if pattern is None:
        return [(text, False)] if text and not width else []
    first = pattern.search(text)
    if width:
        if first is None:
            return []
        start = max(0, first.start() - width // 3)
        end = min(len(text), start + width)
        window = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        text = window
    segments: list[Segment] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            segments.append((text[position : match.start()], False))
        segments.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    return segments


def search_texts(content: dict[str, Any]) -> dict[int, str]:
    """The text of each searchable field of a minutes content."""
    sections = [content["general"], *content["agenda"]]
    summaries = [s["summary"] for s in sections if s.get("summary")]
    transcript = [m["text"] for s in sections for m in s["messages"]]
    resolutions = [r.get("text", "") for r in content.get("resolutions", [])]
    resolutions += [m.get("text", "") for m in content.get("motions", [])]
    resolutions += [a["what"] for a in content.get("action_items", [])]
    return {
        FIELD_TITLE: content["session"]["title"] + "\n" + "\n".join(s["title"] for s in content["agenda"]),
        FIELD_SUMMARY: "\n".join(summaries),
        FIELD_TRANSCRIPT: "\n".join(transcript),
        FIELD_RESOLUTION: "\n".join(resolutions),
    }
