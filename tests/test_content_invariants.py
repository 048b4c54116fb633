"""Invariants of the explainer's content, read straight from content/ with PyYAML.

These tests do not import the engine, so they hold the content to its promises on their own:
every record is sourced, no number or date stands without a source or an "unconfirmed" flag,
every citation resolves, and the corrections page carries every correction (and is the only
place that repeats the unrelated iPhone headline).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CONTENT = Path(__file__).resolve().parent.parent / "content"
COLLECTIONS = ("companies", "policies", "places", "vehicles")
COMPANIES = (
    "tesla",
    "bmw",
    "brilliance-china",
    "bmw-brilliance",
    "catl",
    "gotion",
    "volkswagen",
    "lg-energy-solution",
    "samsung-sdi",
    "sk-innovation",
    "panasonic",
)
POLICIES = ("jv-ownership-cap", "nev-subsidies", "dual-credit", "government-procurement", "eu-2020-policies")
PLACES = ("giga-shanghai", "giga-berlin", "bba-shenyang")
VEHICLES = ("model-3-china", "bmw-ix3")
ABOUT_SOURCE = "pages/about-the-source.md"
IPHONE_HEADLINE = "whole family barrel"
CORRECTION_KEYWORDS = (
    "Tesla Motor Co",
    "model 23",
    "national sports partner",
    "Ningde times",
    "GuoXuan",
    "March 3",
    "< / P >",
    IPHONE_HEADLINE,
)
CITATION = re.compile(r"\[@([^\]]*)\]")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.S)
DATE_TEXT = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def rel(path: Path) -> str:
    return path.relative_to(CONTENT).as_posix()


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def front_matter(path: Path) -> dict[str, Any]:
    match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    assert match, f"{rel(path)}: missing front matter"
    return yaml.safe_load(match.group(1) or "") or {}


def record_files() -> list[Path]:
    return sorted(p for name in COLLECTIONS for p in (CONTENT / name).glob("*.yaml"))


def data_files() -> list[Path]:
    """Every YAML file except the schemas (which describe facts rather than state them)."""
    return sorted(p for p in CONTENT.rglob("*.yaml") if "schemas" not in p.relative_to(CONTENT).parts)


def markdown_files() -> list[Path]:
    return sorted(CONTENT.rglob("*.md"))


def is_fact(node: Any) -> bool:
    """A fact object, as the engine reads one: a mapping with a `value` key."""
    return isinstance(node, dict) and "value" in node


def is_bare_fact_value(value: Any) -> bool:
    """A number, or a date (a YAML date or a YYYY / YYYY-MM / YYYY-MM-DD string)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, datetime.date)):
        return True
    return isinstance(value, str) and bool(DATE_TEXT.match(value.strip()))


def unsupported_values(node: Any, where: str = "", covered: bool = False) -> Iterator[tuple[str, Any]]:
    """Numbers and dates that no enclosing fact object sources or flags as unconfirmed."""
    if is_fact(node) and where:
        ok = bool(node.get("sources")) or node.get("status") == "unconfirmed"
        yield from unsupported_values(node["value"], f"{where}.value", covered or ok)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from unsupported_values(value, f"{where}.{key}" if where else str(key), covered)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from unsupported_values(value, f"{where}[{i}]", covered)
    elif is_bare_fact_value(node) and not covered:
        yield where, node


def cited_ids_in_data(node: Any) -> Iterator[str]:
    """Source ids in `sources:` lists and in `[@id]` citations inside text values."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sources" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from cited_ids_in_data(value)
    elif isinstance(node, list):
        for value in node:
            yield from cited_ids_in_data(value)
    elif isinstance(node, str):
        yield from cited_ids_in_text(node)


def cited_ids_in_text(text: str) -> Iterator[str]:
    for match in CITATION.finditer(text):
        for part in match.group(1).split(";"):
            yield part.strip().lstrip("@").strip()


def has_any_source(node: Any) -> bool:
    """Whether a record cites a source anywhere: record-level `sources` or a fact object's."""
    if isinstance(node, dict):
        if node.get("sources"):
            return True
        return any(has_any_source(v) for v in node.values())
    if isinstance(node, list):
        return any(has_any_source(v) for v in node)
    return False


def known_source_ids() -> set[str]:
    entries = load_yaml(CONTENT / "sources.yaml")
    assert isinstance(entries, list) and entries, "sources.yaml: expected a non-empty list of sources"
    return {str(entry["id"]) for entry in entries}


def all_citations() -> dict[str, set[str]]:
    """Each cited source id with the files that cite it."""
    cited: dict[str, set[str]] = {}
    for path in data_files():
        if path.name == "sources.yaml" and path.parent == CONTENT:
            continue
        for ident in cited_ids_in_data(load_yaml(path)):
            cited.setdefault(ident, set()).add(rel(path))
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        ids = set(cited_ids_in_text(text))
        match = FRONT_MATTER.match(text)
        if match:
            ids |= set(cited_ids_in_data(yaml.safe_load(match.group(1) or "") or {}))
        for ident in ids:
            cited.setdefault(ident, set()).add(rel(path))
    return cited


