"""Markdown: address links, citations, markers, charts, glossary links, and safe output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import markdown.treeprocessors
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import TocExtension, TocTreeprocessor

from site_builder import markup
from site_builder.markup import Hooks


def hooks(**kw: object) -> Hooks:
    cites: list[str] = []

    def cite(idents: list[str]) -> str:
        html = ""
        for ident in idents:
            cites.append(ident)
            html += f"<sup>[{len(cites)}:{ident}]</sup>"
        return html

    def flag(status: str) -> str:
        return markup.flag_html(status, "/base/method/", status, f"{status}: explained")

    base = {"link": lambda a: (f"/base/{a}/", f"Title of {a}"), "cite": cite, "flag": flag}
    return Hooks(**{**base, **kw})  # type: ignore[arg-type]


def test_scan_finds_links_and_citations_outside_code() -> None:
    text = "See [[companies/tesla]] `[[not/this]]`\n\n```\n[[nor/this]]\n```\n\nand [@s06; @s07] then [[a/b|text]]"
    found = [(m.kind, m.target, m.line, m.col) for m in markup.scan(text)]
    assert found == [("link", "companies/tesla", 1, 5), ("cite", "s06", 7, 5), ("cite", "s07", 7, 5), ("link", "a/b", 7, 23)]


def test_links_use_title_or_given_text() -> None:
    html = markup.render("[[companies/tesla]] and [[companies/bmw|the carmaker]]", hooks()).html
    assert '<a href="/base/companies/tesla/">Title of companies/tesla</a>' in html
    assert '<a href="/base/companies/bmw/">the carmaker</a>' in html


def test_citations_and_flag() -> None:
    html = markup.render("A claim [@s1; @s2]. Another [?].", hooks()).html
    assert "<sup>[1:s1]</sup><sup>[2:s2]</sup>" in html
    assert '<sup class="mark mark-unconfirmed" data-pagefind-ignore><a href="/base/method/#markers"' in html


def test_raw_html_is_escaped_and_script_urls_dropped() -> None:
    html = markup.render(
        '<script>alert(1)</script>\n\n<b onclick="x">b</b> [x](javascript:alert(1)) [y](https://ok.example/)', hooks()
    ).html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<b " not in html
    assert "javascript:" not in html
    assert 'href="https://ok.example/"' in html


def test_raw_html_allowed_when_site_opts_in() -> None:
    assert "<b>bold</b>" in markup.render("<b>bold</b>", hooks(), allow_html=True).html


def test_headings_get_anchors_and_toc() -> None:
    rendered = markup.render("## First part\n\ntext\n\n### Detail\n\n## Second", hooks())
    assert '<h2 id="first-part">' in rendered.html
    assert [t["id"] for t in rendered.toc] == ["first-part", "second"]
    assert rendered.toc[0]["children"][0]["id"] == "detail"


def test_glossary_links_first_mention_only_and_not_in_headings() -> None:
    gloss = [(re.compile(r"(?<![\w-])(?:NEVs|NEV)(?![\w-])"), "nev", "/g/#nev", "new energy vehicle")]
    html = markup.render("## NEV rules\n\nAn NEV is good. NEVs are many.\n\n`NEV` in code", hooks(glossary=gloss)).html
    assert html.count('class="term"') == 1
    assert '<a class="term" href="/g/#nev" title="new energy vehicle">NEV</a> is good' in html
    assert '<h2 id="nev-rules">NEV rules' in html


def test_chart_embeds_only_when_alone_on_a_line() -> None:
    h = hooks(charts=lambda cid: f'<figure id="{cid}">chart</figure>' if cid == "sales" else None)
    html = markup.render("Intro\n\n[[charts/sales]]\n\nOutro", h).html
    assert '<figure id="sales">chart</figure>' in html
    assert "<p><figure" not in html


def test_tables_and_footnotes() -> None:
    html = markup.render("| a | b |\n|---|---|\n| 1 | 2 |\n\nText.[^n]\n\n[^n]: Note.", hooks()).html
    assert "<table>" in html and 'class="footnote"' in html


def test_nested_rendering_does_not_reset_the_outer_page() -> None:
    """A chart's note is Markdown rendered while its page is being converted (two charts lost the first)."""
    h = hooks()
    h.charts = lambda cid: "<figure>" + markup.render_inline(f"note for *{cid}*", hooks()) + "</figure>"
    html = markup.render("Intro [@a].\n\n[[charts/one]]\n\nMiddle.\n\n[[charts/two]]\n\nEnd [@b].", h).html
    assert "<figure>note for <em>one</em></figure>" in html
    assert "<figure>note for <em>two</em></figure>" in html
    assert html.index("Intro") < html.index("one") < html.index("Middle") < html.index("two") < html.index("End")


