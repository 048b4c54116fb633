"""Split long data pages (timeline, glossary, bibliography) into parts, so every page stays light."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .collation import collation_key, letter, reading, reads_as_written
from .content import Content, Item, term_id

MAX_ITEMS = {"timeline": 14, "glossary": 18, "bibliography": 24}
LONGEST = 10  # a group (a year, a letter) of more than LONGEST × MAX_ITEMS entries is cut into parts of that many


@dataclass(frozen=True)
class Part:
    """One page of a data page: its items, a label ('2018–2019', 'A–F') and its site path."""

    kind: str
    index: int
    label: str
    path: str
    items: tuple[Item, ...]


def split_data_pages(content: Content) -> dict[str, list[Part]]:
    """The parts of each data page, in order; the one at /<kind>/ is the first (for the timeline, the one holding
    the story's year), the others are at /<kind>/<label>/."""
    events = sorted(content.timeline, key=lambda e: earliest_day(str(e.get("date"))))
    return {
        "timeline": _split("timeline", events, lambda e: str(e.get("date"))[:4], content.config.story_date[:4]),
        "glossary": _split_glossary(content),
        "bibliography": _split("bibliography", sorted(content.sources, key=_rank), _initial("title")),
    }


def _split_glossary(content: Content) -> list[Part]:
    """The glossary in the order its readers look terms up, under their letters: by the Unicode Collation
    Algorithm (the order worked out when the file was read); in Chinese by pinyin, under its initials."""
    language = content.config.language
    if reads_as_written(language):
        return _split("glossary", sorted(content.glossary, key=_rank), _initial("term"))
    spelled = {id(t): reading(str(t.get("term")), language) for t in content.glossary}
    ordered = sorted(content.glossary, key=lambda t: (collation_key(spelled[id(t)]), t.rank))
    return _split("glossary", ordered, lambda t: letter(spelled[id(t)]))


def own_parts(kind: str, language: str, other: str) -> bool:
    """Whether a data page of `kind` is split into other parts in `language` than in `other`: the glossary of an
    edition whose readers look terms up differently (Chinese by pinyin); its parts then have no counterparts."""
    return kind == "glossary" and reads_as_written(language) != reads_as_written(other)


def earliest_day(date: str) -> str:
    """The first day a partial date can mean: '2020-10' → '2020-10-01', '2019' → '2019-01-01'."""
    return (date + "-01-01")[:10] if len(date) == 4 else (date + "-01")[:10] if len(date) == 7 else date


def _rank(item: Item) -> int:
    return item.rank


def _initial(key: str) -> Callable[[Item], str]:
    return lambda item: letter(str(item.get(key)))


def _split(kind: str, items: list[Item], group: Callable[[Item], str], first: str = "") -> list[Part]:
    """Whole groups (a year, a letter) packed into parts of at most MAX_ITEMS, in order (a very long group cut); the
    part holding the group `first` (if any) is the one published at /<kind>/."""
    groups: list[tuple[str, list[Item]]] = []
    for item in items:
        key = group(item)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(item)
        else:
            groups.append((key, [item]))
    groups = [cut for key, members in groups for cut in _cut(kind, key, members)]
    packed: list[tuple[list[str], list[Item]]] = []
    for key, members in groups:
        if packed and len(packed[-1][1]) + len(members) <= MAX_ITEMS[kind]:
            packed[-1][0].append(key)
            packed[-1][1].extend(members)
        else:
            packed.append(([key], list(members)))
    front = next((i for i, (keys, _) in enumerate(packed) if first and any(k.split(" ")[0] == first for k in keys)), 0)
    parts = []
    for i, (keys, members) in enumerate(packed or [([], [])]):
        label = "" if not keys else keys[0] if len(keys) == 1 else f"{keys[0]}–{keys[-1]}"
        slug = re.sub(r"[^\w]+", "-", label.lower().replace("#", "other")).strip("-")
        path = f"{kind}/" if i == front else f"{kind}/{slug}/"
        parts.append(Part(kind, i, label, path, tuple(members)))
    return parts


def _cut(kind: str, key: str, members: list[Item]) -> list[tuple[str, list[Item]]]:
    """A group too long for one page (thousands of sources under one letter) as numbered groups, 'T (1)', 'T (2)' …;
    others as they are."""
    size = LONGEST * MAX_ITEMS[kind]
    if len(members) <= size:
        return [(key, members)]
    return [(f"{key} ({n})", members[i : i + size]) for n, i in enumerate(range(0, len(members), size), 1)]


def split_like(content: Content, like: dict[str, list[Part]], language: str) -> dict[str, list[Part]]:
    """Parts with the same items, paths and labels as `like` (the edition in `language`'s), holding this
    edition's items, so that every page of a data page has its counterpart in every language; but for a glossary
    whose readers look terms up differently (`own_parts`), its own."""
    mine = {"timeline": content.timeline, "glossary": content.glossary, "bibliography": content.sources}
    out = {}
    for kind, parts in like.items():
        if own_parts(kind, content.config.language, language):
            out[kind] = _split_glossary(content)
            continue
        by_key = {term_id(item): item for item in mine[kind]}  # an entry's id (a term's name, if it has none)
        out[kind] = [Part(kind, p.index, p.label, p.path, tuple(by_key.get(term_id(i), i) for i in p.items)) for p in parts]
    return out
