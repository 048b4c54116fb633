"""End-to-end builds of the fixture site into tmp_path, read back from disk."""

from __future__ import annotations

import gc
import re
from html.parser import HTMLParser
from pathlib import Path

import html5lib
import pytest

from site_builder.build import build
from site_builder.check import check_links
from site_builder.errors import BuildFailed
from site_builder.output import MARKER
from site_builder.urls import Urls

from .conftest import edit, read_tree, run_cli


def page(out: Path, path: str) -> str:
    return (out / path).read_text(encoding="utf-8")


def test_builds_every_page_and_file(project: Path) -> None:
    out = project / "_site"
    result = build(project, out)
    files = read_tree(out)
    for name in [
        "index.html",
        "companies/index.html",
        "companies/alpha/index.html",
        "companies/beta/index.html",
        "policies/index.html",
        "rules/cap/index.html",
        "timeline/index.html",
        "glossary/index.html",
        "bibliography/index.html",
        "charts/index.html",
        "about/index.html",
        "methodology/index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        ".nojekyll",
        "static/style.css",
        "static/favicon.svg",
        "schemas/company.schema.json",
        MARKER,
    ]:
        assert name in files, name
    assert result.pages == 14
    assert result.warnings == []


def test_record_page_shows_facts_body_backlinks_and_references(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    html = page(out, "companies/alpha/index.html")
    assert "<h1>Alpha Motors</h1>" in html
    assert '<dt title="What kind of company it is">Type</dt>' in html
    assert '<span lang="zh">阿尔法汽车</span>' in html
    assert "83,000" in html and "50%" in html and "May 2003" in html
    assert 'class="mark mark-unconfirmed"' in html and 'class="mark mark-weak"' in html
    assert '<a href="/fixture/companies/beta/">Beta Batteries</a>' in html
    assert '<h2 id="history">' in html and '<a href="#history">History</a>' in html
    # Every citation links to its numbered reference, and the reference links back to each citation.
    cites = re.findall(r'<sup class="cite" id="(cite-(\d+)-\d+)" data-pagefind-ignore><a href="#ref-(\d+)"', html)
    assert cites and all(n == m for _, n, m in cites)
    for anchor, number, _ in cites:
        assert f'href="#{anchor}"' in html and f'id="ref-{number}"' in html
    # Backlinks: from data (policy's companies_affected field) and from Markdown (beta's text).
    backlinks = html.split('id="page-backlinks"')[1].split("</section>")[0]
    assert '<a href="/fixture/rules/cap/">Ownership cap</a> <span class="via">(under Companies affected)</span>' in backlinks
    assert '<a href="/fixture/companies/beta/">Beta Batteries</a></li>' in backlinks  # linked from the text: no field
    assert backlinks.count("/fixture/rules/cap/") == 1  # each page that links here is listed once


def test_bibliography_lists_pages_that_cite_each_source(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    html = page(out, "bibliography/index.html")
    entry = html.split('<li id="src-two">')[1].split("</li>")[0]
    assert '<a href="/fixture/companies/alpha/">Alpha Motors</a>' in entry
    assert '<a href="/fixture/companies/beta/">Beta Batteries</a>' in entry
    assert "weak source" in entry


def test_collection_index_sorted_and_descending(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    html = page(out, "companies/index.html")
    assert html.index("Alpha Motors") < html.index("Beta Batteries")
    assert "<caption>2 companies</caption>" in html


def test_timeline_glossary_and_charts(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    timeline = page(out, "timeline/index.html")
    assert timeline.index('datetime="2003-05"') < timeline.index('datetime="2018-07-28"')
    assert "About May 2003" in timeline
    glossary = page(out, "glossary/index.html")
    assert '<dt id="nev">NEV' in glossary and '<dt id="jv">joint venture' in glossary
    charts = page(out, "charts/index.html")
    assert '<svg class="chart-svg"' in charts and "<title id=" in charts and "<desc id=" in charts
    assert '<th scope="row">2019</th><td>25.77</td><td>1.02</td>' in charts


def test_base_path_every_link_resolves(project: Path) -> None:
    out = project / "_site"
    build(project, out, base_url="https://u.github.io/repo/")
    files = read_tree(out)
    assert check_links(files, Urls("https://u.github.io/repo/")) == []
    for name, data in files.items():
        if name.endswith(".html"):
            for attr, url in re.findall(r'\b(href|src)="(/[^"]*)"', data.decode()):
                assert url.startswith("/repo/"), f"{name}: {attr}={url}"
    assert '<link rel="canonical" href="https://u.github.io/repo/companies/alpha/">' in page(out, "companies/alpha/index.html")


def test_root_site_links_resolve(project: Path) -> None:
    out = project / "_site"
    build(project, out, base_url="https://u.github.io")
    assert check_links(read_tree(out), Urls("https://u.github.io/")) == []
    assert 'href="/static/style.css"' in page(out, "index.html")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v for k, v in attrs if k == "id" and v)


def test_every_page_parses_as_html(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    for name, data in read_tree(out).items():
        if name.endswith(".html"):
            parser = html5lib.HTMLParser(strict=True)
            parser.parse(data)  # raises on a parse error
            collector = _Ids()
            collector.feed(data.decode())
            assert len(collector.ids) == len(set(collector.ids)), f"{name}: duplicate ids"


def test_meta_tags_on_every_page(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    for name, data in read_tree(out).items():
        if name.endswith(".html"):
            text = data.decode()
            for tag in [
                '<link rel="canonical"',
                '<meta name="description"',
                '<meta property="og:title"',
                '<meta name="twitter:card"',
                '<html lang="en-GB">',
                '<a class="skip-link"',
            ]:
                assert tag in text, f"{name} lacks {tag}"


def test_two_builds_are_byte_identical(project: Path, tmp_path: Path) -> None:
    build(project, tmp_path / "one")
    build(project, tmp_path / "two")
    assert read_tree(tmp_path / "one") == read_tree(tmp_path / "two")


def test_failed_build_leaves_previous_output_untouched(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    before = read_tree(out)
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: [unclosed")
    with pytest.raises(BuildFailed):
        build(project, out)
    assert read_tree(out) == before


def test_rebuild_replaces_removed_pages(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    (project / "content/pages/about.md").unlink()
    build(project, out)
    assert not (out / "about").exists()
    assert not list(out.parent.glob(".*_site.*")), "staging folders left behind"


@pytest.mark.parametrize("where", ["/", "~", ".", "content", "templates", "static", ".."])
def test_refuses_dangerous_output_folders(project: Path, where: str) -> None:
    target = {"/": Path("/"), "~": Path.home(), ".": project, "..": project.parent}.get(where, project / where)
    before = sorted(p.name for p in target.iterdir())
    with pytest.raises(BuildFailed) as info:
        build(project, target)
    assert "refusing to write the site here" in str(info.value.errors[0])
    assert sorted(p.name for p in target.iterdir()) == before


def test_refuses_folder_with_other_files_and_symlinked_output(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(BuildFailed, match="Build failed"):
        build(project, other)
    assert (other / "keep.txt").read_text() == "mine"
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(BuildFailed):
        build(project, link)


def test_cli_build_prints_one_line(project: Path) -> None:
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"Built 14 pages in \d+\.\d\d s\n", proc.stdout)
    assert proc.stderr == ""


def test_three_errors_in_one_run_leave_output_untouched(project: Path) -> None:
    assert run_cli("build", cwd=project).returncode == 0
    before = read_tree(project / "_site")
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: battery maker\n  bad: [")
    edit(project / "content/companies/alpha.yaml", "policies: [cap]", "policies: [cpa]")
    edit(project / "content/companies/alpha.md", "[@src-one]", "[@src-onee]")
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == "Build failed: 3 errors"
    assert lines[0].startswith("content/companies/alpha.md:3:") and "unknown source id 'src-onee'" in lines[0]
    assert "did you mean 'src-one'?" in lines[0]
    assert (
        lines[1].startswith("content/companies/alpha.yaml:10:12: unknown reference 'cpa'") and "did you mean 'cap'?" in lines[1]
    )
    assert lines[2].startswith("content/companies/beta.yaml:3:") and "YAML syntax error" in lines[2]
    assert "Traceback" not in proc.stderr
    assert read_tree(project / "_site") == before


def test_published_schema_accepts_fact_files_as_editors_see_them(project: Path) -> None:
    import json

    import jsonschema
    import yaml

    out = project / "_site"
    build(project, out)
    schema = json.loads((out / "schemas/company.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((project / "content/companies").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert list(validator.iter_errors(data)) == [], path.name
    assert list(validator.iter_errors({"title": "X", "kind": "k", "fonded": 1}))  # unknown fields still flagged
    assert list(validator.iter_errors({"title": "X", "kind": "k", "founded": {"value": "soon"}}))  # wrong type inside


def test_minimal_site_without_optional_files(project: Path) -> None:
    for name in ["home.md", "timeline.yaml", "glossary.yaml", "charts.yaml", "pages/about.md", "pages/methodology.md"]:
        (project / "content" / name).unlink()
    edit(project / "content/site.yaml", "methodology: pages/methodology\n", "")
    edit(project / "content/companies/alpha.md", "The [[timeline]] has more. See also [[glossary/nev]] and", "See")
    edit(project / "content/companies/alpha.md", "[[charts/sales]]\n", "")
    for nav in ("  - {title: Timeline, link: timeline}\n", "  - {title: Glossary, link: glossary}\n"):
        edit(project / "content/site.yaml", nav, "")
    out = project / "_site"
    build(project, out)
    home = page(out, "index.html")
    assert "<h1>Fixture explainer</h1>" in home and "A small site that exercises every feature" in home
    # A data page is published only when there is data for it: no empty timeline, glossary or charts page.
    for name in ("timeline", "glossary", "charts"):
        assert not (out / name).exists()
        assert f"/{name}/" not in page(out, "sitemap.xml") and f"/{name}/" not in page(out, "search/index.html")
    assert (out / "bibliography/index.html").is_file()


def test_fact_object_around_a_whole_table_row_shows_its_citations(project: Path) -> None:
    row = "  - {value: {partner: beta, percent: 25, from: 2022-02}, sources: [src-two]}\n"
    edit(project / "content/companies/alpha.yaml", "stakes:\n", "stakes:\n" + row)
    out = project / "_site"
    build(project, out)
    html = page(out, "companies/alpha/index.html")
    row = re.split(r"<td[^>]*><data value=\"25\">25%", html)[1].split("</tr>")[0]
    assert 'href="#ref-' in row and "weak source" in row


def test_glossary_tooltip_is_plain_text(project: Path) -> None:
    edit(
        project / "content/glossary.yaml",
        "definition: A car that runs wholly or partly on electricity.",
        "definition: A car that runs on electricity [?], as in [[companies/beta]] [@src-one].",
    )
    out = project / "_site"
    build(project, out)
    html = page(out, "companies/alpha/index.html")
    assert 'title="new energy vehicle: A car that runs on electricity, as in Beta Batteries."' in html


def test_long_data_pages_are_split_into_parts_and_addresses_follow(project: Path) -> None:
    from site_builder.parts import MAX_ITEMS

    with (project / "content/sources.yaml").open("a") as f:
        for i in range(MAX_ITEMS["bibliography"] + 5):
            f.write(f"- id: extra-{i:02d}\n  title: Zebra report {i:02d}\n")
    extra = " ".join(f"[@extra-{i:02d}]" for i in range(MAX_ITEMS["bibliography"] + 5))
    edit(project / "content/companies/beta.md", "[@src-two].", f"[@src-two]. {extra} See [[sources/extra-20]].")
    out = project / "_site"
    build(project, out)
    first, second = page(out, "bibliography/index.html"), page(out, "bibliography/z/index.html")
    assert '<nav class="parts"' in first and '<a href="/fixture/bibliography/z/">Z</a>' in first
    assert "<h1>Sources: Z</h1>" in second and '<li id="extra-20">' in second
    assert '<a href="/fixture/bibliography/z/#extra-20">Zebra report 20</a>' in page(out, "companies/beta/index.html")
    assert check_links(read_tree(out), Urls("https://example.github.io/fixture/")) == []


def test_a_build_gives_back_the_collectors_usual_pace(project: Path) -> None:
    """A build runs the cycle collector rarely (its objects live until it ends); afterwards, failed or not, the
    process has its own pace back."""
    gc.set_threshold(700, 10, 10)
    try:
        build(project, project / "_site", search=False)
        assert gc.get_threshold() == (700, 10, 10)
        edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: [not, text]")
        with pytest.raises(BuildFailed):
            build(project, project / "_site", search=False)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(700, 10, 10)


def test_a_letter_too_long_for_one_page_is_cut_into_numbered_parts(project: Path) -> None:
    """600 sources under Z: three parts of at most 240 (LONGEST × MAX_ITEMS), 'Z (1)' to 'Z (3)', in order, each
    source on exactly one of them and its address leading there."""
    from site_builder.parts import LONGEST, MAX_ITEMS

    size, count = LONGEST * MAX_ITEMS["bibliography"], 600
    with (project / "content/sources.yaml").open("a") as f:
        for i in range(count):
            f.write(f"- id: zz-{i:03d}\n  title: Zebra report {i:03d}\n")
    cites = " ".join(f"[@zz-{i:03d}]" for i in range(count))
    edit(project / "content/companies/beta.md", "[@src-two].", f"[@src-two]. {cites} See [[sources/zz-599]].")
    out = project / "_site"
    build(project, out, search=False)
    parts = [page(out, f"bibliography/z-{n}/index.html") for n in (1, 2, 3)]
    assert [p.count('<li id="zz-') for p in parts] == [size, size, count - 2 * size]
    assert [f"<h1>Sources: Z ({n})</h1>" in p for n, p in enumerate(parts, 1)] == [True, True, True]
    assert '<li id="zz-000">' in parts[0] and '<li id="zz-599">' in parts[2]
    assert '<a href="/fixture/bibliography/z-2/">Z (2)</a>' in page(out, "bibliography/index.html")
    assert '<a href="/fixture/bibliography/z-3/#zz-599">Zebra report 599</a>' in page(out, "companies/beta/index.html")
    assert check_links(read_tree(out), Urls("https://example.github.io/fixture/")) == []