def test_link_text_may_run_across_a_line_break() -> None:
    text = "See [[companies/bmw|the German\ncarmaker]] here."
    assert [m.target for m in markup.scan(text)] == ["companies/bmw"]
    assert '<a href="/base/companies/bmw/">the German carmaker</a>' in markup.render(text, hooks()).html


def test_tables_get_captions_scopes_and_a_scrolling_wrapper() -> None:
    html = markup.render("Table: Sales by *year*\n\n| Year | Sold |\n|---|---|\n| 2019 | 25.8 |\n", hooks()).html
    assert '<div class="table-wrap"><table>\n<caption>Sales by <em>year</em></caption>' in html
    assert '<th scope="col">Year</th>' in html
    assert "Table:" not in html


def test_a_citation_keeps_to_its_word() -> None:
    html = markup.render("half of it [@s1] and the rest.", hooks()).html
    assert "half of it<sup>[1:s1]</sup> and the rest." in html


def test_a_citation_on_the_next_source_line_keeps_to_its_word() -> None:
    """A line break in the source before a citation would show as a space, and let a phone start a line with it."""
    html = markup.render("a Chinese battery maker\n[@s1], and the rest.", hooks()).html
    assert "a Chinese battery maker<sup>[1:s1]</sup>, and the rest." in html


def test_a_citation_cannot_start_a_line() -> None:
    """The word joiner that opens each citation forbids a line break before it (Unicode line breaking, LB11)."""
    from site_builder.citations import Citations
    from site_builder.content import Item

    citations = Citations({"s1": Item({"id": "s1", "title": "T"}, "content/sources.yaml")}, lambda status: "")
    assert ">\u2060[1]</a></sup>" in citations.cite("s1")


def test_a_cluster_of_citations_reads_in_ascending_order() -> None:
    """Sources cited earlier on the page keep their numbers; a cluster shows them in order, [1][2][3], not [2][3][1]."""
    from site_builder.citations import Citations
    from site_builder.content import Item

    citations = Citations({s: Item({"id": s, "title": s}, "content/sources.yaml") for s in ("s1", "s2", "s3")}, str)
    citations.html(["s2"])
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]</a>", citations.html(["s3", "s1", "s2"]))]
    assert numbers == [1, 2, 3]  # s2 is 1, then s3 2 and s1 3, as listed
    assert [r.source.get("id") for r in citations.references()] == ["s2", "s3", "s1"]


def test_a_code_span_never_crosses_a_blank_line() -> None:
    """Found by the fuzzer: a lone backtick hid a later link from scan(), which Markdown then rendered."""
    text = "`## History\n\nWith [[`companies/beta]] and [@s1]."
    assert [(m.kind, m.target) for m in markup.scan(text)] == [("link", "`companies/beta"), ("cite", "s1")]


# --- The quick inline pass and table of contents give what Python-Markdown's own give ---------------------------------

REPO = Path(__file__).resolve().parent.parent


def _as_python_markdown(text: str, hooks: Hooks) -> markup.Rendered:
    """`text` rendered with Python-Markdown's own inline pass and table of contents in place of the quick ones."""
    renderer = markup._Renderer(allow_html=False)
    md = renderer.md
    md.treeprocessors.register(markdown.treeprocessors.InlineProcessor(md), "inline", 20)
    md.treeprocessors.register(TocTreeprocessor(md, TocExtension(**markup.TOC_OPTIONS).getConfigs()), "toc", 5)
    renderer.hooks = hooks
    html = md.reset().convert(text)
    return markup.Rendered(html, list(md.toc_tokens))  # type: ignore[attr-defined]


