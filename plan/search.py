"""Ranked full-text search over the plan's measures, tolerant of Ukrainian word forms."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from plan.model import Measure

__all__ = ["MeasureSearch", "SearchHit", "normalize", "stem"]

# Field weights: a word in the title says most about what a measure is; the responsible bodies
# are shared by almost every measure, so they only help when nothing better matches.
TITLE_WEIGHT = 3.0
RESULTS_WEIGHT = 2.0
INDICATOR_WEIGHT = 1.5
RESPONSIBLE_WEIGHT = 0.5

# A prefix match ("грант" ~ "грантовий") is good evidence but weaker than the same stem.
PREFIX_FACTOR = 0.75

# The query is arbitrary user text; bound the work whatever arrives. 4096 is Telegram's
# message limit, so anything longer is not a question a person typed.
MAX_QUERY_CHARS = 4096
MAX_QUERY_TERMS = 20

# BM25 constants, the usual defaults.
_K1 = 1.2
_B = 0.75

_MIN_STEM = 3
_MIN_PREFIX = 4

# Typewriter, typographic and modifier-letter apostrophes all spell the same Ukrainian word.
_APOSTROPHES = "'`\u2019\u2018\u02bc\u02b9\u2032\u00b4\uff07"
# Soft hyphens and zero-width characters come along with text pasted from documents.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_TRANSLATION: dict[int, str | None] = {ord(c): None for c in _APOSTROPHES + _INVISIBLE}
_TRANSLATION[ord("ґ")] = "г"

_WORD = re.compile(r"[^\W_]+")
_HAS_CYRILLIC = re.compile(r"[а-яіїє]")
_HAS_LATIN = re.compile(r"[a-z]")
# Users switch keyboard layouts mid-word ("IГС" with a Latin I); only letters that look the
# same are mapped, and only inside words that already mix both scripts.
_LATIN_LOOKALIKES = str.maketrans("aceiopxykmthb", "асеіорхукмтнв")

_STOP_WORDS_TEXT = """
    та і й в у з зі із зо на до для що як а але або чи не по про при за від через щодо
    це цей ця ці його її їх так же то тощо
    the of and or a an in to for on is
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Inflectional endings, after normalize() (so "ґ" never appears). Longest match wins; "-ість"
# forms are listed so that "участі"/"участь" and "-ості"/"-ість" meet.
_ENDINGS_TEXT = """
    ами ями ах ях ам ям ом ем єм ою ею єю ів їв ей ові еві єві ія ії ію ією ня
    ість ості істю остей
    ого ому ього ьому ими іми их іх ій ий ої им ім
    ться тися ся ти ть ють ять уть ує ює
    а я у ю і и е о ь ї
"""
_ENDINGS: tuple[str, ...] = tuple(sorted(set(_ENDINGS_TEXT.split()), key=len, reverse=True))
_CONSONANTS = frozenset("бвгджзклмнпрстфхцчшщ")


def normalize(text: str) -> str:
    """Lowercase, drop apostrophes and invisible characters, fold ґ into г, collapse spaces."""
    folded = unicodedata.normalize("NFC", text).lower().translate(_TRANSLATION)
    # The plan itself spells both «проект» (old) and «проєкт» (current): one word to a reader.
    folded = folded.replace("проєкт", "проект")
    return " ".join(folded.split())


def _stem_normalized(word: str) -> str:
    if len(word) <= _MIN_STEM:
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            word = word[: -len(ending)]
            break
    # "навчання" -> "навчанн" but "навчань" -> "навчан": undoubling the final consonant makes
    # the -ння/-ття nouns meet their own genitive plurals and participles ("проведено").
    if len(word) > _MIN_STEM and word[-1] == word[-2] and word[-1] in _CONSONANTS:
        word = word[:-1]
    return word


def stem(word: str) -> str:
    """A light Ukrainian stemmer: strip the longest inflectional ending, keep >= 3 letters."""
    return _stem_normalized(normalize(word).replace(" ", ""))


def _words(text: str) -> Iterator[str]:
    """Normalised, non-stop-word tokens of text, in order, lazily."""
    for match in _WORD.finditer(normalize(text)):
        word = match.group()
        if _HAS_LATIN.search(word) and _HAS_CYRILLIC.search(word):
            word = word.translate(_LATIN_LOOKALIKES)
        if len(word) < 2 or word in _STOP_WORDS:
            continue
        yield word


