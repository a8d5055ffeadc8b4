"""Render live fragments once per audience variant (language × role) per process.

A room of 2,000 people has only a handful of variants, so a broadcast costs a few
template renders, not 2,000. The cache is keyed by the event's id.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

_CACHE: OrderedDict[tuple[str, str, str], str] = OrderedDict()
_CACHE_SIZE = 512


def render_variant(*, event_id: str, template: str, context: dict[str, Any], language: str, role: str) -> str:
    key = (event_id, language, role)
    html = _CACHE.get(key)
    if html is None:
        with translation.override(language):
            html = render_to_string(template, {**context, "viewer_role": role, "is_moderator_view": role == "moderator"})
        _CACHE[key] = html
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return html


def message_render_id(data: dict[str, Any]) -> str:
    """A cache id for a stored message's fragment: every field that can change after it was
    posted, including the state of the message it quotes (a hidden quote must not come back from
    the cache of a reply rendered before the hiding)."""
    quoted = data.get("reply_to") or {}
    return "m{id}:{agree}:{disagree}:{hidden}:{pinned}:{reason}:q{qhidden}".format(
        id=data["id"],
        agree=data["agree"],
        disagree=data["disagree"],
        hidden=int(bool(data["hidden"])),
        pinned=int(bool(data["pinned"])),
        reason=data.get("hidden_reason", ""),
        qhidden=int(bool(quoted.get("hidden"))) if quoted else "-",
    )
