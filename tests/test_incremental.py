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


@pytest.mark.parametrize("name", ["record text", "record title", "template", "renamed record"])
def test_in_memory_incremental_build_equals_a_fresh_one(project: Path, name: str) -> None:
    """What serve does: keep the last build in memory and render only what changed."""
    from site_builder.build import build_files
    from site_builder.tree import read_tree as read_project

    first = build_files(read_project(project))
    EDITS[name](project)
    again = build_files(read_project(project), previous=first)
    fresh = build_files(read_project(project))
    assert again.files == fresh.files
    assert fresh.rendered == fresh.pages
    if name.startswith("record"):  # a template or a new set of addresses touches every page
        assert again.rendered < fresh.pages
