"""Markdown to HTML: links to addresses, citations, markers, charts, glossary links, safe output."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree  # noqa: N813 - the name Python-Markdown uses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import markdown
import markdown.treeprocessors
from markdown.extensions import Extension
from markdown.extensions.abbr import AbbrExtension
from markdown.extensions.def_list import DefListExtension
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, TocTreeprocessor
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

LINK = re.compile(r"\[\[([^\[\]\n|]+?)(?:\|([^\[\]]+?))?\]\]")
CITE = re.compile(r"\[(@[^\[\]\n]+?)\]")
CITE_ID = re.compile(r"^\s*@([a-z0-9][a-z0-9-]*)\s*$")
FLAG = re.compile(r"\[\?\]")
CHART_LINE = re.compile(r"^\[\[charts/([a-z0-9][a-z0-9-]*)\]\]\s*$")
# Fenced blocks and inline code spans. Indented lines are not masked: in a list or after a paragraph they are
# not code, so a link there must be checked (an indented code block with [[…]] in it is reported, never missed).
# The lookbehind starts a span only at the start of a run of backticks: without it, long runs are quadratic.
# A code span, as in Markdown, never crosses a blank line.
_CODE = re.compile(r"(^(```|~~~).*?^\2[ \t]*$)|(?<!`)(`++)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\3(?!`)", re.S | re.M)
_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/|\.|[^:/?#]*([/?#]|$))", re.I)


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Mention:
    """A link or citation written in Markdown, with where it stands in the text."""

    kind: str  # "link" or "cite"
    target: str
    line: int
    col: int


def scan(text: str) -> list[Mention]:
    """Every `[[address]]` and `[@source]` outside code, with 1-based line and column."""
    has_code = "`" in text or "~~~" in text
    masked = _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text) if has_code else text
    found = []
    for m in LINK.finditer(masked):
        found.append(Mention("link", m.group(1).strip(), *_line_col(masked, m.start())))
    for m in CITE.finditer(masked):
        line, col = _line_col(masked, m.start())
        for part in m.group(1).split(";"):
            ident = CITE_ID.match(part)
            found.append(Mention("cite", ident.group(1) if ident else part.strip(), line, col))
    return sorted(found, key=lambda m: (m.line, m.col))


def _line_col(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


@dataclass
class Hooks:
    """What a page's Markdown needs from the rest of the site, as callables and tables."""

    link: Callable[[str], tuple[str, str]]  # address -> (href, title)
    cite: Callable[[list[str]], str]  # source ids of one citation -> its numbers and, if all are weak, a marker
    flag: Callable[[str], str] = lambda status: ""  # status -> the marker's HTML
    charts: Callable[[str], str | None] = lambda chart_id: None  # chart id -> figure HTML
    glossary: list[tuple[re.Pattern[str], str, str, str]] = field(default_factory=list)  # (pattern, id, href, title)
    heading_ids: list[str] = field(
        default_factory=list
    )  # anchors for the headings, in order (a translation keeps its original's)


@dataclass
class Rendered:
    html: str
    toc: list[dict[str, Any]]


def standard_extensions() -> list[Extension]:
    """Python-Markdown's own extensions the site's Markdown uses, besides its table of contents (TOC_OPTIONS). Instances,
    not names: a name is looked up among installed packages' entry points (30 ms)."""
    return [
        TableExtension(),
        FencedCodeExtension(),
        FootnoteExtension(BACKLINK_TITLE="Back to the text"),
        DefListExtension(),
        AbbrExtension(),
        SaneListExtension(),
    ]


TOC_OPTIONS = {"toc_depth": "2-3", "permalink": "#", "permalink_class": "anchor", "permalink_title": "Link to this section"}


class _Renderer:
    """One reusable Markdown instance; the page's hooks are swapped in before each conversion."""

    def __init__(self, allow_html: bool) -> None:
        self.hooks: Hooks | None = None
        self.busy = False
        self.md = markdown.Markdown(
            extensions=[*standard_extensions(), _Toc(**TOC_OPTIONS), _SiteExtension(self, allow_html)],
            output_format="html",
        )
        self.toc: _TocTree = self.md.treeprocessors["toc"]  # type: ignore[assignment]

    def convert(self, text: str, hooks: Hooks) -> Rendered:
        self.hooks, self.busy = hooks, True
        self.toc.marker = "[TOC]" if "[TOC]" in text else ""  # the contents are placed only where the text says
        try:
            self.md.reset()
            html = self.md.convert(text)
            return Rendered(html, list(getattr(self.md, "toc_tokens", [])))
        finally:
            self.busy = False


# Markdown instances are reused (creating one per page costs more than converting), one per nesting level:
# a chart's note is rendered while its page is being converted, and must not reset the page's instance.
_renderers: dict[bool, list[_Renderer]] = {}


