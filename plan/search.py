"""Ranked full-text search over the plan's measures, tolerant of Ukrainian word forms and typos.

Word forms are met twice over: a light stemmer strips regular endings ("форуму" ~ "форум"), and
a real Ukrainian morphology (pymorphy3 with its Ukrainian dictionary) adds each known word's
dictionary form as an extra term, which reaches the irregular ones no ending rule can ("шкіл" ~
"школа", "дітей" ~ "дитина", "людей" ~ "людина"). A query that finds nothing is offered the
nearest words of the index's own vocabulary (rapidfuzz), so "фрум" leads to "форум".
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from plan.model import Measure

__all__ = ["MeasureSearch", "SearchHit", "normalize", "stem"]

# Field weights: a word in the title says most about what a measure is; the responsible bodies
# are shared by almost every measure, so they only help when nothing better matches.
TITLE_WEIGHT = 3.0
RESULTS_WEIGHT = 2.0
INDICATOR_WEIGHT = 1.5
RESPONSIBLE_WEIGHT = 0.5
# The plan file's English keywords stand for the title in the English interface.
KEYWORD_WEIGHT = 2.0

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

# A dictionary form found by the morphology weighs a little less than the word as written.
LEMMA_FACTOR = 0.9
# How alike (rapidfuzz ratio, 0-100) a vocabulary word must be to be offered for a typo, and
# the shortest word worth correcting: "фрум" is a typo of "форум", "ім" is not of anything.
SUGGEST_CUTOFF = 75.0
_MIN_SUGGEST = 4

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


@lru_cache(maxsize=8192)
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


@cache
def _morphology() -> Any:
    """The Ukrainian morphological analyser, loaded once on first use (about 0.3 s, 15 MB)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk")


@lru_cache(maxsize=4096)
def _lemma_stems(word: str) -> tuple[str, ...]:
    """Stems of a normalised word's dictionary forms that differ from its own stem.

    Only words the dictionary knows are expanded: its guesses for unknown words (typos, names)
    would add noise rather than forms.
    """
    morph = _morphology()
    if not morph.word_is_known(word):
        return ()
    own = _stem_normalized(word)
    found: list[str] = []
    for parse in morph.parse(word):
        lemma = _stem_normalized(normalize(parse.normal_form).replace(" ", ""))
        if lemma != own and lemma not in found:
            found.append(lemma)
    return tuple(found)


def _dictionary_form(word: str) -> str:
    """The word as a dictionary lists it ("грантів" -> "грант"), or as written if unknown."""
    morph = _morphology()
    return normalize(morph.parse(word)[0].normal_form) if morph.word_is_known(word) else word


def _words(text: str) -> Iterator[str]:
    """Normalised, non-stop-word tokens of text, in order, lazily."""
    for match in _WORD.finditer(normalize(text)):
        word = match.group()
        if _HAS_LATIN.search(word) and _HAS_CYRILLIC.search(word):
            word = word.translate(_LATIN_LOOKALIKES)
        if len(word) < 2 or word in _STOP_WORDS:
            continue
        yield word


def _query_words(query: str) -> list[str]:
    """The distinct words of a query (by stem), at most MAX_QUERY_TERMS of them."""
    words: list[str] = []
    stems: set[str] = set()
    for word in _words(query[:MAX_QUERY_CHARS]):
        term = _stem_normalized(word)
        if term not in stems:
            stems.add(term)
            words.append(word)
            if len(words) >= MAX_QUERY_TERMS:
                break
    return words


