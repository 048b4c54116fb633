"""A second story, far from electric cars, built with the built-in theme: nothing of the first story may leak.

tests/fixtures/second_story/content is a small explainer on how the Rosetta Stone was read: three collections
(people, with no `singular:` so the engine must derive "person"; places; artefacts), French, Greek and Arabic
titles, a timeline and no glossary or charts. It has no templates/ or static/ of its own.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from site_builder.check import check_links
from site_builder.urls import Urls

from .conftest import REPO, read_tree, run_cli

STORY = REPO / "tests" / "fixtures" / "second_story" / "content"
BASE_URL = "https://rosetta.example.org/"
COLLECTIONS = ("people", "places", "artefacts")

# Words of the first story (the EV explainer). None may appear in any file of the second story's site, the theme's
# own text included.
EV_WORDS = re.compile(
    r"\b(tesla|bmw|catl|gotion|volkswagen|electric (?:vehicles?|cars?)|evs?|nevs?|shanghai|batter(?:y|ies)"
    r"|brilliance|subsid(?:y|ies)|wall street journal|wsj|jacky wong|china|chinese|carmakers?|panasonic|samsung"
    r"|huachen|gigafactory|model 3)\b",
    re.IGNORECASE,
)
CITE = re.compile(r'<sup class="cite" id="cite-(\d+)-(\d+)"[^>]*><a href="#ref-(\d+)"')
WIKI_LINK = re.compile(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|[^\]]*)?\]\]")
CITED = re.compile(r"@([a-z0-9][a-z0-9-]*)")
YAML_SOURCES = re.compile(r"sources: \[([^\]]*)\]")


@dataclass(frozen=True)
class Built:
    result: subprocess.CompletedProcess[str]
    out: Path
    files: dict[str, bytes]

    def page(self, path: str) -> str:
        """A built file as text; fails with the build's own messages when the build failed."""
        assert self.result.returncode == 0, self.result.stderr[-3000:]
        assert path in self.files, f"{path} was not built"
        return self.files[path].decode("utf-8")

    def html_pages(self) -> dict[str, str]:
        assert self.result.returncode == 0, self.result.stderr[-3000:]
        return {name: data.decode("utf-8") for name, data in self.files.items() if name.endswith(".html")}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's content/ alone, copied so that a build's cache never lands in the repository."""
    root = tmp_path_factory.mktemp("second_story")
    shutil.copytree(STORY, root / "content")
    return root / "content"


@pytest.fixture(scope="module")
def built(story: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One strict build of the second story, run from an empty folder: the theme can only come from the package."""
    elsewhere = tmp_path_factory.mktemp("cwd")
    out = tmp_path_factory.mktemp("out") / "site"
    result = run_cli("build", "--content", str(story), "--out", str(out), "--strict", "--no-search", cwd=elsewhere)
    return Built(result, out, read_tree(out) if out.is_dir() else {})


def records() -> list[tuple[str, str, str]]:
    """(collection, slug, title) of every record of the fixture."""
    found = []
    for coll in COLLECTIONS:
        for path in sorted((STORY / coll).glob("*.yaml")):
            title = re.search(r"^title: (.+)$", path.read_text(encoding="utf-8"), re.M)
            assert title, path
            found.append((coll, path.stem, title.group(1).strip()))
    return found


def source_ids() -> list[str]:
    return re.findall(r"^- id: (\S+)$", (STORY / "sources.yaml").read_text(encoding="utf-8"), re.M)


def bibliography(built: Built) -> str:
    """Every part of the bibliography, in order (the first part at bibliography/, any others below it)."""
    names = sorted(n for n in built.files if re.fullmatch(r"bibliography/(?:[^/]+/)?index\.html", n))
    assert names, "no bibliography page was built"
    return "".join(built.page(n) for n in sorted(names, key=lambda n: (n != "bibliography/index.html", n)))


def test_builds_strict_with_the_default_theme(built: Built) -> None:
    assert not (STORY.parent / "templates").exists() and not (STORY.parent / "static").exists()
    assert built.result.returncode == 0, built.result.stderr[-3000:]
    assert "Built " in built.result.stdout
    assert "warning" not in built.result.stderr.lower(), built.result.stderr
    assert "static/style.css" in built.files  # the theme's stylesheet, from the package


def test_every_record_and_page_is_built_with_its_title(built: Built) -> None:
    for coll, slug, title in records():
        text = built.page(f"{coll}/{slug}/index.html")
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
        assert h1 and html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).strip() == title, (coll, slug)
    for coll in COLLECTIONS:
        built.page(f"{coll}/index.html")
    for page in ("index.html", "timeline/index.html", "bibliography/index.html", "about/index.html", "404.html"):
        built.page(page)
    assert '<html lang="en-GB">' in built.page("index.html")


def test_non_english_text_is_kept_and_marked_with_its_language(built: Built) -> None:
    rashid = built.page("places/rashid/index.html")
    assert '<span lang="ar">رشيد</span>' in rashid
    assert '<span lang="grc">Φιλαί</span>' in built.page("places/philae/index.html")
    stone = built.page("artefacts/rosetta-stone/index.html")
    assert '<span lang="fr">Pierre de Rosette</span>' in stone and "حجر رشيد" in stone
    assert "Πτολεμαῖος" in built.page("people/champollion/index.html")


