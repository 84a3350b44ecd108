"""Telegram's HTML parse mode, checked as strictly as Telegram does, and its visible length."""

from __future__ import annotations

import re
from html import unescape

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse this HTML, or None when it would accept it."""
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            if not _ENTITY.match(text, i):
                return f"can't find end of the entity starting at byte offset {i}"
            i = text.index(";", i) + 1
            continue
        if ch == "<":
            tag = _TAG.match(text, i)
            if tag is None:
                return f"unsupported start tag at byte offset {i}"
            closing, name = tag.group(1) == "/", tag.group(2).lower()
            if name not in ALLOWED_TAGS:
                return f'unsupported start tag "{name}" at byte offset {i}'
            if closing:
                if not stack or stack[-1] != name:
                    expected = stack[-1] if stack else ""
                    return f'unmatched end tag at byte offset {i}, expected "</{expected}>"'
                stack.pop()
            else:
                stack.append(name)
            i = tag.end()
            continue
        i += 1
    if stack:
        return f'can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def visible_text(text: str) -> str:
    """The text a reader sees: tags removed, entities decoded."""
    return unescape(_TAG.sub("", text))


def visible_length(text: str) -> int:
    return len(visible_text(text))