@pytest.mark.parametrize(
    "collection, slug",
    [("companies", s) for s in COMPANIES]
    + [("policies", s) for s in POLICIES]
    + [("places", s) for s in PLACES]
    + [("vehicles", s) for s in VEHICLES],
)
def test_required_record_exists(collection: str, slug: str) -> None:
    path = CONTENT / collection / f"{slug}.yaml"
    assert path.is_file(), f"{collection}/{slug}.yaml: required record is missing"
    data = load_yaml(path)
    assert isinstance(data, dict) and data.get("title"), f"{rel(path)}: record has no title"
    assert (CONTENT / collection / f"{slug}.md").is_file(), f"{collection}/{slug}.md: narrative is missing"


def test_every_record_cites_a_source() -> None:
    files = record_files()
    assert len(files) >= len(COMPANIES) + len(POLICIES), "content/: expected the company and policy records"
    unsourced = [rel(p) for p in files if not has_any_source(load_yaml(p))]
    assert not unsourced, f"records citing no source at all: {', '.join(unsourced)}"


def test_every_number_and_date_in_a_fact_file_is_sourced_or_unconfirmed() -> None:
    files = record_files()
    assert files, "content/: no fact files found"
    problems = [
        f"{rel(path)}: {where} = {value!r} is not inside a fact object with sources or status: unconfirmed"
        for path in files
        for where, value in unsupported_values(load_yaml(path))
    ]
    assert not problems, "\n".join(problems)


def test_weak_facts_name_their_weak_source() -> None:
    problems = []
    for path in record_files():
        stack = [load_yaml(path)]
        while stack:
            node = stack.pop()
            if is_fact(node) and node.get("status") == "weak" and not node.get("sources"):
                problems.append(f"{rel(path)}: weak fact {node['value']!r} has no sources")
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    assert not problems, "\n".join(problems)


def test_every_cited_source_exists() -> None:
    known = known_source_ids()
    cited = all_citations()
    assert cited, "content/: no citations found at all"
    missing = [
        f"{', '.join(sorted(files))}: cites unknown source '{ident}'"
        for ident, files in sorted(cited.items())
        if ident not in known
    ]
    assert not missing, "\n".join(missing)


def test_every_listed_source_is_cited() -> None:
    cited = all_citations()
    uncited = sorted(known_source_ids() - set(cited))
    assert not uncited, f"sources.yaml: sources nobody cites: {', '.join(uncited)}"


def test_source_ids_are_unique() -> None:
    entries = load_yaml(CONTENT / "sources.yaml")
    ids = [str(e["id"]) for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"sources.yaml: duplicate ids {', '.join(duplicates)}"


def test_charts_and_key_figures_are_sourced() -> None:
    charts = load_yaml(CONTENT / "charts.yaml")
    assert isinstance(charts, list) and len(charts) >= 3, "charts.yaml: expected at least three charts"
    for chart in charts:
        assert chart.get("sources"), f"charts.yaml: chart '{chart.get('id')}' has no sources"
    figures = front_matter(CONTENT / "home.md").get("key_figures", [])
    assert figures, "home.md: no key_figures"
    for figure in figures:
        assert figure.get("sources") or figure.get("status") == "unconfirmed", (
            f"home.md: key figure {figure.get('value')!r} has no sources"
        )


def test_timeline_events_are_sourced_or_unconfirmed() -> None:
    events = load_yaml(CONTENT / "timeline.yaml")
    assert isinstance(events, list) and events, "timeline.yaml: no events"
    bare = [
        f"timeline.yaml: event {e.get('date')} '{e.get('title')}' has no sources"
        for e in events
        if not e.get("sources") and e.get("status") != "unconfirmed"
    ]
    assert not bare, "\n".join(bare)


def test_iphone_headline_appears_only_on_the_about_the_source_page() -> None:
    files = [p for p in CONTENT.rglob("*") if p.is_file()]
    assert files, "content/: no files found"
    found = sorted(rel(p) for p in files if IPHONE_HEADLINE in p.read_text(encoding="utf-8").lower())
    translation = ABOUT_SOURCE.removesuffix(".md") + ".zh.md"  # the Chinese edition of the same page quotes it too
    assert found in ([ABOUT_SOURCE], sorted([ABOUT_SOURCE, translation])), (
        f"the iPhone headline must appear only in {ABOUT_SOURCE} (and its translation); found in: {found}"
    )


@pytest.mark.parametrize("keyword", CORRECTION_KEYWORDS)
def test_each_correction_is_on_the_about_the_source_page(keyword: str) -> None:
    path = CONTENT / ABOUT_SOURCE
    assert path.is_file(), f"{ABOUT_SOURCE}: page is missing"
    # Case matters: "GuoXuan" is the translation's garbled spelling, "Guoxuan" a real one.
    assert keyword in path.read_text(encoding="utf-8"), f"{ABOUT_SOURCE}: correction for {keyword!r} is missing"


def test_about_the_source_covers_every_listed_error() -> None:
    text = (CONTENT / ABOUT_SOURCE).read_text(encoding="utf-8")
    missing = [f"E{n}" for n in range(1, 25) if not re.search(rf"\|\s*E{n}\s*\|", text)]
    assert not missing, f"{ABOUT_SOURCE}: no table row for {', '.join(missing)}"
