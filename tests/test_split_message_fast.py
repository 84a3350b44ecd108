"""split_message's shortcut for a text that fits gives exactly what the full walk gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from formats.telegram_text import _split, split_message

# Well-formed pieces, and the broken ones a careless caller could pass: unclosed and stray tags,
# quotes holding < or >, a bare & or <, blank content.
pieces = st.sampled_from(
    [
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<code>",
        "</code>",
        '<a href="https://e.org/?a=1&amp;b=2">',
        '<a href="x>y">',
        "<a href='<'>",
        "</a>",
        "<tg-spoiler>",
        "</tg-spoiler>",
        "<blockquote expandable>",
        "</blockquote>",
        "<span>",
        "<>",
        "< b>",
        "&amp;",
        "&lt;",
        "&#32;",
        "&nbsp;",
        "&",
        "<",
        ">",
        " ",
        "\n",
        "\u00a0",
        "а",
        "word",
        '"',
    ]
)
texts = st.lists(pieces, max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts, st.integers(min_value=1, max_value=400))
def test_the_shortcut_equals_the_walk(text: str, limit: int) -> None:
    assert split_message(text, limit) == _split(text, limit)


def test_blank_and_tag_only_texts_still_become_an_ellipsis() -> None:
    for text in ("", "\n\n", "<b> </b>", "<b></b>\n", "&#32;"):
        assert split_message(text) == ["…"] == _split(text, 4096)


def test_an_unclosed_tag_is_closed_as_before() -> None:
    assert split_message("<b>bold") == ["<b>bold</b>"] == _split("<b>bold", 4096)
