"""The language a piece of user-written text is in, as far as its script tells: Chinese or English.

Screen readers pick their voice from ``lang``; a Chinese message read with an English voice is
spelled out character by character. Pages mark user content whose script differs from the page's
language (``{{ text|lang_attr }}``, agora/templatetags/agora_tags.py).
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<[^>]*>|&[#\w]+;")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CHINESE = "zh-Hans"
ENGLISH = "en"


def text_language(text: str | None) -> str | None:
    """``zh-Hans`` for text with Chinese characters (one character says more than a Latin word),
    ``en`` for text of more Latin words than Chinese characters, None when the script says nothing (numbers)."""
    if not text:
        return None
    plain = _TAG.sub(" ", str(text))
    han = len(_HAN.findall(plain))
    words = len(_LATIN_WORD.findall(plain))
    if han and han >= words:
        return CHINESE
    return ENGLISH if words else None


def page_language_tag(language_code: str | None) -> str:
    """The BCP 47 tag of a Django language code: ``zh-hans`` → ``zh-Hans``."""
    code = (language_code or "").lower()
    return CHINESE if code.startswith("zh") else ENGLISH


def differs_from_page(text: str | None, language_code: str | None) -> str | None:
    """The text's language when it is not the page's, else None."""
    language = text_language(text)
    if language is None or language == page_language_tag(language_code):
        return None
    return language