_TOO_COMPLEX = ("[" * 500, "(" * 500, "`" * 2000)  # Python-Markdown is quadratic on such runs


def render(text: str, hooks: Hooks, allow_html: bool = False) -> Rendered:
    """Markdown text to HTML and its table of contents; ValueError when it is too complex to render."""
    if any(run in text for run in _TOO_COMPLEX):  # str.find: a tenth of a regular expression's time
        raise ValueError("a run of hundreds of '[', '(' or '`' characters")
    pool = _renderers.setdefault(allow_html, [])
    renderer = next((r for r in pool if not r.busy), None)
    if renderer is None:
        renderer = _Renderer(allow_html)
        pool.append(renderer)
    try:
        return renderer.convert(text, hooks)
    except RecursionError:
        pool.remove(renderer)  # an exception mid-conversion can leave Python-Markdown's state half reset
        raise ValueError("lists, quotes or emphasis nested too deeply") from None
    except BaseException:
        pool.remove(renderer)
        raise


def render_inline(text: str, hooks: Hooks) -> str:
    """Markdown for one line (a title, a definition) without the wrapping paragraph."""
    html = render(text, hooks).html
    return html[3:-4] if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1 else html


class _TocTree(TocTreeprocessor):
    """Python-Markdown's table of contents, which builds the HTML of the contents only for a text that places it
    with `[TOC]` (the renderer sets `marker` for each text): pages show theirs from its tokens, and looking for the
    marker walks the whole tree."""

    def build_toc_div(self, toc_list: list[Any]) -> etree.Element:
        return super().build_toc_div(toc_list) if self.marker else etree.Element("div")


class _Toc(TocExtension):
    TreeProcessorClass = _TocTree


class _SiteExtension(Extension):
    def __init__(self, renderer: _Renderer, allow_html: bool) -> None:
        super().__init__()
        self.renderer, self.allow_html = renderer, allow_html

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        hooks = lambda: self.renderer.hooks  # noqa: E731
        if not self.allow_html:
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
        md.preprocessors.register(_ChartPreprocessor(md, hooks), "site_charts", 25)
        md.inlinePatterns.register(_LinkProcessor(LINK.pattern, md, hooks), "site_link", 178)
        # The space before a citation goes too, and so does a line break in the source ("…maker\n[@s46]"), which
        # would show as a space: the citation sits on its word.
        md.inlinePatterns.register(_CiteProcessor(r"[ \t]*\n?[ \t]*" + CITE.pattern, md, hooks), "site_cite", 177)
        md.inlinePatterns.register(_FlagProcessor(FLAG.pattern, md, hooks), "site_flag", 176)
        md.treeprocessors.register(_QuickInline(md), "inline", 20)  # replaces Python-Markdown's own
        md.treeprocessors.register(_HeadingIds(md, hooks), "site_heading_ids", 6)  # before the table of contents (5)
        md.treeprocessors.register(_Tables(md), "site_tables", 3)
        md.treeprocessors.register(_SafeUrls(md), "site_safe_urls", 1)
        md.treeprocessors.register(_GlossaryLinks(md, hooks), "site_glossary", 2)


# What each inline pattern in use needs in the text to match at all. tests/test_markup.py checks that this is
# still the list of patterns in use, and that the output is Python-Markdown's own.
_NEEDS: dict[str, tuple[str, ...]] = {  # in Python-Markdown's order of trying them
    "backtick": ("`",),
    "escape": ("\\",),
    "reference": ("[",),
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_reference": ("[",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n",),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
    "footnote": ("[^",),
    "site_link": ("[[",),
    "site_cite": ("[@",),
    "site_flag": ("[?]",),
}
INLINE_PATTERNS = list(_NEEDS)
_MAY_MATCH = re.compile(r"[\[`\\<&*_]|  \n")  # any of the above


class _QuickInline(markdown.treeprocessors.InlineProcessor):
    """Python-Markdown's inline pass, except that a pattern is tried on a piece of text only when the text has
    what the pattern needs, instead of every one of the eighteen patterns on every piece (a third of a page's time)."""

    _patterns: list[tuple[Any, tuple[str, ...]]] | None = None

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        if self._patterns is None:  # once per Markdown instance: its patterns are set when it is made
            names = sorted((n for n in INLINE_PATTERNS if n in self.inlinePatterns), key=self.inlinePatterns.get_index_for_name)
            if len(names) == len(self.inlinePatterns):
                self._patterns = [(self.inlinePatterns[n], _NEEDS[n]) for n in names]
            else:  # patterns this code does not know: try them all, as Python-Markdown does
                self._patterns = [(p, ("",)) for p in self.inlinePatterns]
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803 (its name)
        if isinstance(data, markdown.util.AtomicString) or not _MAY_MATCH.search(data):
            return data
        patterns, at, start = self._patterns or [], patternIndex, 0  # set by run(), which calls this
        apply = self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
        while at < len(patterns):
            pattern, needs = patterns[at]
            if any(n in data for n in needs):
                data, matched, start = apply(pattern, data, at, start)
            else:
                matched, start = False, 0  # what a pattern that finds nothing returns
            if not matched:
                at += 1
        return data


