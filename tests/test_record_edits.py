"""The quick path of a fresh build for edits to a few records (record_edits.py): their pages, index pages and
downloads are made again without reading, checking or resolving the rest of the site; whichever path a build takes,
its output is a cold build's, byte for byte."""

from __future__ import annotations

import marshal
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build import build
from site_builder.cache import CACHE_DIR, FORMAT, PARSED_DATA, framed, read_blobs
from site_builder.errors import BuildFailed
from site_builder.output import MARKER
from site_builder.record_edits import SECTIONS, SNAPSHOT

from .conftest import cold_build, edit, read_tree

ALPHA, BETA = "content/companies/alpha.yaml", "content/companies/beta.yaml"
CAP = "content/policies/cap.yaml"

QUICK: dict[str, Callable[[Path], None]] = {  # the same face to the rest of the site: the quick path takes these
    "a plain field in the index": lambda p: edit(p / BETA, "kind: battery maker", "kind: cell maker"),
    "a sourced number": lambda p: edit(p / ALPHA, "value: 83000", "value: 84000"),
    "a fact's status and note": lambda p: edit(p / ALPHA, "status: weak}", "status: unconfirmed, note: Not in any filing.}"),
    "a field added": lambda p: edit(p / BETA, "kind: battery maker", "kind: battery maker\nwebsite: https://beta.example/"),
    "a field removed": lambda p: edit(p / ALPHA, "website: https://alpha.example.com/\n", ""),
    "a share in a nested list": lambda p: edit(p / ALPHA, "percent: {value: 50,", "percent: {value: 51,"),
    "a fact and prose in one record": lambda p: (
        edit(p / BETA, "kind: battery maker", "kind: cell maker"),
        edit(p / "content/companies/beta.md", "Beta supplies", "Beta now supplies"),
    ),
    "two records": lambda p: (
        edit(p / BETA, "kind: battery maker", "kind: cell maker"),
        edit(p / ALPHA, "value: 83000", "value: 84000"),
    ),
    "a record of another collection": lambda p: edit(p / CAP, "status: ended", "status: in force"),
}
ASIDE: dict[str, Callable[[Path], None]] = {  # edits that change what other pages or files read of the record
    "its title": lambda p: edit(p / BETA, "title: Beta Batteries", "title: Beta Cells"),
    "its summary (the feed)": lambda p: edit(p / ALPHA, "summary: A carmaker", "summary: A large carmaker"),
    "a reference field (backlinks)": lambda p: edit(p / ALPHA, "{partner: beta,", "{partner: alpha,"),
    "a source cited (the bibliography)": lambda p: edit(p / BETA, "sources: [src-two]\n", "sources: [src-two, src-one]\n"),
    "the field its index sorts by": lambda p: edit(p / CAP, "value: 2018-07-28", "value: 2019-07-28"),
    "a new record": lambda p: (p / "content/companies/gamma.yaml").write_text("title: Gamma\nkind: new\nsources: [src-one]\n"),
    "a fact and a template": lambda p: (
        edit(p / BETA, "kind: battery maker", "kind: cell maker"),
        edit(p / "templates/record.html", "<h1>{{ title }}</h1>", "<h1 class='r'>{{ title }}</h1>"),
    ),
}


@pytest.mark.parametrize("name", [*(f"quick: {k}" for k in QUICK), *(f"aside: {k}" for k in ASIDE)])
def test_a_fresh_build_after_a_record_edit_equals_a_cold_build(project: Path, tmp_path: Path, name: str) -> None:
    out = project / "_site"
    assert not build(project, out, search=False).quick
    before = read_tree(out)
    kind, _, what = name.partition(": ")
    (QUICK if kind == "quick" else ASIDE)[what](project)
    again = build(project, out, search=False)
    after = read_tree(out)
    assert after != before, name  # the edit shows
    assert (again.quick == "records") == (kind == "quick"), name
    assert after == cold_build(project, tmp_path), name
    if kind == "quick":  # its pages and its index pages, its JSON, its collection's JSON and CSV, the dataset
        changed = {f for f in after if after[f] != before.get(f)} - {MARKER}
        assert changed <= {f for f in after if f.startswith(("companies/", "rules/", "policies/", "data/"))}, changed


