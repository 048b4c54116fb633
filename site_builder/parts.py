"""Split long data pages (timeline, glossary, bibliography) into parts, so every page stays light."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .content import Content, Item

MAX_ITEMS = {"timeline": 14, "glossary": 18, "bibliography": 24}


@dataclass(frozen=True)
class Part:
    """One page of a data page: its items, a label ('2018–2019', 'A–F') and its site path."""

    kind: str
    index: int
    label: str
    path: str
    items: tuple[Item, ...]


def split_data_pages(content: Content) -> dict[str, list[Part]]:
    """The parts of each data page: the first at /<kind>/, the others at /<kind>/<label>/."""
    return {
        "timeline": _split(
            "timeline", sorted(content.timeline, key=lambda e: str(e.get("date"))), lambda e: str(e.get("date"))[:4]
        ),
        "glossary": _split("glossary", sorted(content.glossary, key=lambda t: str(t.get("term")).lower()), _initial("term")),
        "bibliography": _split(
            "bibliography",
            sorted(content.sources, key=lambda s: (str(s.get("title")).lower(), str(s.get("id")))),
            _initial("title"),
        ),
    }


def _initial(key: str) -> Callable[[Item], str]:
    def initial(item: Item) -> str:
        first = str(item.get(key)).lstrip("\"'“‘(«")[:1].upper()
        return first if first.isalpha() and first.isascii() else "#"

    return initial


def _split(kind: str, items: list[Item], group: Callable[[Item], str]) -> list[Part]:
    """Whole groups (a year, a letter) packed into parts of at most MAX_ITEMS, in order."""
    groups: list[tuple[str, list[Item]]] = []
    for item in items:
        key = group(item)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(item)
        else:
            groups.append((key, [item]))
    packed: list[tuple[list[str], list[Item]]] = []
    for key, members in groups:
        if packed and len(packed[-1][1]) + len(members) <= MAX_ITEMS[kind]:
            packed[-1][0].append(key)
            packed[-1][1].extend(members)
        else:
            packed.append(([key], list(members)))
    parts = []
    for i, (keys, members) in enumerate(packed or [([], [])]):
        label = "" if not keys else keys[0] if len(keys) == 1 else f"{keys[0]}–{keys[-1]}"
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower().replace("#", "other")).strip("-")
        path = f"{kind}/" if i == 0 else f"{kind}/{slug}/"
        parts.append(Part(kind, i, label, path, tuple(members)))
    return parts
