"""Number a page's citations in order of first use; link each to its reference and back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .content import Item


@dataclass
class Reference:
    """One numbered entry of a page's references, with the places that cite it."""

    number: int
    source: Item
    backrefs: list[str] = field(default_factory=list)


class Citations:
    """The citations of one page, numbered as they are first met."""

    def __init__(self, sources: Mapping[str, Item], flag: Callable[[str], str]) -> None:
        self.sources, self.flag = sources, flag
        self.refs: dict[str, Reference] = {}

    def number(self, source_id: str) -> Reference:
        """The reference of `source_id`, numbered when first met."""
        ref = self.refs.get(source_id)
        if ref is None:
            ref = self.refs[source_id] = Reference(len(self.refs) + 1, self.sources[source_id])
        return ref

    def cite(self, source_id: str) -> str:
        """The HTML of one citation of `source_id`: its number, linked to the reference."""
        ref = self.number(source_id)
        anchor = f"cite-{ref.number}-{len(ref.backrefs) + 1}"
        ref.backrefs.append(anchor)
        # The word joiner (U+2060) keeps a citation on the line of the word or citation before it: without it a phone
        # wraps between ")" and "[8]", or between "[8]" and "[10]", and a line starts with a citation.
        return f'<sup class="cite" id="{anchor}" data-pagefind-ignore><a href="#ref-{ref.number}">\u2060[{ref.number}]</a></sup>'

    def status(self, source_ids: Sequence[str], status: str = "") -> str:
        """The marker a fact earns: its own status, else 'weak' when every one of its sources is weak."""
        if status or not source_ids:
            return status
        weak = all(self.sources[s].get("reliability") == "weak" for s in source_ids if s in self.sources)
        return "weak" if weak else ""

    def html(self, source_ids: Sequence[str], status: str = "") -> str:
        """The citation numbers of one fact (or one citation in the text) in ascending order, [1][2][4], not as they
        were listed, [2][4][1] (new sources are numbered in the order listed); then its marker, if it earns one."""
        marker = self.status(source_ids, status)
        ordered = sorted(source_ids, key=lambda s: self.number(s).number)
        return "".join(self.cite(s) for s in ordered) + (self.flag(marker) if marker else "")

    def references(self) -> list[Reference]:
        """The page's references in number order."""
        return sorted(self.refs.values(), key=lambda r: r.number)
