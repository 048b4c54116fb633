"""The no-change rebuild: recognised from file stats and content hashes, never stale, safe to delete."""

from __future__ import annotations

from pathlib import Path

from site_builder.build import build
from site_builder.cache import CACHE_DIR

from .conftest import edit, read_tree, run_cli


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_nothing_changed_means_nothing_rewritten(project: Path) -> None:
    out = project / "_site"
    first = build(project, out)
    before = mtimes(out)
    second = build(project, out)
    assert not first.unchanged and second.unchanged
    assert second.pages == first.pages
    assert mtimes(out) == before


def test_cli_says_nothing_changed(project: Path) -> None:
    assert run_cli("build", cwd=project).returncode == 0
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 0 and proc.stdout.endswith("(nothing changed)\n")


def test_any_input_change_rebuilds(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    for path, old, new in [
        ("content/companies/beta.md", "Beta supplies", "Beta now supplies"),
        ("templates/page.html", "<h1>{{ title }}</h1>", "<h1 class='t'>{{ title }}</h1>"),
        ("content/schemas/company.schema.yaml", "title: Founded", "title: Year founded"),
    ]:
        edit(project / path, old, new)
        result = build(project, out)
        assert not result.unchanged, path
    with (project / "static/style.css").open("a") as css:
        css.write("/* changed */\n")
    assert not build(project, out).unchanged
    files = read_tree(out)
    assert b"Beta now supplies" in files["companies/beta/index.html"]
    assert b"<h1 class='t'>About</h1>" in files["about/index.html"]
    assert files["static/style.css"].endswith(b"/* changed */\n")
    assert b"Year founded" in files["companies/alpha/index.html"]


def test_options_are_part_of_the_key(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    assert not build(project, out, base_url="https://other.example/").unchanged
    assert b"https://other.example/" in (out / "sitemap.xml").read_bytes()
    assert not build(project, out, strict=True).unchanged


def test_touch_without_change_is_still_unchanged(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    path = project / "content/companies/beta.md"
    path.write_bytes(path.read_bytes())  # new mtime, same bytes
    assert build(project, out).unchanged


def test_cache_folder_is_safe_to_delete_or_corrupt(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    (project / CACHE_DIR / "manifest.json").write_text("{not json")
    assert build(project, out).unchanged
    import shutil

    shutil.rmtree(project / CACHE_DIR)
    edit(project / "content/companies/beta.md", "Beta supplies", "Beta still supplies")
    assert not build(project, out).unchanged
    assert b"Beta still supplies" in (out / "companies/beta/index.html").read_bytes()


def test_warnings_are_repeated_when_nothing_changed(project: Path) -> None:
    with (project / "content/sources.yaml").open("a") as f:
        f.write("- id: unused\n  title: Nobody cites me\n")
    out = project / "_site"
    first = build(project, out)
    second = build(project, out)
    assert second.unchanged and [str(w) for w in second.warnings] == [str(w) for w in first.warnings] != []