def test_the_quick_inline_pass_knows_every_inline_pattern_in_use() -> None:
    """A new inline pattern may need a character the quick pass does not look for: this makes it checked."""
    registry = markup._Renderer(allow_html=True).md.inlinePatterns
    assert sorted(item.name for item in registry._priority) == sorted(markup.INLINE_PATTERNS)


TRICKY = [
    "Plain text, nothing to do.",
    "A line  \nbreak, *em*, _em_, **strong**, __strong__, ***both***, a * lone star and snake_case_name.",
    "`code` and ``two`` and \\*escaped\\* and \\` and a \\\\ backslash.",
    "<https://example.org> and <me@example.org> and <b>html</b> and &amp; &#169; &copy; & alone.",
    "[a link](https://example.org 'title') ![img](x.png) [ref][r] [r] ![r]\n\n[r]: https://example.org",
    "Cited [@src-one], linked [[companies/alpha]] and [[companies/alpha|text]], flagged [?], note[^1].\n\n[^1]: A *note*.",
    "| a | b |\n|---|---|\n| plain | *em* |\n| `x` | [[companies/alpha]] |\n\nTable: A caption with _em_",
    "Term\n:   Definition with **bold**\n\n*[HTML]: Hyper Text\n\nHTML here.",
    "# Heading *em*\n\n## Sub `code`\n\n> quote with [link](https://x.org)\n\n- item\n- *item*\n\n1. one\n2. two",
    "Intro.\n\n[TOC]\n\n## One\n\nText.\n\n### One.one\n\n## Two [@src-one]",  # the contents placed by hand
    "Not placed: [TOC] inside a sentence, \\[TOC\\] escaped, `[TOC]` in code.\n\n## Heading",
]


def test_the_quick_inline_pass_renders_exactly_as_python_markdown() -> None:
    hooks = Hooks(link=lambda a: (f"/{a}/", a.title()), cite=lambda ids: "".join(f"<sup>{i}</sup>" for i in ids))
    texts = TRICKY + [p.read_text(encoding="utf-8") for p in sorted((REPO / "content").rglob("*.md"))]
    for text in texts:
        assert markup.render(text, hooks) == _as_python_markdown(text, hooks), text[:80]


_BITS = ["word ", "*", "_", "`", "\\", "<", ">", "&", "[", "]", "(", ")", "!", "  \n", "\n", "\n\n", "[[companies/alpha]]",
         "[@src-one]", "[?]", "[^1]", "https://x.org", "a@b.org", "#", "|", "-", ":", "~~~", "    ", "1. ", "&amp;",
         "[TOC]", "## "]  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(st.lists(st.sampled_from(_BITS), max_size=40))
def test_the_quick_inline_pass_agrees_on_any_mix_of_markup(bits: list[str]) -> None:
    text = "".join(bits)
    hooks = Hooks(link=lambda a: (f"/{a}/", a.title()), cite=lambda ids: "".join(f"<sup>{i}</sup>" for i in ids))
    try:
        quick = markup.render(text, hooks)
    except ValueError:
        return
    assert quick == _as_python_markdown(text, hooks)


def test_runs_that_would_make_python_markdown_quadratic_are_refused_from_their_threshold() -> None:
    hooks = Hooks(link=lambda a: (f"/{a}/", a), cite=lambda ids: "")
    for run, length in (("[", 500), ("(", 500), ("`", 2000)):
        markup.render("Text " + run * (length - 1) + " more", hooks)  # just below: rendered
        with pytest.raises(ValueError, match="a run of hundreds"):
            markup.render("Text " + run * length + " more", hooks)


def test_glossary_terms_are_not_linked_inside_a_quoted_title() -> None:
    pattern = re.compile(r"(?<![\w-])EV(?![\w-])")
    found = hooks(glossary=[(pattern, "ev", "/g/#ev", "Electric vehicle")])
    html = markup.render('The column "China Wants to Be the World\'s EV Factory" argues that an EV is different.', found).html
    assert "World's EV Factory" in html and 'an <a class="term" href="/g/#ev" title="Electric vehicle">EV</a>' in html
    short = markup.render('A "credit trading system" for each EV.', found).html  # a short quoted term is still linked
    assert '<a class="term"' in short