class _ChartPreprocessor(Preprocessor):
    def __init__(self, md: markdown.Markdown, hooks: Callable[[], Hooks | None]) -> None:
        super().__init__(md)
        self.hooks = hooks

    def run(self, lines: list[str]) -> list[str]:
        hooks = self.hooks()
        out = []
        for line in lines:
            m = CHART_LINE.match(line)
            figure = hooks.charts(m.group(1)) if m and hooks else None
            if figure is not None:
                out += ["", self.md.htmlStash.store(figure), ""]
            else:
                out.append(line)
        return out


class _LinkProcessor(InlineProcessor):
    def __init__(self, pattern: str, md: markdown.Markdown, hooks: Callable[[], Hooks | None]) -> None:
        super().__init__(pattern, md)
        self.hooks = hooks

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int | None, int | None]:  # type: ignore[override]  # noqa: N802
        hooks = self.hooks()
        assert hooks is not None
        if "\x02" in m.group(0):  # holds an escape (`[[\[]]`): not an address scan() saw, so not a link
            return None, None, None
        href, title = hooks.link(m.group(1).strip())
        a = etree.Element("a", {"href": href})
        a.text = " ".join((m.group(2) or title).split())
        return a, m.start(0), m.end(0)


class _CiteProcessor(InlineProcessor):
    def __init__(self, pattern: str, md: markdown.Markdown, hooks: Callable[[], Hooks | None]) -> None:
        super().__init__(pattern, md)
        self.hooks = hooks

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int, int]:  # type: ignore[override]  # noqa: N802
        hooks = self.hooks()
        assert hooks is not None
        ids = [CITE_ID.match(p) for p in m.group(1).split(";")]
        html = hooks.cite([i.group(1) for i in ids if i])
        return self.md.htmlStash.store(html), m.start(0), m.end(0)


class _FlagProcessor(InlineProcessor):
    def __init__(self, pattern: str, md: markdown.Markdown, hooks: Callable[[], Hooks | None]) -> None:
        super().__init__(pattern, md)
        self.hooks = hooks

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int, int]:  # type: ignore[override]  # noqa: N802
        hooks = self.hooks()
        assert hooks is not None
        return self.md.htmlStash.store(hooks.flag("unconfirmed")), m.start(0), m.end(0)


def flag_html(status: str, href: str, text: str, title: str) -> str:
    """The quiet marker of an unconfirmed or weakly sourced fact: a superscript word that links to its explanation."""
    target = f"{href}#markers" if href else "#"
    return (
        f'<sup class="mark mark-{status}" data-pagefind-ignore><a href="{html.escape(target)}" '
        f'title="{html.escape(title)}">{html.escape(text)}</a></sup>'
    )


TABLE_CAPTION = re.compile(r"^Table:[ \t]*")


class _Tables(Treeprocessor):
    """Each table gets the caption written above it as `Table: …`, column scopes, and a wrapper that
    scrolls on narrow screens; heading permalinks are kept out of the search index."""

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for table in [c for c in parent if c.tag == "table"]:
                at = list(parent).index(table)
                before = parent[at - 1] if at else None
                if before is not None and before.tag == "p" and TABLE_CAPTION.match(before.text or ""):
                    caption = etree.Element("caption")
                    caption.text = TABLE_CAPTION.sub("", before.text or "", count=1)
                    caption.extend(list(before))
                    table.insert(0, caption)
                    parent.remove(before)
                    at -= 1
                heads = list(table.iterfind("thead/tr/th"))
                for th in heads:
                    th.set("scope", "col")
                if len(heads) > 2:  # on a phone, each row becomes a block of labelled cells instead of a squeeze
                    table.set("class", "reflow")
                    labels = ["".join(th.itertext()).strip() for th in heads]
                    for row in table.iterfind("tbody/tr"):
                        for cell, label in zip(row, labels, strict=False):
                            if label:
                                cell.set("data-label", label)
                wrap = etree.Element("div", {"class": "table-wrap"})
                wrap.tail, table.tail = table.tail, None
                parent.remove(table)
                wrap.append(table)
                parent.insert(at, wrap)
        for a in root.iter("a"):
            if a.get("class") == "anchor":
                a.set("data-pagefind-ignore", "")


HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)