def _query_terms(query: str) -> list[str]:
    terms: list[str] = []
    for word in _words(query[:MAX_QUERY_CHARS]):
        term = _stem_normalized(word)
        if term not in terms:
            terms.append(term)
            if len(terms) >= MAX_QUERY_TERMS:
                break
    return terms


def _match_factor(query: str, term: str) -> float:
    """How well an indexed stem answers a query stem: 1 for equal, PREFIX_FACTOR, or 0."""
    if query == term:
        return 1.0
    shortest = min(len(query), len(term))
    if shortest < _MIN_PREFIX:
        # Short stems are too ambiguous to extend: "про" must not find "проєкт".
        return 0.0
    common = 0
    for a, b in zip(query, term, strict=False):
        if a != b:
            break
        common += 1
    # Short stems must be a whole prefix of the other; longer ones may differ in the last
    # letter or two, where Ukrainian suffixes vary ("навчан" ~ "навчальн").
    slack = 0 if shortest <= 5 else 1 if shortest <= 7 else 2
    return PREFIX_FACTOR if common >= max(_MIN_PREFIX, shortest - slack) else 0.0


def _fields(measure: Measure) -> Iterator[tuple[str, float]]:
    yield measure.title, TITLE_WEIGHT
    yield measure.expected_results, RESULTS_WEIGHT
    for indicator in measure.indicators:
        yield indicator.description, INDICATOR_WEIGHT
        yield indicator.unit, INDICATOR_WEIGHT
    for body in measure.responsible:
        yield body.short, RESPONSIBLE_WEIGHT
        if body.full != body.short:
            yield body.full, RESPONSIBLE_WEIGHT


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One measure found by a search; a higher score is a better match."""

    measure: Measure
    score: float


class MeasureSearch:
    """An in-memory index over the measures, built once, answering free-text queries."""

    __slots__ = ("_avg_length", "_buckets", "_lengths", "_measures", "_postings")

    def __init__(self, measures: Sequence[Measure]) -> None:
        self._measures: tuple[Measure, ...] = tuple(measures)
        # stem -> {measure index: field-weighted term frequency} (BM25F-style)
        self._postings: dict[str, dict[int, float]] = defaultdict(dict)
        self._lengths: list[float] = []
        for index, measure in enumerate(self._measures):
            frequencies: dict[str, float] = defaultdict(float)
            length = 0.0
            for text, weight in _fields(measure):
                for word in _words(text):
                    frequencies[_stem_normalized(word)] += weight
                    length += weight
            self._lengths.append(length)
            for term, frequency in frequencies.items():
                self._postings[term][index] = frequency
        self._avg_length = (sum(self._lengths) / len(self._lengths) if self._lengths else 0) or 1.0
        # Any match, exact or prefix, shares the first three letters, so a query stem only has
        # to be compared with its own bucket rather than the whole vocabulary.
        buckets: dict[str, list[str]] = defaultdict(list)
        for term in self._postings:
            buckets[term[:_MIN_STEM]].append(term)
        # Plain dicts from here on: searching must never grow the index by a lookup.
        self._buckets: dict[str, list[str]] = dict(buckets)
        self._postings = dict(self._postings)

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best `limit` measures for a free-text query, best first; [] when nothing fits."""
        if not isinstance(query, str) or limit <= 0 or not self._measures:
            return []
        terms = _query_terms(query)
        if not terms:
            return []
        count = len(self._measures)
        matched: dict[int, int] = defaultdict(int)
        relevance: dict[int, float] = defaultdict(float)
        for query_term in terms:
            frequencies: dict[int, float] = defaultdict(float)
            for term in self._buckets.get(query_term[:_MIN_STEM], ()):
                factor = _match_factor(query_term, term)
                if factor:
                    for index, frequency in self._postings[term].items():
                        frequencies[index] += factor * frequency
            if not frequencies:
                continue
            found_in = len(frequencies)
            idf = math.log(1.0 + (count - found_in + 0.5) / (found_in + 0.5))
            for index, frequency in frequencies.items():
                norm = 1.0 - _B + _B * self._lengths[index] / self._avg_length
                relevance[index] += idf * frequency * (_K1 + 1.0) / (frequency + _K1 * norm)
                matched[index] += 1
        # The integer part counts matched query words and the fraction is BM25 squashed below 1,
        # so a measure matching more of the words always outranks one matching fewer.
        ranked = sorted(
            ((matched[i] + relevance[i] / (1.0 + relevance[i]), i) for i in matched),
            key=lambda pair: (-pair[0], pair[1]),
        )
        return [SearchHit(self._measures[i], score) for score, i in ranked[:limit]]