def _query_terms(query: str) -> list[tuple[tuple[str, float], ...]]:
    """Per query word, the stems that may answer it: its own, then its dictionary forms'."""
    return [
        ((_stem_normalized(word), 1.0), *((lemma, LEMMA_FACTOR) for lemma in _lemma_stems(word)))
        for word in _query_words(query)
    ]


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
    for keyword in measure.keywords_en:
        yield keyword, KEYWORD_WEIGHT
    for body in measure.responsible:
        yield body.short, RESPONSIBLE_WEIGHT
        if body.full != body.short:
            yield body.full, RESPONSIBLE_WEIGHT


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One measure found by a search; a higher score is a better match."""

    measure: Measure
    score: float


@dataclass(frozen=True, slots=True)
class _Index:
    postings: dict[str, dict[int, float]]  # stem -> {measure index: weighted term frequency}
    lengths: list[float]
    avg_length: float
    buckets: dict[str, list[str]]  # the first three letters of a stem -> the stems
    # For typo suggestions: every indexed word and stem -> the word to offer (the dictionary
    # form of that stem's shortest word, so "грнат" is offered "грант", not "грантового").
    vocabulary: dict[str, str]


def _build_index(measures: Sequence[Measure]) -> _Index:
    postings: dict[str, dict[int, float]] = defaultdict(dict)
    lengths: list[float] = []
    vocabulary: set[str] = set()
    for index, measure in enumerate(measures):
        frequencies: dict[str, float] = defaultdict(float)
        length = 0.0
        for text, weight in _fields(measure):
            for word in _words(text):
                vocabulary.add(word)
                frequencies[_stem_normalized(word)] += weight
                for lemma in _lemma_stems(word):
                    frequencies[lemma] += weight * LEMMA_FACTOR
                length += weight
        lengths.append(length)
        for term, frequency in frequencies.items():
            postings[term][index] = frequency
    offered: dict[str, str] = {}
    for word in sorted(vocabulary, key=lambda w: (len(w), w)):
        offered.setdefault(_stem_normalized(word), _dictionary_form(word))
    suggestions = {w: offered[_stem_normalized(w)] for w in vocabulary}
    suggestions.update(offered)
    # Any match, exact or prefix, shares the first three letters, so a query stem only has to
    # be compared with its own bucket rather than the whole vocabulary.
    buckets: dict[str, list[str]] = defaultdict(list)
    for term in postings:
        buckets[term[:_MIN_STEM]].append(term)
    # Plain dicts: searching must never grow the index by a lookup.
    return _Index(
        postings=dict(postings),
        lengths=lengths,
        avg_length=(sum(lengths) / len(lengths) if lengths else 0) or 1.0,
        buckets=dict(buckets),
        vocabulary={k: v for k, v in sorted(suggestions.items()) if len(k) >= _MIN_SUGGEST},
    )


# One index per distinct list of measures per process: an app built again over the same plan
# (a test, a benchmark round, a restart of the dispatcher) finds it built. Keyed by content, so
# a plan loaded afresh from the same file shares it too; a few lists at most are kept.
_INDEXES_KEPT = 8
_indexes: dict[tuple[Measure, ...], _Index] = {}
_indexes_lock = threading.Lock()


def _index_of(measures: tuple[Measure, ...]) -> _Index:
    with _indexes_lock:
        index = _indexes.get(measures)
        if index is None:
            index = _build_index(measures)
            while len(_indexes) >= _INDEXES_KEPT:
                del _indexes[next(iter(_indexes))]
            _indexes[measures] = index
        return index


class MeasureSearch:
    """An in-memory index over the measures, answering free-text queries.

    The index is built on first use (or by `warm()`, which start-up runs in a thread), because
    the morphology it needs takes a moment to load and start-up should not wait for it; it is
    built once per process for the same measures, however many searches are made over them.
    """

    __slots__ = ("_index", "_measures")

    def __init__(self, measures: Sequence[Measure]) -> None:
        self._measures: tuple[Measure, ...] = tuple(measures)
        self._index: _Index | None = None

    def warm(self) -> None:
        """Build the index now (safe to call from a worker thread, once or many times)."""
        self._built()

    def _built(self) -> _Index:
        if self._index is None:
            self._index = _index_of(self._measures)
        return self._index

    def suggest(self, query: str) -> str | None:
        """The query with each word the index does not know replaced by the nearest word it
        does ("фрум" -> "форум"); None when there is nothing to correct."""
        if not isinstance(query, str) or not self._measures:
            return None
        index = self._built()
        corrected: list[str] = []
        changed = False
        for word in _query_words(query):
            known = any(
                _match_factor(term, candidate)
                for term, _ in _query_terms(word)[0]
                for candidate in index.buckets.get(term[:_MIN_STEM], ())
            )
            best = None
            if not known and len(word) >= _MIN_SUGGEST:
                best = process.extractOne(
                    word, list(index.vocabulary), scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF
                )
            if best is not None:
                corrected.append(index.vocabulary[best[0]])
                changed = True
            else:
                corrected.append(word)
        return " ".join(corrected) if changed else None

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best `limit` measures for a free-text query, best first; [] when nothing fits."""
        if not isinstance(query, str) or limit <= 0 or not self._measures:
            return []
        terms = _query_terms(query)
        if not terms:
            return []
        index_ = self._built()
        count = len(self._measures)
        matched: dict[int, int] = defaultdict(int)
        relevance: dict[int, float] = defaultdict(float)
        for alternatives in terms:
            factors: dict[str, float] = {}
            for query_term, weight in alternatives:
                for term in index_.buckets.get(query_term[:_MIN_STEM], ()):
                    factor = _match_factor(query_term, term) * weight
                    if factor > factors.get(term, 0.0):
                        factors[term] = factor
            frequencies: dict[int, float] = defaultdict(float)
            for term, factor in factors.items():
                for index, frequency in index_.postings[term].items():
                    frequencies[index] += factor * frequency
            if not frequencies:
                continue
            found_in = len(frequencies)
            idf = math.log(1.0 + (count - found_in + 0.5) / (found_in + 0.5))
            for index, frequency in frequencies.items():
                norm = 1.0 - _B + _B * index_.lengths[index] / index_.avg_length
                relevance[index] += idf * frequency * (_K1 + 1.0) / (frequency + _K1 * norm)
                matched[index] += 1
        # The integer part counts matched query words and the fraction is BM25 squashed below 1,
        # so a measure matching more of the words always outranks one matching fewer.
        ranked = sorted(
            ((matched[i] + relevance[i] / (1.0 + relevance[i]), i) for i in matched),
            key=lambda pair: (-pair[0], pair[1]),
        )
        return [SearchHit(self._measures[i], score) for score, i in ranked[:limit]]
