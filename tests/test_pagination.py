"""Long collection indexes are published in pages (issue 16): /companies/, /companies/page/2/, … with a pager, rel
prev/next links, every page in the sitemap and in every edition; downloads stay whole; an edit to one record renders
only the index page that lists it."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from site_builder.build import build, build_files
from site_builder.check import check_links
from site_builder.errors import BuildFailed
from site_builder.pages import index_path, window
from site_builder.tree import read_tree as read_project
from site_builder.urls import Urls

from .conftest import REPO, edit, read_tree

SIZE = 3
NAMES = ["Gamma Cells", "Delta Drives", "Epsilon Energy", "Zeta Motors", "Eta Auto", "Theta Power", "Iota Mobility", "Kappa Cars"]
BASE = "https://example.github.io/fixture/"


def paged(project: Path, size: int = SIZE) -> Path:
    """The fixture with eight more companies (ten in all) and an index of `size` rows a page."""
    setting = "    jsonld_type: Organization\n"
    edit(project / "content/site.yaml", setting, f"{setting}    page_size: {size}\n")
    for i, name in enumerate(NAMES):
        slug = name.split()[0].lower()
        text = f"title: {name}\nkind: maker {i}\nfounded: {{value: {2001 + i}, sources: [src-one]}}\nsources: [src-one]\n"
        (project / f"content/companies/{slug}.yaml").write_text(text, encoding="utf-8")
    return project


def titles_in_order() -> list[str]:
    return sorted(["Alpha Motors", "Beta Batteries", *NAMES], key=str.lower)


def index_files(files: dict[str, bytes], prefix: str = "") -> list[str]:
    """The index's pages, found by following rel=next from the first."""
    found, name = [], f"{prefix}companies/index.html"
    while True:
        found.append(name)
        html = files[name].decode()
        nxt = re.search(r'<link rel="next" href="/fixture/([^"]*)">', html)
        if not nxt:
            return found
        name = nxt.group(1) + "index.html"
        assert name not in found, "rel=next goes round in a circle"


def rows(html: str) -> list[str]:
    return re.findall(r'<tr><th scope="row"><a href="[^"]*">([^<]*)</a>', html)


def test_every_record_is_on_exactly_one_index_page_in_sort_order(project: Path, tmp_path: Path) -> None:
    build(paged(project), tmp_path / "out", search=False)
    files = read_tree(tmp_path / "out")
    pages = index_files(files)
    assert pages == [f"{index_path('companies', n)}index.html" for n in range(4)]
    assert pages[:2] == ["companies/index.html", "companies/page/2/index.html"]
    listed = [rows(files[p].decode()) for p in pages]
    assert [len(r) for r in listed] == [3, 3, 3, 1]
    assert [t for page in listed for t in page] == titles_in_order()  # each once, in the collection's sort order
    assert not any(n.startswith("companies/page/5/") for n in files)
    second = files["companies/page/2/index.html"].decode()
    assert "<h1>Companies, page 2 of 4</h1>" in second and "<title>Companies, page 2 of 4 · " in second
    assert "<caption>4–6 of 10 companies</caption>" in second
    assert '<link rel="canonical" href="https://example.github.io/fixture/companies/page/2/">' in second
    assert "<caption>10 companies</caption>" not in files["policies/index.html"].decode()  # policies: one page, as before
    sitemap = files["sitemap.xml"].decode()
    for n in (2, 3, 4):
        assert f"<loc>{BASE}companies/page/{n}/</loc>" in sitemap


def test_the_pager_links_resolve_and_say_where_the_reader_is(project: Path) -> None:
    result = build_files(read_project(paged(project)))
    assert check_links(result.files, Urls(BASE)) == []
    pages = index_files(result.files)
    for n, name in enumerate(pages):
        html = result.files[name].decode()
        pager = re.search(r'<nav class="pager" aria-label="Pages of this list">(.*?)</nav>', html, re.S)
        assert pager, name
        links = re.findall(r'<a href="/fixture/([^"]*)"', pager.group(1))
        assert all(f"{link}index.html" in result.files for link in links)
        current = re.findall(r'<a href="/fixture/([^"]*)" aria-current="page">', pager.group(1))
        assert current == [pages[n].removesuffix("index.html")]
        assert ('rel="prev"' in pager.group(1)) == (n > 0) == ('<link rel="prev"' in html)
        assert ('rel="next"' in pager.group(1)) == (n < len(pages) - 1) == ('<link rel="next"' in html)
        if n > 0:
            assert f'<link rel="prev" href="/fixture/{pages[n - 1].removesuffix("index.html")}">' in html


def test_the_downloads_hold_the_whole_collection(project: Path) -> None:
    files = build_files(read_project(paged(project))).files
    table = json.loads(files["companies/index.json"])
    assert sorted(r["data"]["title"] for r in table["records"]) == sorted(titles_in_order())
    csv = files["companies/index.csv"].decode()
    assert all(title in csv for title in titles_in_order()) and len(csv.strip().splitlines()) == 11
    assert not any(n.startswith("companies/page/") and not n.endswith("index.html") for n in files)


def test_page_size_zero_never_splits_and_a_bad_one_is_an_error(project: Path) -> None:
    files = build_files(read_project(paged(project, 0))).files
    assert not any(n.startswith("companies/page/") for n in files)
    assert rows(files["companies/index.html"].decode()) == titles_in_order()
    assert "<caption>10 companies</caption>" in files["companies/index.html"].decode()
    edit(project / "content/site.yaml", "page_size: 0", "page_size: -5")
    with pytest.raises(BuildFailed) as failed:
        build_files(read_project(project))
    assert any("page_size" in str(e) for e in failed.value.errors), failed.value.errors


