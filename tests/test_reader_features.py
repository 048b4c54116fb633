"""Reader features: data downloads, cite this page, last updated, Atom feed, JSON-LD, glossary links, search."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import os
import re
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from site_builder.build import build

from .conftest import edit

ATOM = "{http://www.w3.org/2005/Atom}"


def built(project: Path) -> Path:
    out = project / "_site"
    build(project, out)
    return out


def test_record_json_keeps_facts_sources_and_bibliography(project: Path) -> None:
    data = json.loads((built(project) / "companies/alpha/index.json").read_text())
    assert data["id"] == "companies/alpha"
    assert data["data"]["founded"] == {"value": 2003, "sources": ["src-one"]}
    assert data["data"]["employees"] == {"value": 83000, "sources": ["src-two"], "status": "weak"}
    assert data["data"]["stakes"][0]["percent"] == {"value": 50, "sources": ["src-one"]}
    assert set(data["bibliography"]) == {"src-one", "src-two"}
    assert data["bibliography"]["src-one"]["url"] == "https://news.example.com/one"
    assert data["licence"]["name"] == "CC BY 4.0"


def test_collection_csv_and_json(project: Path) -> None:
    out = built(project)
    rows = list(csv.DictReader(io.StringIO((out / "companies/index.csv").read_text())))
    assert [r["id"] for r in rows] == ["companies/alpha", "companies/beta"]
    assert rows[0]["founded"] == "2003" and rows[0]["policies"] == "cap" and rows[0]["sources"] == "src-one; src-two"
    assert json.loads(rows[0]["stakes"]) == [{"partner": "beta", "percent": 50, "from": "2003-05"}]
    records = json.loads((out / "policies/index.json").read_text())["records"]
    assert [r["id"] for r in records] == ["policies/cap"]


def test_dataset_has_everything(project: Path) -> None:
    data = json.loads((built(project) / "data/dataset.json").read_text())
    assert set(data["collections"]) == {"companies", "policies"}
    assert [s["id"] for s in data["sources"]] == ["src-one", "src-two"]
    assert len(data["timeline"]) == 2 and len(data["glossary"]) == 2 and data["charts"][0]["id"] == "sales"


def test_pages_link_their_downloads_and_licence(project: Path) -> None:
    out = built(project)
    record = (out / "companies/alpha/index.html").read_text()
    assert '<a href="/fixture/companies/alpha/index.json" download>This record (JSON)</a>' in record
    assert "Free to reuse under CC BY 4.0" in record
    index = (out / "companies/index.html").read_text()
    assert 'href="/fixture/companies/index.csv" download' in index and 'href="/fixture/data/dataset.json" download' in index


def test_json_ld_types_follow_the_content(project: Path) -> None:
    out = built(project)

    def ld(path: str) -> dict[str, object]:
        text = (out / path).read_text()
        return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]

    assert ld("companies/alpha/index.html")["@type"] == "Organization"
    assert ld("rules/cap/index.html")["@type"] == "Legislation"
    assert ld("about/index.html")["@type"] == "Article" and ld("about/index.html")["headline"] == "About"
    assert ld("index.html")["@type"] == "WebSite"
    assert ld("companies/alpha/index.html")["url"] == "https://example.github.io/fixture/companies/alpha/"


def test_json_ld_cannot_close_its_script(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "title: Beta Batteries", "title: Beta </script><script>alert(1)</script>")
    html = (built(project) / "companies/beta/index.html").read_text()
    assert "</script><script>alert(1)" not in html


def test_cite_this_page(project: Path) -> None:
    html = (built(project) / "companies/alpha/index.html").read_text()
    assert "<summary>Cite this page</summary>" in html
    assert "Test Author, “Alpha Motors”, Fixture explainer, undated." in html
    # The fixture's base URL is on a reserved example domain: the site is not published yet, so no address is given.
    assert (
        "@misc{fixture-companies-alpha," in html
        and "howpublished" not in html
        and "example.github.io/fixture/companies"
        not in (html.split("<summary>Cite this page</summary>")[1].split("</details>")[0])
    )
    out = project / "_published"
    build(project, out, base_url="https://someone.github.io/fixture/")
    published = (out / "companies/alpha/index.html").read_text()
    assert r"howpublished = {\url{https://someone.github.io/fixture/companies/alpha/}}" in published
    assert "Undated version. https://someone.github.io/fixture/companies/alpha/" in published


def git(project: Path, *args: str, date: str = "2024-03-05T12:00:00+00:00") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, env=env)


def test_last_updated_from_git_history(project: Path) -> None:
    git(project, "init", "-q")
    git(project, "add", "content")
    git(project, "commit", "-qm", "first")
    edit(project / "content/companies/alpha.md", "## History", "## History of Alpha")
    git(project, "commit", "-qam", "second", date="2025-06-01T09:00:00+00:00")
    out = built(project)
    alpha = (out / "companies/alpha/index.html").read_text()
    beta = (out / "companies/beta/index.html").read_text()
    assert 'Last updated <time datetime="2025-06-01">1 June 2025</time>.' in alpha
    assert 'Last updated <time datetime="2024-03-05">5 March 2024</time>.' in beta
    assert '"dateModified": "2025-06-01"' in alpha
    assert "note = {Version of 2025-06-01}" in alpha
    assert "<lastmod>2025-06-01</lastmod>" in (out / "sitemap.xml").read_text()
    feed = ET.fromstring((out / "feed.xml").read_bytes())
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries][:1] == ["Alpha Motors"]
    assert entries[0].findtext(f"{ATOM}updated") == "2025-06-01T00:00:00Z"
    assert feed.findtext(f"{ATOM}updated") == "2025-06-01T00:00:00Z"


def test_last_updated_from_content_without_git(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "title: Beta Batteries", "title: Beta Batteries\nupdated: 2023-01-15")
    out = built(project)
    assert 'datetime="2023-01-15">15 January 2023</time>' in (out / "companies/beta/index.html").read_text()
    assert "Last updated" not in (out / "companies/alpha/index.html").read_text()
    assert len(ET.fromstring((out / "feed.xml").read_bytes()).findall(f"{ATOM}entry")) == 1


def test_glossary_links_and_opt_out(project: Path) -> None:
    out = built(project)
    assert 'class="term" href="/fixture/glossary/#nev"' in (out / "companies/alpha/index.html").read_text()
    edit(project / "content/pages/about.md", "About [[home]].", "About [[home]] and NEV cars.")
    assert 'class="term"' in (built(project) / "about/index.html").read_text()
    edit(project / "content/pages/about.md", "description: What this is.", "description: What this is.\nglossary_links: false")
    assert 'class="term"' not in (built(project) / "about/index.html").read_text()


def test_search_index_is_built_with_the_site(project: Path) -> None:
    out = built(project)
    assert (out / "pagefind/pagefind-ui.js").is_file() and (out / "pagefind/pagefind-entry.json").is_file()
    home = (out / "index.html").read_text()
    assert '<form class="search-form" action="/fixture/search/" method="get" role="search">' in home
    search = (out / "search/index.html").read_text()
    assert '<a href="/fixture/companies/">Companies</a>' in search  # without JavaScript: the indexes


@pytest.fixture
def served(project: Path) -> Iterator[str]:
    """The fixture site, built and served under its base path."""
    yield from serve_under(built(project), "fixture")


def serve_under(out: Path, mount: str) -> Iterator[str]:
    """A built site served over HTTP at /<mount>/, as GitHub Pages serves a project site."""
    root = out.parent / f"www-{mount}"
    root.mkdir()
    (root / mount).symlink_to(out, target_is_directory=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{mount}/"
    server.shutdown()


def test_search_from_the_home_page_finds_a_record(served: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served)
    page.fill("#site-search", "Alpha")
    page.press("#site-search", "Enter")
    page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)
    links = page.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.getAttribute('href'))")
    page.close()
    assert "/fixture/companies/alpha/" in links
    assert errors == []


def test_no_search_skips_the_index(project: Path) -> None:
    from .conftest import run_cli

    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    assert not (project / "_site/pagefind").exists()
    assert (project / "_site/search/index.html").is_file()
    assert run_cli("build", cwd=project).returncode == 0  # the option is part of what a build is made from
    assert (project / "_site/pagefind/pagefind-ui.js").is_file()


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real explainer in content/, built and served under its project path."""
    from .conftest import REPO

    out = tmp_path_factory.mktemp("real") / "site"
    build(REPO, out, base_url="https://example.github.io/china-ev-exports/")
    yield from serve_under(out, "china-ev-exports")


@pytest.mark.parametrize("query", ["CATL", "宁德时代"])
def test_search_on_the_real_site_finds_catl_by_either_name(real_site: str, browser: Any, query: str) -> None:
    page = browser.new_page()
    page.goto(real_site)
    page.fill("#site-search", query)
    page.press("#site-search", "Enter")
    page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)
    links = page.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.getAttribute('href'))")
    page.close()
    assert "/china-ev-exports/companies/catl/" in links