def test_every_link_resolves(built: Built) -> None:
    pages = built.html_pages()
    assert check_links(built.files, Urls(BASE_URL)) == []
    for name, text in pages.items():
        assert "[[" not in text and "]]" not in text, f"an unresolved [[link]] on {name}"
    for coll, slug, _ in records():
        md = STORY / coll / f"{slug}.md"
        if not md.exists():
            continue
        text = pages[f"{coll}/{slug}/index.html"]
        for target in WIKI_LINK.findall(md.read_text(encoding="utf-8")):
            if target.split("/")[0] in COLLECTIONS:
                assert f'href="/{target}/' in text, f"{coll}/{slug}: no link to [[{target}]]"


def test_citations_are_numbered_and_lead_to_the_references(built: Built) -> None:
    checked = 0
    for coll, slug, _ in records():
        text = built.page(f"{coll}/{slug}/index.html")
        files = [p for p in (STORY / coll / f"{slug}.yaml", STORY / coll / f"{slug}.md") if p.exists()]
        wanted = set()
        for path in files:
            source = path.read_text(encoding="utf-8")
            wanted |= set(CITED.findall(" ".join(re.findall(r"\[@[^\]]*\]", source))))
            wanted |= {s.strip() for group in YAML_SOURCES.findall(source) for s in group.split(",") if s.strip()}
        cites = CITE.findall(text)
        numbers = sorted({int(n) for n, _, _ in cites})
        assert numbers == list(range(1, len(wanted) + 1)), f"{coll}/{slug}: citations {numbers} for sources {wanted}"
        for number, index, target in cites:
            assert number == target
            assert f'id="ref-{number}"' in text and f'href="#cite-{number}-{index}"' in text
        listed = set(re.findall(r'<a class="in-bibliography" href="/bibliography/(?:[^"#/]+/)?#([^"]+)"', text))
        assert listed == wanted, f"{coll}/{slug}: references {listed}, cited {wanted}"
        checked += 1
    assert checked == len(records())


def test_bibliography_lists_every_source_and_who_cites_it(built: Built) -> None:
    text = bibliography(built)
    for ident in source_ids():
        entry = re.search(rf'<li id="{ident}">(.*?)</li>', text, re.S)
        assert entry, f"source {ident} is not in the bibliography"
        assert "<a href=" in entry.group(1), f"source {ident} is cited by no page"


def test_accented_title_is_filed_under_its_base_letter(built: Built) -> None:
    """'Égyptologie' sorts as E: after 'Description de l'Égypte', before 'Lettre à M. Dacier' (not after 'Thomas')."""
    text = bibliography(built)
    order = re.findall(r'<li id="([a-z0-9-]+)">', text)
    assert order.index("wp-description") < order.index("wp-egyptologie") < order.index("champollion-1822"), order
    labels = re.findall(r'<nav class="parts"[^>]*>(.*?)</nav>', text, re.S)
    assert not any("#" in re.sub(r'href="[^"]*"', "", label) for label in labels), labels


def test_no_glossary_or_charts_anywhere(built: Built) -> None:
    pages = built.html_pages()
    assert not [n for n in built.files if n.startswith(("glossary/", "charts/"))]
    sitemap = built.page("sitemap.xml")
    assert "/glossary/" not in sitemap and "/charts/" not in sitemap
    for name, text in pages.items():
        assert not re.search(r'href="[^"]*/(?:glossary|charts)/', text), f"{name} links to an empty data page"
    search = pages["search/index.html"]
    assert not re.search(r">\s*(?:Glossary|Charts)\s*<", search), "the search page offers an empty data page"
    nav = re.search(r'<nav class="site-nav".*?</nav>', pages["index.html"], re.S)
    assert nav and "Glossary" not in nav.group(0) and "Charts" not in nav.group(0)


def test_people_are_counted_in_english(built: Built) -> None:
    text = built.page("people/index.html")
    people = sum(1 for coll, _, _ in records() if coll == "people")
    assert f"<caption>{people} people</caption>" in text
    for name, page in built.html_pages().items():
        assert not re.search(r"\b(?:peoples|persons|1 people)\b", page, re.I), name


def test_the_engine_derives_person_from_people(story: Path) -> None:
    """site.yaml gives people no `singular:`: the singular shown for one record must be "person", not "people"."""
    from site_builder import yamlfile
    from site_builder.config import parse_config

    text = (story / "site.yaml").read_text(encoding="utf-8")
    declared = re.search(r"^  people:\n((?:    .*\n)*)", text, re.M)
    assert declared and "singular" not in declared.group(1) and "plural" not in declared.group(1)
    config, errors = parse_config(yamlfile.load(text, "content/site.yaml"), "content/site.yaml", None)
    assert config is not None, errors
    people = config.collection("people")
    assert people is not None
    assert (people.singular, people.plural, people.title) == ("person", "people", "People")


def test_no_word_of_the_ev_story_in_any_output_file(built: Built) -> None:
    assert built.result.returncode == 0, built.result.stderr[-3000:]
    hits = {
        name: sorted({m.group(0) for m in EV_WORDS.finditer(data.decode("utf-8", "replace"))})
        for name, data in built.files.items()
    }
    assert {name: words for name, words in hits.items() if words} == {}


def test_check_passes_strict(story: Path, tmp_path: Path) -> None:
    result = run_cli("check", "--content", str(story), "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no problems" in result.stdout