def test_the_default_page_size_keeps_short_indexes_whole(project: Path) -> None:
    files = build_files(read_project(project)).files
    assert not any("/page/" in n for n in files)
    assert 'class="pager"' not in files["companies/index.html"].decode()


def test_one_record_edit_rewrites_only_the_index_page_that_lists_it(project: Path, tmp_path: Path) -> None:
    out = paged(project) / "_site"
    build(project, out, search=False)
    names = index_files(read_tree(out))
    before = {n: (out / n).stat().st_ino for n in names}
    edit(project / "content/companies/epsilon.yaml", "kind: maker 2", "kind: maker two")  # Epsilon: 4th, page 2
    again = build(project, out, search=False)
    assert again.rendered == 2  # Epsilon's page and the index page that lists it
    changed = [n for n in names if (out / n).stat().st_ino != before[n]]
    assert changed == ["companies/page/2/index.html"]
    assert "maker two" in (out / "companies/page/2/index.html").read_text(encoding="utf-8")
    cold = tmp_path / "cold"
    shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", ".site-builder-cache"))
    build(cold, cold / "_site", search=False)
    assert read_tree(out) == read_tree(cold / "_site")


@pytest.mark.parametrize(
    "change",
    [
        ("content/companies/alpha.yaml", "title: Alpha Motors", "title: Omega Motors"),  # moves from page 1 to 4
        ("content/companies/beta.yaml", "kind: battery maker", "kind: cell maker"),
        ("content/site.yaml", "page_size: 3", "page_size: 4"),
        ("content/site.yaml", "sort: title\n    columns: [kind, founded]", "sort: -founded\n    columns: [kind, founded]"),
    ],
)
def test_an_incremental_build_of_a_paged_index_equals_a_cold_one(
    project: Path, tmp_path: Path, change: tuple[str, str, str]
) -> None:
    out = paged(project) / "_site"
    build(project, out, search=False)
    edit(project / change[0], change[1], change[2])
    build(project, out, search=False)
    cold = tmp_path / "cold"
    shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", ".site-builder-cache"))
    build(cold, cold / "_site", search=False)
    assert read_tree(out) == read_tree(cold / "_site")


def french(project: Path) -> Path:
    """A French edition that translates one paged record's field in front matter only (no text)."""
    languages = "languages:\n  - {code: en-GB, name: English}\n  - {code: fr, name: Français}\n"
    edit(project / "content/site.yaml", "language: en-GB\n", languages)
    (project / "content/companies/zeta.fr.md").write_text("---\nkind: constructeur\n---\n", encoding="utf-8")
    return project


def test_every_edition_has_every_index_page(project: Path, tmp_path: Path) -> None:
    out = french(paged(project)) / "_site"
    build(project, out, search=False)
    files = read_tree(out)
    english, translated = index_files(files), index_files(files, "fr/")
    assert translated == [f"fr/{n}" for n in english] and len(english) == 4
    assert sorted(t for n in translated for t in rows(files[n].decode())) == sorted(titles_in_order())
    second = files["fr/companies/page/2/index.html"].decode()
    assert '<html lang="fr">' in second and 'href="/fixture/fr/companies/page/3/"' in second
    assert 'hreflang="en-GB" href="https://example.github.io/fixture/companies/page/2/"' in second
    assert f"<loc>{BASE}fr/companies/page/4/</loc>" in files["sitemap.xml"].decode()
    page = next(n for n in translated if "Zeta Motors" in files[n].decode())
    assert "constructeur" in files[page].decode()
    # A translation file with fields and no text is what the page and its index page are made from too.
    edit(project / "content/companies/zeta.fr.md", "kind: constructeur", "kind: constructeur automobile")
    again = build(project, out, search=False)
    assert again.rendered == 2  # Zeta's French page and the French index page that lists it
    assert "constructeur automobile" in (out / page).read_text(encoding="utf-8")
    assert "constructeur automobile" in (out / "fr/companies/zeta/index.html").read_text(encoding="utf-8")


def test_the_pager_shows_the_ends_and_the_pages_near_the_current_one() -> None:
    assert window(0, 1) == [0]
    assert window(0, 10) == [0, 1, 2, None, 9]
    assert window(5, 10) == [0, None, 3, 4, 5, 6, 7, 8, 9]  # a gap of one page shows that page, not '…'
    assert window(50, 100) == [0, None, 48, 49, 50, 51, 52, None, 99]
    assert window(3, 7) == list(range(7))


def test_the_benchmark_corpus_builds_with_pages(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, str(REPO / "benchmarks/gen_corpus.py"), "1000", str(corpus)], check=True, capture_output=True)
    result = build_files(read_project(corpus), workers=2)
    files = result.files
    pages = sorted(n for n in files if re.fullmatch(r"entities/(page/\d+/)?index\.html", n))
    assert len(pages) == math.ceil(1000 / 100) == 10  # the default page size
    listed = [t for n in pages for t in rows(files[n].decode())]
    assert len(listed) == len(set(listed)) == 1000
    assert "<caption>901–1000 of 1000 entities</caption>" in files["entities/page/10/index.html"].decode()
