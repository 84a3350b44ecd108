"""Text as Telegram takes it: its HTML parse mode checked as Telegram checks it (after tdlib's
parse_html), visible length, escaping user text, and splitting long replies.

Plain functions used by every layer (the bot's replies, the newsletter, the local Bot API of
`cso-bot chat`, the tests' fake server), so a text Telegram would refuse fails here first.
"""

from __future__ import annotations

import html
import re
from typing import Any

# ---------------------------------------------------------------------------------------------
# HTML parse mode, after tdlib's parse_html (td/telegram/MessageEntity.cpp)
# ---------------------------------------------------------------------------------------------


class HTMLParseError(ValueError):
    """Text that Telegram would refuse with "can't parse entities"."""


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# tdlib's order for entities sharing offset and length (outermost first)
_ENTITY_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPACE = " \t\r\n\v"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_PLAIN_RUN = re.compile(r"[^&<]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf16_units(text: str) -> int:
    """utf16_len that also counts a lone surrogate (one unit), as Telegram's parser does."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_html_entity(text: str, pos: int, *, strict: bool) -> tuple[str | None, int]:
    """Decode the character reference at text[pos] == "&"; (None, pos) if there is none."""
    end = pos + 1
    n = len(text)
    if end < n and text[end] == "#":
        end += 1
        code = 0
        if end < n and text[end] == "x":  # tdlib accepts only a lowercase x
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                code = code * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                code = code * 10 + int(text[end])
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None, pos
        char = named
    if end < n and text[end] == ";":
        return char, end + 1
    # Telegram also takes "&lt" without the semicolon; strict mode treats that as a
    # forgotten escape, which is what it almost always is in bot code.
    return (None, pos) if strict else (char, end)


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (visible text, entities); raise HTMLParseError like Telegram.

    Messages mirror tdlib's. With strict=True a "&" that starts no character reference is
    an error too: Telegram keeps it literally, but it means the bot forgot to escape
    user-supplied text, and the next "&lt;" in that text would be silently eaten.
    """
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def byte_offset(k: int) -> int:
        return len(text[:k].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    # (tag name, argument, utf16 offset at the start tag, index into out at the start tag)
    stack: list[tuple[str, str, int, int]] = []
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            char, end = _decode_html_entity(text, i, strict=strict)
            if char is not None:
                out.append(char)
                utf16 += 2 if ord(char) > 0xFFFF else 1
                i = end
                continue
            if strict:
                raise HTMLParseError(
                    f'Character "&" at byte offset {byte_offset(i)} must be escaped as "&amp;"'
                )
            out.append(c)
            utf16 += 1
            i += 1
            continue
        if c != "<":
            # A run of plain text at once: a reply is mostly text between a few tags.
            run = _PLAIN_RUN.match(text, i).group()  # type: ignore[union-attr]
            out.append(run)
            utf16 += len(run) if run.isascii() else _utf16_units(run)
            i += len(run)
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) and at(i) not in _HTML_SPACE and at(i) != ">":
                i += 1
            if not at(i):
                raise HTMLParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HTMLParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while at(i) and at(i) in _HTML_SPACE:
                    i += 1
                if at(i) == ">":
                    break
                name_begin = i
                while at(i) and at(i) not in _HTML_SPACE and at(i) not in "=>":
                    i += 1
                name = text[name_begin:i]
                if not name:
                    raise HTMLParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while at(i) and at(i) in _HTML_SPACE:
                    i += 1
                if at(i) != "=":
                    # Bot API 7.3 added the value-less <blockquote expandable>.
                    if tag == "blockquote" and name == "expandable" and at(i):
                        argument = "expandable"
                        continue
                    raise HTMLParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while at(i) and at(i) in _HTML_SPACE:
                    i += 1
                if not at(i):
                    raise HTMLParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                if at(i) not in "'\"":
                    # An unquoted name token: letters, digits, periods and hyphens only.
                    token_begin = i
                    while at(i) and ((at(i).isascii() and at(i).isalnum()) or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if at(i) and at(i) not in _HTML_SPACE and at(i) != ">":
                        raise HTMLParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{byte_offset(token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while at(i) and at(i) != quote:
                        if text[i] == "&":
                            # Attribute values are decoded leniently even by strict callers:
                            # "&" is common in URLs and Telegram never rejects it there.
                            char, end = _decode_html_entity(text, i, strict=False)
                            if char is not None:
                                chars.append(char)
                                i = end
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if not at(i):
                    raise HTMLParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HTMLParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1  # past ">"
            continue

        # an end tag
        if not stack:
            raise HTMLParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) and at(i) not in _HTML_SPACE and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while at(i) and at(i) in _HTML_SPACE:
            i += 1
        if at(i) != ">":
            raise HTMLParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        i += 1
        tag, argument, offset, out_begin = stack.pop()
        if end_tag and end_tag != tag:
            raise HTMLParseError(
                f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        if utf16 > offset:  # empty elements produce no entity
            entity = _html_entity(tag, argument, offset, utf16 - offset, out[out_begin:], entities)
            if entity is not None:
                entities.append(entity)

    if stack:
        raise HTMLParseError(f"Can't find end tag corresponding to start tag {stack[-1][0]}")
    visible = "".join(out)
    if _SURROGATE.search(visible):
        raise HTMLParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY[e["type"]]))
    return visible, _finish_entities(entities)


def _html_entity(
    tag: str,
    argument: str,
    offset: int,
    length: int,
    inner: list[str],
    entities: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """The MessageEntity a closed element produces; None when it merges or is dropped."""
    if tag in _SIMPLE_ENTITY:
        return {"type": _SIMPLE_ENTITY[tag], "offset": offset, "length": length}
    if tag == "tg-emoji":
        if not argument.isdigit() or not 0 < int(argument) < 2**63:
            raise HTMLParseError("Invalid custom emoji identifier specified")
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": argument,
        }
    if tag == "a":
        url = argument or "".join(inner)
        if not url or any(ch in _HTML_SPACE for ch in url.strip()):
            return None  # Telegram silently drops links it cannot check
        return {"type": "text_link", "offset": offset, "length": length, "url": url.strip()}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag == "pre":
        # <pre><code class="language-x"> is a single pre entity with a language
        if same_span and last is not None and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return None
        return {"type": "pre", "offset": offset, "length": length}
    if tag == "code":
        if same_span and last is not None and last["type"] == "pre" and argument:
            last["language"] = argument
            return None
        entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
        if argument:
            # kept only until an enclosing <pre> closes; stripped in _finish_entities
            entity["language"] = argument
        return entity
    if tag == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    raise AssertionError(f"unhandled tag {tag}")  # pragma: no cover


def _finish_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # A language only counts on a <code> directly inside <pre>; tdlib drops it elsewhere.
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return entities


def trim_entities(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse this HTML, or None when it accepts it."""
    try:
        parse_html(text)
    except HTMLParseError as error:
        return str(error)
    return None


def visible_text(text: str) -> str:
    """The text a reader sees: tags removed, entities decoded (or the raw text if invalid)."""
    try:
        return parse_html(text, strict=False)[0]
    except HTMLParseError:
        return text


def visible_length(text: str) -> int:
    return len(visible_text(text))


MESSAGE_LIMIT = 4096
ECHO_LIMIT = 200
BUTTON_TEXT_LIMIT = 60  # a button label longer than this is cut on a phone anyway


def shorten(text: str, limit: int = BUTTON_TEXT_LIMIT) -> str:
    """Plain text on one line, cut to `limit` characters with an ellipsis: the one rule for
    cutting a label (a button, which Telegram never parses as HTML; a line of a list) or an
    echo of what a person typed (echo() cuts first and escapes after)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def echo(user_text: str, limit: int = ECHO_LIMIT) -> str:
    """User text made safe to show inside HTML, shortened to a readable length."""
    # Cut before escaping: cutting after could leave half an entity such as "&a".
    return html.escape(shorten(user_text, limit), quote=False)


_TOKEN = re.compile(r"<[^<>]*>|&[#a-zA-Z0-9]{1,32};|[^<&\n]+|\n|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][a-zA-Z0-9-]*)")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _opened(stack: list[tuple[str, str]], token: str) -> None:
    """Follow a tag token: push an opening tag (its name and text), pop a closing one."""
    if not token.startswith("<") or not token.endswith(">"):
        return
    match = _TAG_NAME.match(token)
    if match is None:
        return
    name = match.group(1).lower()
    if token.startswith("</"):
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == name:
                del stack[index:]
                break
    else:
        stack.append((name, token))


def _cost(piece: str) -> int:
    """Characters a token takes in a part, with the closing tag it commits the part to."""
    opened: list[tuple[str, str]] = []
    _opened(opened, piece)
    return len(piece) + len(_closing(opened))


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


_TAG_TOKEN = re.compile(r"<[^<>]*>")  # the tag tokens of _TOKEN, found alone
# A text starting with quote-free tags and spaces, then a character that shows: the parser
# consumes such tags exactly, so that character is visible whether the rest parses or not.
_SHOWS_AT_ONCE = re.compile(r"""(?:<[^<>"']*>|\s)*[^\s<&]""")


def _shows(body: str) -> bool:
    """visible_text(body).strip() is not empty (without parsing body when its start says so)."""
    return _SHOWS_AT_ONCE.match(body) is not None or bool(visible_text(body).strip())


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML text into parts of at most `limit` characters that Telegram accepts each.

    Cuts fall at line ends where possible, else between words, else anywhere but inside a tag or
    an entity such as &amp;. A cut inside formatting closes the open tags at the end of the part
    and opens them again at the start of the next, so `<b>` + 5000 letters + `</b>` becomes two
    bold parts. Lengths are counted on the HTML itself, which is never shorter than what the
    reader sees, so every part is within Telegram's limit.
    """
    if len(text) <= limit:
        # Nearly every reply: when the text with a closing tag for every opening one still fits,
        # `_split` would make no cut; its one part is built here without its token walk.
        stack: list[tuple[str, str]] = []
        reserve = len(text)
        for tag in _TAG_TOKEN.findall(text):
            if not tag.startswith("</"):
                reserve += len(tag) + 3  # at least its closing tag
            _opened(stack, tag)
        if reserve <= limit:
            body = text.rstrip("\n")
            return [body + _closing(stack)] if _shows(body) else ["…"]
    return _split(text, limit)


def _split(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # tags open at the end of `current`
    current: list[str] = []  # tokens of the part being built, reopened tags first
    reopened = 0  # how many of them are reopened tags: before those, nothing to cut
    size = 0  # characters in `current`
    last_newline = -1  # index in `current` of the last line break: the preferred cut

    def cut(upto: int) -> list[str]:
        """Emit current[:upto] as a part, closing what is open there; return the next part's
        start: those tags opened again, then the rest of `current`."""
        head, rest = current[:upto], current[upto:]
        open_at_cut: list[tuple[str, str]] = []
        for piece in head:
            _opened(open_at_cut, piece)
        body = "".join(head).rstrip("\n")
        if _shows(body):
            parts.append(body + _closing(open_at_cut))
        while rest and rest[0] == "\n":
            rest.pop(0)
        return [tag for _, tag in open_at_cut] + rest

    queue = _tokens(text)
    queue.reverse()
    while queue:
        piece = queue.pop()
        room = limit - size - len(_closing(stack))
        is_text = not piece.startswith(("<", "&")) and piece != "\n"
        empty = len(current) <= reopened
        if (
            is_text
            and len(piece) > room
            and room > 0
            and (empty or last_newline < 0 or room >= limit // 4)
        ):
            # A run of text too long for what is left: cut it at a space, else anywhere.
            at = piece.rfind(" ", 0, room)
            at = at + 1 if at > 0 else room
            queue.extend([piece[at:], piece[:at]])
            continue
        # A part with nothing in it yet takes the piece whatever its size (only tags longer than
        # the limit could make it so), so splitting always moves on.
        # An opening tag also brings the closing tag a cut would have to add.
        if _cost(piece) <= room or empty:
            current.append(piece)
            size += len(piece)
            _opened(stack, piece)
            if piece == "\n":
                last_newline = len(current) - 1
            continue
        queue.append(piece)
        current = cut(last_newline + 1 if last_newline > reopened else len(current))
        stack = []
        for piece in current:
            _opened(stack, piece)
        reopened = len(stack)
        size = sum(len(t) for t in current)
        last_newline = max((i for i, t in enumerate(current) if t == "\n"), default=-1)
    cut(len(current))
    return parts or ["…"]
