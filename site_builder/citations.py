"""Number a page's citations in order of first use; link each to its reference and back."""

from __future__ import annotations

from dataclasses import dataclass, field

from .content import Item
from .markup import flag_html


@dataclass
class Reference:
    """One numbered entry of a page's references, with the places that cite it."""

    number: int
    source: Item
    backrefs: list[str] = field(default_factory=list)


class Citations:
    """The citations of one page, numbered as they are first met."""

    def __init__(self, sources: dict[str, Item], flag_href: str) -> None:
        self.sources, self.flag_href = sources, flag_href
        self.refs: dict[str, Reference] = {}

    def cite(self, source_id: str) -> list[tuple[str, str]]:
        """The HTML of one citation of `source_id`, as (kind, html) pieces: the number and any weak marker."""
        ref = self.refs.get(source_id)
        if ref is None:
            ref = self.refs[source_id] = Reference(len(self.refs) + 1, self.sources[source_id])
        anchor = f"cite-{ref.number}-{len(ref.backrefs) + 1}"
        ref.backrefs.append(anchor)
        pieces = [("cite", f'<sup class="cite" id="{anchor}"><a href="#ref-{ref.number}">[{ref.number}]</a></sup>')]
        if ref.source.get("reliability") == "weak":
            pieces.append(("flag", flag_html("weak", self.flag_href)))
        return pieces

    def html(self, source_ids: list[str] | tuple[str, ...]) -> str:
        """Citation marks for several sources, ready to place after a value."""
        return "".join(h for s in source_ids for _, h in self.cite(s))

    def references(self) -> list[Reference]:
        """The page's references in number order."""
        return sorted(self.refs.values(), key=lambda r: r.number)
