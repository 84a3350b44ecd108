"""formats.telegram_text.split_message: every part is one Telegram accepts, nothing is lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from formats.telegram_text import html_problem, split_message, visible_text

TAGS = ("b", "i", "u", "s", "code", "tg-spoiler", 'a href="https://e.org/?a=1&amp;b=2"')


def _close(tag: str) -> str:
    return f"</{tag.split()[0]}>"


words = st.text(alphabet="аб вгґдеєжзи\nxyz", min_size=1, max_size=300)
fragments = st.recursive(
    st.one_of(words, st.sampled_from(["&amp;", "&lt;", "&gt;", "\n"])),
    lambda inner: st.tuples(st.sampled_from(TAGS), st.lists(inner, max_size=4)).map(
        lambda pair: f"<{pair[0]}>" + "".join(pair[1]) + _close(pair[0])
    ),
    max_leaves=30,
)
documents = st.lists(fragments, min_size=1, max_size=40).map("".join)


def _words(text: str) -> list[str]:
    return visible_text(text).split()


def test_a_long_bold_run_becomes_two_bold_parts() -> None:
    parts = split_message("<b>" + "а" * 5000 + "</b>")
    assert len(parts) == 2
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)
    assert all(html_problem(p) is None and len(p) <= 4096 for p in parts)
    assert "".join(visible_text(p) for p in parts) == "а" * 5000


def test_a_cut_inside_a_link_keeps_the_link_in_both_parts() -> None:
    text = '<a href="https://vmr.gov.ua/">' + "слово " * 1000 + "</a>"
    parts = split_message(text)
    assert len(parts) == 2
    assert all(p.startswith('<a href="https://vmr.gov.ua/">') for p in parts)
    assert _words("".join(parts)) == _words(text)


@settings(max_examples=150, deadline=None)
@given(documents, st.integers(min_value=400, max_value=1200))
def test_every_part_is_valid_within_the_limit_and_nothing_is_lost(text: str, limit: int) -> None:
    parts = split_message(text, limit)
    for part in parts:
        assert html_problem(part) is None, part
        assert len(part) <= limit
    if visible_text(text).strip():
        # Cuts fall between characters of the text only: the letters come out in order.
        joined = "".join(visible_text(p) for p in parts)
        assert joined.replace("\n", "").replace(" ", "") == visible_text(text).replace(
            "\n", ""
        ).replace(" ", "")