def heading_ids(text: str) -> list[str]:
    """The anchors Python-Markdown's table of contents gives the headings of `text`, in order: a translation's
    headings get the same ones, so that links to #sections work in every language."""
    from markdown.extensions.toc import slugify, unique

    used: set[str] = set()
    masked = _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text) if "`" in text or "~~~" in text else text
    return [unique(slugify(html.unescape(plain(m.group(2))).strip(), "-"), used) for m in HEADING.finditer(masked)]


_MARKUP = re.compile(r"\[\[[^|\]]*\|([^\]]*)\]\]|\[\[([^\]]*)\]\]|\s*\[@[^\]]*\]|\s*\[\?\]|[*_`]")


def plain(text: str, title_of: Callable[[str], str] = lambda address: address) -> str:
    """Markdown of one line as plain words: a link becomes its text (a bare [[address]] its title), citations,
    markers and emphasis go."""
    return _MARKUP.sub(lambda m: m.group(1) or (title_of(m.group(2)) if m.group(2) else ""), text)


class _HeadingIds(Treeprocessor):
    """Give headings the anchors the page says they should have (those of the text it translates)."""

    def __init__(self, md: markdown.Markdown, hooks: Callable[[], Hooks | None]) -> None:
        super().__init__(md)
        self.hooks = hooks

    def run(self, root: etree.Element) -> None:
        hooks = self.hooks()
        if not hooks or not hooks.heading_ids:
            return
        headings = [el for el in root.iter() if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
        for el, ident in zip(headings, hooks.heading_ids, strict=False):
            el.set("id", ident)


class _SafeUrls(Treeprocessor):
    """Drop link and image addresses that could run script (javascript:, data:, …)."""

    def run(self, root: etree.Element) -> None:
        for el in root.iter():
            for attr in ("href", "src"):
                value = el.get(attr)
                if value is not None and not _SAFE_URL.match(_as_browser_reads(value)):
                    del el.attrib[attr]


def _as_browser_reads(url: str) -> str:
    """The address as a browser will take it: entities decoded (&colon; is ':'), tabs, newlines and controls gone."""
    decoded = html.unescape(url.replace(markdown.util.AMP_SUBSTITUTE, "&"))
    return re.sub(r"[\x00-\x20\x7f]+", "", decoded)


_NO_GLOSSARY = {"a", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "abbr", "sup", "dt", "blockquote", "q", "cite", "table"}


# Someone else's words of four or more, in quotation marks (a title, a sentence of the column): never linked.
_QUOTATION = re.compile(r'"[^"\n]*?\s[^"\n]*?\s[^"\n]*?\s[^"\n]*?"|“[^”\n]*?\s[^”\n]*?\s[^”\n]*?\s[^”\n]*?”')


class _GlossaryLinks(Treeprocessor):
    """Link the first mention of each glossary term on the page to its definition."""

    def __init__(self, md: markdown.Markdown, hooks: Callable[[], Hooks | None]) -> None:
        super().__init__(md)
        self.hooks = hooks

    def run(self, root: etree.Element) -> None:
        hooks = self.hooks()
        if not hooks or not hooks.glossary:
            return
        done: set[str] = set()
        self._walk(root, hooks, done)

    def _walk(self, el: etree.Element, hooks: Hooks, done: set[str]) -> None:
        if el.tag in _NO_GLOSSARY or len(done) == len(hooks.glossary):
            return
        head: list[etree.Element] = []
        if el.text:
            el.text, head = self._link(el.text, hooks, done)
        children: list[etree.Element] = []
        for child in list(el):  # rebuilt in one pass: inserting one by one is quadratic on long pages
            self._walk(child, hooks, done)
            children.append(child)
            if child.tail and len(done) < len(hooks.glossary):
                child.tail, new = self._link(child.tail, hooks, done)
                children.extend(new)
        if head or len(children) != len(el):
            el[:] = head + children

    def _link(self, text: str, hooks: Hooks, done: set[str]) -> tuple[str, list[etree.Element]]:
        """Split `text` at the first unlinked mention of any term outside a quotation; recurse on what follows."""
        best = None
        searched = _QUOTATION.sub(lambda q: " " * len(q.group(0)), text) if '"' in text or "“" in text else text
        for pattern, ident, href, title in hooks.glossary:
            if ident in done:
                continue
            m = pattern.search(searched)
            if m and (best is None or (m.start(), -len(m.group(0))) < (best[0].start(), -len(best[0].group(0)))):
                best = (m, ident, href, title)
        if best is None:
            return text, []
        m, ident, href, title = best
        done.add(ident)
        a = etree.Element("a", {"class": "term", "href": href, "title": title})
        a.text = text[m.start() : m.end()]
        tail, rest = self._link(text[m.end() :], hooks, done)
        a.tail = tail
        return text[: m.start()], [a, *rest]