def test_only_the_edited_records_files_change(project: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    before = read_tree(out)
    edit(project / BETA, "kind: battery maker", "kind: cell maker")
    again = build(project, out, search=False)
    assert again.quick == "records" and again.rendered == 2  # beta's page and the index page that lists it
    changed = sorted(f for f, data in read_tree(out).items() if before.get(f) != data)
    assert changed == [
        MARKER,  # the build's key
        "companies/beta/index.html",
        "companies/beta/index.json",
        "companies/index.csv",
        "companies/index.html",
        "companies/index.json",
        "data/dataset.json",
    ]


def test_a_fact_outside_the_index_columns_leaves_the_index_page_alone(project: Path, tmp_path: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    before = read_tree(out)
    edit(project / ALPHA, "value: 83000", "value: 84000")  # employees: not one of the index's columns
    again = build(project, out, search=False)
    assert again.quick == "records" and again.rendered == 1  # alpha's page alone
    after = read_tree(out)
    assert sorted(f for f, data in after.items() if before.get(f) != data) == [
        MARKER,
        "companies/alpha/index.html",
        "companies/alpha/index.json",
        "companies/index.csv",
        "companies/index.json",
        "data/dataset.json",
    ]
    assert after == cold_build(project, tmp_path)


def test_an_index_page_made_again_shows_the_rows_of_records_edited_before(project: Path, tmp_path: Path) -> None:
    """Alpha's row changes in one quick build; beta's, on the same index page, in the next: the page is made again
    from alpha's files as they are now, not from the parsed cache or the snapshot."""
    out = project / "_site"
    build(project, out, search=False)
    edit(project / ALPHA, "kind: carmaker", "kind: automaker")
    assert build(project, out, search=False).quick == "records"
    edit(project / BETA, "kind: battery maker", "kind: cell maker")
    assert build(project, out, search=False).quick == "records"
    index = (out / "companies/index.html").read_bytes()
    assert b"automaker" in index and b"cell maker" in index
    assert read_tree(out) == cold_build(project, tmp_path)


def test_edits_chain_through_both_quick_paths_and_back(project: Path, tmp_path: Path) -> None:
    """A fact edit, a prose edit, another fact edit, then the first fact edited back: each quick, each a cold build's
    output; the last is back to the first build's pages (made again, though its files are as they were)."""
    out = project / "_site"
    build(project, out, search=False)
    first = read_tree(out)
    steps = [
        ("records", lambda: edit(project / BETA, "kind: battery maker", "kind: cell maker")),
        ("prose", lambda: edit(project / "content/companies/beta.md", "Beta supplies", "Beta now supplies")),
        ("records", lambda: edit(project / ALPHA, "value: 83000", "value: 84000")),
        ("records", lambda: edit(project / BETA, "kind: cell maker", "kind: battery maker")),
        ("prose", lambda: edit(project / "content/companies/beta.md", "Beta now supplies", "Beta supplies")),
        ("records", lambda: edit(project / ALPHA, "value: 84000", "value: 83000")),
    ]
    for n, (path, step) in enumerate(steps):
        step()
        assert build(project, out, search=False).quick == path, n
        assert read_tree(out) == cold_build(project, tmp_path), n
    assert read_tree(out) == first


def test_the_snapshot_is_what_a_quick_build_reads(project: Path) -> None:
    """Proof that the rest of the site is taken from the snapshot, not worked out again: a title planted there for
    alpha shows on beta's page, which links to alpha, after an edit to beta alone."""
    out = project / "_site"
    build(project, out, search=False)
    path = project / CACHE_DIR / SNAPSHOT
    sections = [bytes(b) for b in read_blobs(path, FORMAT)]
    where = SECTIONS.index("targets")
    targets = marshal.loads(sections[where])
    path_of_alpha, _ = marshal.loads(targets["companies/alpha"])
    targets["companies/alpha"] = marshal.dumps((path_of_alpha, "Planted Alpha"))
    sections[where] = marshal.dumps(targets)
    path.write_bytes(b"".join(map(framed, [marshal.dumps(FORMAT), *sections])))
    edit(project / BETA, "kind: battery maker", "kind: cell maker")
    assert build(project, out, search=False).quick == "records"
    assert b"Planted Alpha" in (out / "companies/beta/index.html").read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not marshal",
        framed(marshal.dumps(FORMAT)),
        framed(marshal.dumps(FORMAT)) + (10).to_bytes(8, "little") + b"cut short",
        framed(marshal.dumps(FORMAT)) + framed(marshal.dumps("another build")),
        framed(marshal.dumps(FORMAT - 1)) + b"rest",
    ],
)
def test_a_missing_wrong_or_foreign_snapshot_means_a_full_build(project: Path, tmp_path: Path, damage: bytes) -> None:
    out = project / "_site"
    build(project, out, search=False)
    (project / CACHE_DIR / SNAPSHOT).write_bytes(damage)
    edit(project / BETA, "kind: battery maker", "kind: cell maker")
    assert not build(project, out, search=False).quick
    assert read_tree(out) == cold_build(project, tmp_path)


