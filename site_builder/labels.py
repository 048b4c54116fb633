"""What readers see besides the content, in the site's language: interface labels, dates and numbers (Babel).

Labels are gettext messages whose ids are the English text. English is built in; another language reads its
catalog from site_builder/locale/<locale>/LC_MESSAGES/messages.po. site.yaml's `labels:` replaces any label.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import babel
import babel.dates
import babel.numbers
from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).parent / "locale"
CATALOG = LOCALES / "messages.pot"


@dataclass(frozen=True)
class Labels:
    """The interface text, date and number formats of one language."""

    language: str = "en"
    overrides: Mapping[str, str] = field(default_factory=dict)

    @functools.cached_property
    def locale(self) -> babel.Locale:
        return locale_of(self.language)

    @functools.cached_property
    def _translations(self) -> NullTranslations:
        return translations(str(self.locale))

    def gettext(self, message: str) -> str:
        """The label for `message` (its English text) in this language."""
        if message in self.overrides:
            return self.overrides[message]
        return str(self._translations.gettext(message))

    def pgettext(self, context: str, message: str) -> str:
        """The label for `message` where the same English text may need another word (`context` says where):
        ', ' between the items of a list is '、' in Chinese."""
        if message in self.overrides:
            return self.overrides[message]
        return str(self._translations.pgettext(context, message))

    @functools.cached_property
    def list_separator(self) -> str:
        """What goes between the items of a list (of links, of names): ', ', or '、' in Chinese."""
        return self.pgettext("between the items of a list", ", ")

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural label for a count."""
        key = singular if n == 1 else plural
        if key in self.overrides:
            return self.overrides[key]
        return str(self._translations.ngettext(singular, plural, n))

    def date(self, value: Any) -> str:
        """'2018-07-28' → '28 July 2018' (en-GB); '2020-10' → 'October 2020'; '2019' → '2019'; other text as it is."""
        return _date(str(value), self.language)

    def number(self, value: float, grouped: bool = False) -> str:
        """Numbers as readers of this language write them; whole numbers under 10,000 are not grouped (they may be
        years) unless `grouped` (a quantity with a unit: 1,600 cars)."""
        if isinstance(value, bool):
            return self.gettext("yes") if value else self.gettext("no")
        return _number(value, self.language, grouped)


# Formatting with Babel costs tens of microseconds a value; a site repeats its dates and numbers, so the latest
# few thousand are kept (82% of the numbers on 3,000 generated record pages were hits with 2,048 kept; keeping
# 65,536 grew each render worker by about 17 MiB at 10,000 records for few more).
@functools.lru_cache(maxsize=4096)
def _date(value: str, language: str) -> str:
    locale = locale_of(language)
    parts = value.split("-")
    try:
        if len(parts) == 3:
            day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            return str(babel.dates.format_skeleton("yMMMMd", day, locale=locale))
        if len(parts) == 2:
            month = dt.date(int(parts[0]), int(parts[1]), 1)
            return str(babel.dates.format_skeleton("yMMMM", month, locale=locale))
    except (ValueError, IndexError):
        pass
    return value


@functools.lru_cache(maxsize=4096)
def _number(value: float, language: str, grouped: bool) -> str:
    locale = locale_of(language)
    with decimal.localcontext() as context:  # Babel rounds in the current context: room for every digit of 1e25
        context.prec = max(context.prec, len(f"{abs(value):.0f}") + 12) if math.isfinite(value) else context.prec
        if isinstance(value, int) or float(value).is_integer():
            n = value if isinstance(value, int) else int(decimal.Decimal(repr(value)))  # 1e25 as written, not as stored
            return str(babel.numbers.format_decimal(n, locale=locale, group_separator=grouped or abs(n) >= 10000))
        return str(babel.numbers.format_decimal(value, format="#,##0.######", locale=locale))


@functools.lru_cache(maxsize=32)
def locale_of(language: str) -> babel.Locale:
    """The Babel locale of a BCP 47 tag ('en-GB', 'zh-Hans'); English when Babel does not know it."""
    try:
        return babel.Locale.parse(language.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale.parse("en")


@functools.lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The shipped catalog of a locale (its language's, if the locale has none), or none (English)."""
    for name in (locale, locale.split("_")[0]):
        po = LOCALES / name / "LC_MESSAGES" / "messages.po"
        if po.is_file():
            from babel.messages import mofile, pofile  # here: an English site reads no catalog

            with po.open("rb") as f:
                catalog = pofile.read_po(f, locale=name)
            compiled = io.BytesIO()
            mofile.write_mo(compiled, catalog)
            compiled.seek(0)
            return Translations(compiled)
    return NullTranslations()


@functools.lru_cache(maxsize=1)
def known_labels() -> frozenset[str]:
    """Every label the engine and the default theme use (the msgids of locale/messages.pot)."""
    from babel.messages import pofile

    with CATALOG.open("rb") as f:
        catalog = pofile.read_po(f)
    ids: set[str] = set()
    for message in catalog:
        if message.id:
            ids.update([message.id] if isinstance(message.id, str) else message.id)
    return frozenset(ids)


def knows(language: str) -> bool:
    """Whether Babel has data for a BCP 47 tag."""
    try:
        babel.Locale.parse(language.replace("-", "_"))
        return True
    except (ValueError, babel.UnknownLocaleError):
        return False
