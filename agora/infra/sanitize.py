"""The one place that cleans user-supplied text (STYLE: "One place sanitizes").

Text is cleaned when it is saved. Everywhere else templates auto-escape; only fields
produced here are marked safe, and only in the templates that render them.
"""

from __future__ import annotations

import html
import re
from collections.abc import MutableMapping

import bleach
from bleach import html5lib_shim
from bleach.linkifier import Linker

# C0 control characters (and DEL) other than tab and newline never belong in a message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
ALLOWED_TAGS: frozenset[str] = frozenset({"b", "strong", "i", "em", "br", "a"})
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {"a": ["href", "title", "rel", "target"]}
ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})


# bleach's link attributes: {(namespace, name): value}.
LinkAttrs = MutableMapping[tuple[str | None, str], str]


def _safe_link(attrs: LinkAttrs, new: bool = False) -> LinkAttrs:
    href_key = (None, "href")
    href = attrs.get(href_key, "")
    if not href.lower().startswith(("http://", "https://", "mailto:")):
        return None  # type: ignore[return-value]  # bleach: None drops the link, keeps the text
    attrs[(None, "rel")] = "nofollow noopener noreferrer"
    attrs[(None, "target")] = "_blank"
    return attrs


_cleaner = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)
_linker = Linker(callbacks=[_safe_link], skip_tags={"pre", "code"})


def clean_rich_text(text: str) -> str:
    """Return HTML safe to render: a small allowlist, links made safe. Idempotent."""
    normalized = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    cleaned = _cleaner.clean(normalized.strip())
    linked = _linker.linkify(cleaned)
    # Strip again: cleaning can leave edge whitespace (an empty tag removed), and cleaning
    # must be idempotent.
    return linked.strip().replace("\n", "<br>")


def clean_plain_text(text: str) -> str:
    """Strip every tag, keep the characters (for titles, names, places). Stored as plain text:
    templates escape it on output, so "a < b" shows as typed."""
    stripped = bleach.clean(text, tags=set(), attributes={}, strip=True, strip_comments=True)
    return _CONTROL.sub("", html.unescape(stripped)).strip()


# types-bleach declares html5lib_shim after the separate html5lib package and misses these two
# re-exports of bleach's vendored copy.
_walker = html5lib_shim.getTreeWalker("etree")  # type: ignore[attr-defined]


def rich_text_as_plain(cleaned_html: str) -> str:
    """The characters a reader sees of text cleaned by ``clean_rich_text``: its text nodes as a
    browser parses them (html5lib, the parser bleach cleaned with), ``<br>`` as a newline.

    Attribute values (a link's ``title`` or ``href``) are never text, however they are
    quoted: ``title="x>words"`` stays inside the tag as it does on the page.
    """
    parts: list[str] = []
    # A parser per call: an html5lib parser holds its state while it parses (threads share this module).
    parser = html5lib_shim.HTMLParser(namespaceHTMLElements=False)  # type: ignore[attr-defined]
    for token in _walker(parser.parseFragment(cleaned_html)):
        if token["type"] in {"Characters", "SpaceCharacters"}:
            parts.append(token["data"])
        elif token["type"] in {"EmptyTag", "StartTag"} and token["name"] == "br":
            parts.append("\n")
    return "".join(parts).strip()