def test_a_download_changed_by_hand_means_a_full_build(project: Path, tmp_path: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    own = out / "companies/beta/index.json"
    own.write_bytes(own.read_bytes().replace(b"battery maker", b"battery-maker"))
    edit(project / BETA, "kind: battery maker", "kind: cell maker")
    assert not build(project, out, search=False).quick
    assert read_tree(out) == cold_build(project, tmp_path)


def test_a_bad_edit_is_reported_by_the_full_build_and_the_output_stays(project: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    before = read_tree(out)
    edit(project / BETA, "kind: battery maker", "kind: [not, a, string]")
    with pytest.raises(BuildFailed) as failed:
        build(project, out, search=False)
    assert any(e.path == BETA for e in failed.value.errors)
    assert read_tree(out) == before


def test_no_snapshot_with_a_search_index_or_in_several_languages(project: Path) -> None:
    """Pagefind indexes every page; a second edition reads each record's facts too: both are the full build's."""
    out = project / "_site"
    build(project, out, search=False)
    assert (project / CACHE_DIR / SNAPSHOT).is_file()
    (project / CACHE_DIR / SNAPSHOT).unlink()
    build(project, out, search=True)
    assert not (project / CACHE_DIR / SNAPSHOT).is_file()
    from .test_languages import _french

    _french(project)
    build(project, out, search=False)
    assert not (project / CACHE_DIR / SNAPSHOT).is_file()
    edit(project / BETA, "kind: battery maker", "kind: cell maker")
    assert build(project, out, search=False).quick != "records"


def test_a_damaged_source_entry_in_the_parsed_cache_sends_a_fact_edit_to_the_full_build(project: Path, tmp_path: Path) -> None:
    """The quick path reads a source's cached entry only when a page cites it; an entry that is not a mapping is
    found then, and the build steps aside for the full one, which parses sources.yaml again."""
    out = project / "_site"
    build(project, out, search=False)
    path = project / CACHE_DIR / PARSED_DATA
    version, entries = marshal.loads(path.read_bytes())
    damaged = 0
    for key, entry in entries.items():
        ids, ranks, values = marshal.loads(entry) if key.startswith("items:") else ([], [], [])
        if "src-two" in ids:  # sources.yaml's entries: read only when a page cites them
            entries[key], damaged = marshal.dumps((ids, ranks, [marshal.dumps([7]) for _ in values])), damaged + 1
    assert damaged == 1
    path.write_bytes(marshal.dumps((version, entries)))
    edit(project / BETA, "kind: battery maker", "kind: cell maker")  # beta cites src-two
    assert build(project, out, search=False).quick == ""
    assert read_tree(out) == cold_build(project, tmp_path)
