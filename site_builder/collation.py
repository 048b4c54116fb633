"""Sort and file text as readers expect: by the Unicode Collation Algorithm (pyuca), under its first letter; Chinese
by its pinyin (pypinyin)."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any


@functools.cache
def _collator() -> Any:
    import pyuca  # the Unicode Collation Algorithm: 'Š' sorts with 'S', 'é' with 'e'

    return pyuca.Collator()


def collation_key(text: str) -> str:
    """A key that sorts text as the Unicode Collation Algorithm does, ignoring leading quotes and brackets: pyuca's
    sort key (each level's weights, 0 between levels) as a string of those code points, so that keys compare in C."""
    text = _without_lead(text)
    if text.isascii():  # no two ASCII characters form a contraction: a character's weights are its own
        return "\0".join(text.translate(level) for level in _ascii_levels())
    return "".join(map(chr, _collator().sort_key(text)))


@functools.cache
def _ascii_levels() -> tuple[dict[int, str], ...]:
    """For each of the four levels, each ASCII character's non-zero weights as a string, for str.translate."""
    elements = {c: _collator().collation_elements(unicodedata.normalize("NFD", chr(c))) for c in range(128)}
    return tuple(
        {c: "".join(chr(e[level]) for e in found if len(e) > level and e[level]) for c, found in elements.items()}
        for level in range(4)
    )


def reads_as_written(language: str) -> bool:
    """Whether readers of `language` look text up by its letters as written (else by `reading`: Chinese)."""
    return not language.lower().startswith("zh")


def reading(text: str, language: str) -> str:
    """Text as a reader of `language` looks it up: Chinese by its pinyin, as Chinese dictionaries and indexes order
    it ('宝马' → 'bao3ma3': the tone's number after each syllable, so that 'hua' comes before 'huang' and tones
    break ties); letters and digits among the characters are kept ('LG新能源' → 'LGxin1neng2yuan2'). In any other
    language, the text itself."""
    if reads_as_written(language):
        return text
    from pypinyin import Style, lazy_pinyin  # its tables are loaded only for a Chinese edition

    return "".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


_LEAD = re.compile(r"^[^\w]+")


def _without_lead(text: str) -> str:
    return _LEAD.sub("", text) or text


def letter(text: str) -> str:
    """The letter a title is filed under: its first letter without accents, in capitals ('Šafařík' → 'S');
    '#' for digits and anything that is not a letter."""
    first = _without_lead(text)[:1]
    if not first or not first.isalpha():
        return "#"
    base = unicodedata.normalize("NFKD", first)[0]
    return base.upper() if base.isalpha() else first.upper()


def release() -> None:
    """Let go of the collation table (about 10 MB) and the weights worked out from it, until they are needed again."""
    _collator.cache_clear()
    _ascii_levels.cache_clear()
