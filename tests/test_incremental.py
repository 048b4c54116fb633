"""Incremental builds: after any edit, byte-identical to a cold build; only affected pages are rendered."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build import build

from .conftest import edit, read_tree


def rename(project: Path) -> None:
    for ext in ("yaml", "md"):
        (project / f"content/companies/beta.{ext}").rename(project / f"content/companies/beta-co.{ext}")
    for path, old, new in [
        ("content/companies/alpha.yaml", "partner: beta", "partner: beta-co"),
        ("content/companies/alpha.md", "[[companies/beta]]", "[[companies/beta-co]]"),
        ("content/companies/alpha.md", "[[companies/beta#history]]", "[[companies/beta-co#history]]"),
        ("content/policies/cap.yaml", "companies/beta]", "companies/beta-co]"),
        ("content/timeline.yaml", "[[companies/beta]]", "[[companies/beta-co]]"),
    ]:
        edit(project / path, old, new)


def delete_policy(project: Path) -> None:
    (project / "content/policies/cap.yaml").unlink()
    edit(project / "content/companies/alpha.yaml", "policies: [cap]", "policies: []")
    edit(project / "content/companies/alpha.md", "[[policies/cap|the ownership cap]]", "the ownership cap")
    edit(project / "content/timeline.yaml", "links: [policies/cap]", "links: []")


EDITS: dict[str, Callable[[Path], None]] = {
    "record text": lambda p: edit(p / "content/companies/beta.md", "Beta supplies", "Beta now supplies"),
    "record fact": lambda p: edit(p / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker"),
    "record title": lambda p: edit(p / "content/companies/beta.yaml", "title: Beta Batteries", "title: Beta Cells"),
    "template": lambda p: edit(p / "templates/record.html", "<h1>{{ title }}</h1>", "<h1 class='r'>{{ title }}</h1>"),
    "schema": lambda p: edit(p / "content/schemas/company.schema.yaml", "title: Founded", "title: Year founded"),
    "source": lambda p: edit(p / "content/sources.yaml", "title: The first source", "title: The first, renamed source"),
    "site.yaml": lambda p: edit(p / "content/site.yaml", "title: Fixture explainer", "title: Fixture explainer, revised"),
    "glossary": lambda p: edit(p / "content/glossary.yaml", "A car that runs", "A vehicle that runs"),
    "timeline": lambda p: edit(p / "content/timeline.yaml", "The cap ends for NEV makers", "The cap ends"),
    "page": lambda p: edit(p / "content/pages/about.md", "About [[home]].", "About [[home]] and [[companies/beta]]."),
    "deleted record": delete_policy,
    "renamed record": rename,
    "new record": lambda p: (p / "content/companies/gamma.yaml").write_text("title: Gamma\nkind: new\nsources: [src-one]\n"),
    # Prose edits that change what the text links to or cites: the quick prose-only rebuild must step aside.
    "record text, link removed": lambda p: edit(p / "content/companies/beta.md", "[[companies/alpha]]", "Alpha"),
    "record text, link added": lambda p: edit(p / "content/companies/beta.md", "## History", "## History\n\nSee [[home]]."),
    "record text, citation changed": lambda p: edit(p / "content/companies/beta.md", "[@src-two]", "[@src-one]"),
    "record text, links reordered": lambda p: edit(
        p / "content/companies/beta.md", "[[companies/alpha]] [@src-two]", "[@src-two] [[companies/alpha]]"
    ),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_incremental_build_equals_cold_build(project: Path, tmp_path: Path, name: str) -> None:
    out = project / "_site"
    build(project, out)
    EDITS[name](project)
    incremental = build(project, out)
    assert not incremental.unchanged
    cold_project = tmp_path / "cold"
    shutil.copytree(project, cold_project, ignore=shutil.ignore_patterns("_site", ".site-builder-cache"))
    build(cold_project, cold_project / "_site")
    assert read_tree(out) == read_tree(cold_project / "_site"), name


def test_one_record_edit_renders_only_its_pages(project: Path) -> None:
    out = project / "_site"
    first = build(project, out)
    untouched = (out / "companies/alpha/index.html").stat().st_ino
    edit(project / "content/companies/beta.md", "Beta supplies", "Beta now supplies")
    second = build(project, out)
    assert first.rendered == first.pages
    assert second.rendered == 1  # beta's page; its links and backlinks did not change
    assert (out / "companies/alpha/index.html").stat().st_ino == untouched  # kept, not rewritten
    edit(project / "content/companies/beta.yaml", "title: Beta Batteries", "title: Beta Cells")
    third = build(project, out)
    assert 1 < third.rendered < third.pages  # beta, the pages that link to it, and the indexes
    assert b"Beta Cells" in (out / "companies/alpha/index.html").read_bytes()


def test_serve_keeps_download_pieces_and_fingerprints_from_its_last_build(project: Path) -> None:
    """Proof that an in-memory build takes what did not change from the one before: alpha's download piece, planted
    with a new title, is what its collection's files show after an edit to beta; and two edits in a row each match a
    fresh build."""
    from dataclasses import replace

    from site_builder.build import build_files
    from site_builder.serve import scan
    from site_builder.tree import read_tree as read_project
    from site_builder.tree import reread

    first = build_files(read_project(project))
    assert first.state is not None and first.state.fingerprints is not None
    assert len(first.state.pieces) == 3  # alpha, beta, cap
    planted = {k: (t.replace(b"Alpha Motors", b"Alpha In Memory"), r) for k, (t, r) in first.state.pieces.items()}
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    tree = reread(first.state.tree, scan(project))
    assert tree is not None
    again = build_files(tree, previous=replace(first, state=replace(first.state, pieces=planted)))
    assert b"Alpha In Memory" in again.files["companies/index.json"] and b"cell maker" in again.files["companies/index.csv"]
    edit(project / "content/companies/beta.yaml", "kind: cell maker", "kind: pack maker")
    assert again.state is not None
    third = build_files(reread(again.state.tree, scan(project)) or read_project(project), previous=first)
    fresh = build_files(read_project(project))
    assert third.files == fresh.files and third.rendered < fresh.pages


@pytest.mark.parametrize("name", list(EDITS))
def test_in_memory_incremental_build_equals_a_fresh_one(project: Path, name: str) -> None:
    """What serve does: keep the last build in memory, re-read only the files whose stamps changed, and render
    only what changed; the files are those of a fresh build, whichever way (quick prose-only or full) it took."""
    from site_builder.build import build_files
    from site_builder.serve import scan
    from site_builder.tree import read_tree as read_project
    from site_builder.tree import reread

    first = build_files(read_project(project))
    assert first.state is not None
    EDITS[name](project)
    tree = reread(first.state.tree, scan(project)) or read_project(project, first.state.tree)
    again = build_files(tree, previous=first)
    fresh = build_files(read_project(project))
    assert again.files == fresh.files
    assert again.pages == fresh.pages and again.warnings == fresh.warnings
    assert fresh.rendered == fresh.pages
    if name == "record text":  # prose with the same links and citations: the quick path, one page
        assert again.rendered == 1
        assert again.fingerprints["companies/beta/index.html"] == ""  # the quick path's mark
    elif name.startswith("record"):  # a template or a new set of addresses touches every page
        assert 1 <= again.rendered < fresh.pages


def test_prose_edits_in_a_row_each_show_and_match_a_fresh_build(project: Path) -> None:
    """Quick rebuilds chain: each starts from the previous quick one, and a later full one still agrees."""
    from site_builder.build import build_files
    from site_builder.serve import scan
    from site_builder.tree import read_tree as read_project
    from site_builder.tree import reread

    result = build_files(read_project(project))
    for k in range(3):
        edit(project / "content/companies/beta.md", "Beta " if k == 0 else f"Beta{k - 1} ", f"Beta{k} ")
        assert result.state is not None
        result = build_files(reread(result.state.tree, scan(project)) or read_project(project), previous=result)
        assert result.rendered == 1
        assert f"Beta{k} supplies".encode() in result.files["companies/beta/index.html"]
    edit(project / "content/companies/beta.yaml", "title: Beta Batteries", "title: Beta Cells")
    assert result.state is not None
    result = build_files(read_project(project, result.state.tree), previous=result)
    assert result.files == build_files(read_project(project)).files


def test_reread_reads_only_the_saved_file_and_keeps_the_scans_stamps(project: Path) -> None:
    """What serve's watcher does with OS notifications: it keeps the stamps it last saw and looks again only at the
    path reported. The tree re-read from them takes every other file as it was, and keeps the watcher's own stamps,
    so that the next save compares each stamp with itself."""
    from site_builder.serve import _restamp, scan
    from site_builder.tree import layout, reread
    from site_builder.tree import read_tree as read_project

    first = read_project(project)
    latest = scan(project)
    same = reread(first, latest)
    assert same is not None and same.files == first.files
    assert all(same.files[k] is first.files[k] for k in first.files)
    assert all(same.stamps[k] is latest[k] for k in latest)
    saved = "content/companies/beta.md"
    edit(project / saved, "Beta ", "Beta saved ")
    latest = dict(latest)
    _restamp(layout(project), saved, latest)
    after = reread(same, latest)
    assert after is not None
    assert [k for k in after.files if after.files[k] is not same.files[k]] == [saved]
    assert b"Beta saved " in after.files[saved] and after.stamps[saved] == latest[saved]
    assert all(after.stamps[k] is latest[k] for k in latest if k != saved)


def test_a_prose_edit_that_breaks_the_page_is_reported_not_kept(project: Path) -> None:
    from site_builder.build import build_files
    from site_builder.errors import BuildFailed
    from site_builder.tree import read_tree as read_project

    first = build_files(read_project(project))
    (project / "content/companies/beta.md").write_bytes(b"Beta \xff supplies")
    with pytest.raises(BuildFailed) as failed:
        build_files(read_project(project), previous=first)
    assert [e.path for e in failed.value.errors] == ["content/companies/beta.md"]
    (project / "content/companies/beta.md").write_text("[" * 600, encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_files(read_project(project), previous=first)
    assert "content/companies/beta.md" in failed.value.report()


def test_downloads_are_written_again_only_when_what_they_read_changed(project: Path) -> None:
    out = project / "_site"
    build(project, out)

    def inodes() -> dict[str, int]:
        names = ["companies/alpha/index.json", "companies/beta/index.json", "companies/index.json", "data/dataset.json"]
        return {name: (out / name).stat().st_ino for name in names}

    before = inodes()
    edit(project / "content/companies/beta.md", "Beta supplies", "Beta now supplies")  # prose: no download reads it
    build(project, out)
    assert inodes() == before
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    build(project, out)
    after = inodes()
    assert after["companies/alpha/index.json"] == before["companies/alpha/index.json"]
    assert {n for n in after if after[n] != before[n]} == {
        "companies/beta/index.json",
        "companies/index.json",
        "data/dataset.json",
    }
    assert b"cell maker" in (out / "companies/beta/index.json").read_bytes()


@pytest.mark.parametrize("name", list(EDITS))
def test_fingerprints_kept_from_the_last_build_are_those_worked_out_afresh(project: Path, name: str) -> None:
    """A record page whose inputs are unchanged keeps its last fingerprint (cache.Fingerprints): after every kind of
    edit, the fingerprints so made equal those worked out from nothing, for every page and download."""
    from site_builder.build import resolve_references, validate
    from site_builder.fingerprint import fingerprints
    from site_builder.pages import plan_pages
    from site_builder.tree import read_tree as read_project

    def made(previous: object = None) -> object:
        tree = read_project(project)
        sites, _ = resolve_references(*validate(tree, None), strict=False)
        return fingerprints(sites, plan_pages(sites), tree, {}, previous)  # type: ignore[arg-type]

    before = made()
    EDITS[name](project)
    kept, afresh = made(before), made()
    assert kept == afresh, name
    if name == "record text":  # the proof that fingerprints are kept, not worked out again: a planted one survives
        before.files["companies/alpha/index.html"] = "planted"  # type: ignore[attr-defined]
        assert made(before).files["companies/alpha/index.html"] == "planted"  # type: ignore[attr-defined]
