"""Where a project's files are: --content DIR is read itself, the default theme under the project's own
templates/ and static/, and `init` makes a project that builds at once."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from site_builder import theme
from site_builder.build import build
from site_builder.cli import main
from site_builder.errors import BuildFailed, SiteError
from site_builder.scaffold import init_project
from site_builder.serve import Builder, scan
from site_builder.tree import Layout, layout, read_tree, shown

from .conftest import FIXTURE, REPO, edit

STORY_TITLE = "Keepers of the Bell Rock light"


def starter(dest: Path) -> Path:
    """A project made by `init` (content/ and .gitignore, no templates/ or static/)."""
    init_project(dest)
    edit(dest / "content/home.md", "title: My explainer", f"title: {STORY_TITLE}")
    return dest


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def with_own_theme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the default theme that the engine uses instead of the real one (which tests must not edit)."""
    copy = tmp_path / "theme"
    for part in theme.PARTS:
        shutil.copytree(REPO / part, copy / part)
    monkeypatch.setattr("site_builder.tree.theme_folder", lambda: copy)
    return copy


# --- --content DIR ---


def test_content_dir_is_read_itself_not_the_content_folder_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    x = tmp_path / "x"
    shutil.copytree(starter(tmp_path / "s") / "content", x / "story")
    shutil.copytree(FIXTURE / "content", x / "content")  # an unrelated site, where the old code looked
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "build", "--content", str(x / "story"), "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert f"<title>{STORY_TITLE}" in (tmp_path / "out/index.html").read_text(encoding="utf-8")
    assert (tmp_path / "out/topics/example/index.html").is_file() and not (tmp_path / "out/companies").exists()


def test_content_dir_without_a_content_folder_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    x = tmp_path / "x"
    shutil.copytree(starter(tmp_path / "s") / "content", x / "story")
    monkeypatch.chdir(x)
    assert run(capsys, "build", "--content", "story", "--strict")[0] == 0
    assert f"<title>{STORY_TITLE}" in (x / "_site/index.html").read_text(encoding="utf-8")
    assert run(capsys, "check", "--content", "story")[1] == "Checked 8 pages: no problems\n"


def test_a_missing_content_dir_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in ("build", "check", "new"):
        argv = [command, "topics", "a"] if command == "new" else [command]
        code, _, err = run(capsys, *argv, "--content", "nope")
        assert code == 1
        assert err.splitlines() == [
            "nope: content folder not found — run from the project folder, pass --content DIR,"
            " or start a project with `site-builder init FOLDER`"
        ]


def test_errors_name_the_content_folder_the_user_gave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    x = tmp_path / "x"
    shutil.copytree(starter(tmp_path / "s") / "content", x / "story")
    with (x / "story/site.yaml").open("a", encoding="utf-8") as f:
        f.write("titel: typo\n")
    monkeypatch.chdir(x)
    for command in ("build", "check"):
        code, _, err = run(capsys, command, "--content", "story")
        assert code == 1
        assert err.splitlines()[0].startswith("story/site.yaml:"), err
        assert "content/" not in err


def test_shown_names_content_paths_after_the_folder() -> None:
    assert shown("content/site.yaml", Path("story")) == "story/site.yaml"
    assert shown("content/site.yaml", Path("/x/story/")) == "/x/story/site.yaml"
    assert shown("content/site.yaml", Path("content")) == "content/site.yaml"
    assert shown("templates/base.html", Path("story")) == "templates/base.html"


def test_serve_reports_errors_under_the_content_folder_the_user_gave(tmp_path: Path) -> None:
    x = tmp_path / "x"
    shutil.copytree(starter(tmp_path / "s") / "content", x / "story")
    with (x / "story/site.yaml").open("a", encoding="utf-8") as f:
        f.write("titel: typo\n")
    outcome = Builder(layout(x, x / "story"), None, Path("story"))()
    assert outcome.files is None
    assert [e.path for e in outcome.errors] == ["story/site.yaml"]


# --- The default theme, under the project's own files ---


def test_theme_files_are_the_top_level_templates_and_static() -> None:
    files = theme.theme_files()
    expected = {f"{part}/{p.relative_to(REPO / part).as_posix()}" for part in theme.PARTS for p in (REPO / part).rglob("*")}
    assert set(files) == {name for name in expected if (REPO / name).is_file()}
    assert files["templates/base.html"] == (REPO / "templates/base.html").read_bytes()


def test_a_project_without_templates_or_static_builds_with_the_theme(tmp_path: Path) -> None:
    project = starter(tmp_path / "p")
    assert sorted(p.name for p in project.iterdir()) == [".gitignore", "content"]
    build(project, project / "_site", strict=True)
    assert (project / "_site/static/style.css").read_bytes() == (REPO / "static/style.css").read_bytes()


def test_a_project_file_overrides_the_theme_file_of_that_name_only(tmp_path: Path) -> None:
    project = starter(tmp_path / "p")
    (project / "static").mkdir()
    (project / "static/style.css").write_text("body { color: teal }\n")
    (project / "templates").mkdir()
    page = (REPO / "templates/page.html").read_text(encoding="utf-8")
    (project / "templates/page.html").write_text(page.replace("</h1>", "</h1><p>OWN PAGE TEMPLATE</p>"), encoding="utf-8")
    tree = read_tree(project)
    assert tree.files["static/style.css"] == b"body { color: teal }\n"
    assert tree.files["templates/base.html"] == (REPO / "templates/base.html").read_bytes()
    build(project, project / "_site", strict=True)
    assert "OWN PAGE TEMPLATE" in (project / "_site/methodology/index.html").read_text(encoding="utf-8")
    assert "OWN PAGE TEMPLATE" not in (project / "_site/index.html").read_text(encoding="utf-8")


def test_a_changed_theme_file_changes_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = with_own_theme(tmp_path, monkeypatch)
    project = starter(tmp_path / "p")
    build(project, project / "_site")
    assert build(project, project / "_site").unchanged
    edit(own / "templates/page.html", "</h1>", "</h1><p>THEME EDITED</p>")
    again = build(project, project / "_site")
    assert not again.unchanged
    assert "THEME EDITED" in (project / "_site/methodology/index.html").read_text(encoding="utf-8")


def test_serve_watches_the_theme_and_the_project_over_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.changes import start

    own = with_own_theme(tmp_path, monkeypatch)
    project = starter(tmp_path / "p")
    (project / "templates").mkdir()
    (project / "templates/page.html").write_bytes((own / "templates/page.html").read_bytes())
    where = layout(project)
    assert set(scan(where)) == set(read_tree(where).files)
    assert scan(where)["templates/page.html"] == scan(Layout(where.root, where.content))["templates/page.html"]
    notifier = start(where)
    assert notifier is not None, "no OS file notifications on this machine"
    try:
        (own / "templates/home.html").write_text("changed")
        (project / "content/home.md").write_text("changed")
        deadline = time.monotonic() + 5
        seen: set[str] = set()
        while time.monotonic() < deadline and seen != {"templates/home.html", "content/home.md"}:
            notifier.wait(0.2)
            seen |= notifier.take() or set()
        assert seen == {"templates/home.html", "content/home.md"}
    finally:
        notifier.close()


# --- A template that is still missing ---


def test_a_missing_template_is_one_error_at_its_cause(tmp_path: Path) -> None:
    project = starter(tmp_path / "p")  # no templates/: every page the theme has still builds
    with (project / "content/site.yaml").open("a", encoding="utf-8") as f:
        f.write("    template: custom.html\n")
    with pytest.raises(BuildFailed) as failed:
        build(project, project / "_site")
    errors = failed.value.errors
    assert len(errors) == 1, [str(e) for e in errors]
    assert (errors[0].path, errors[0].message) == ("content/site.yaml", "template 'custom.html' not found")
    assert errors[0].hint.startswith("create templates/custom.html or ")


# --- init ---


def test_init_makes_content_and_a_gitignore_that_build_and_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init", "mystory")[0] == 0
    project = tmp_path / "mystory"
    assert sorted(p.relative_to(project).as_posix() for p in project.iterdir()) == [".gitignore", "content"]
    assert (project / ".gitignore").read_text().splitlines()[1:] == ["_site/", ".site-builder-cache/"]
    monkeypatch.chdir(project)
    code, _, err = run(capsys, "build", "--strict")
    assert code == 0 and "warning" not in err, err
    assert not (project / "_site/glossary").exists() and not (project / "_site/charts").exists()  # no data for them
    example = (project / "_site/topics/example/index.html").read_text(encoding="utf-8")
    assert 'class="mark mark-unconfirmed"' in example and "/methodology/#markers" in example  # check follows it
    assert run(capsys, "check", "--strict")[0] == 0
    assert run(capsys, "new", "topics", "second-topic")[0] == 0
    assert run(capsys, "build", "--strict")[0] == 0
    assert (project / "_site/topics/second-topic/index.html").is_file()


def test_init_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full/notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="folder is not empty"):
        init_project(tmp_path / "full")


def test_a_missing_template_names_where_site_yaml_sets_it(tmp_path: Path) -> None:
    project = starter(tmp_path / "p")
    with (project / "content/site.yaml").open("a", encoding="utf-8") as f:
        f.write("    template: custom.html\n")
    line = (project / "content/site.yaml").read_text(encoding="utf-8").count("\n")
    with pytest.raises(BuildFailed) as failed:
        build(project, project / "_site")
    assert [str(e) for e in failed.value.errors] == [
        f"content/site.yaml:{line}:15: template 'custom.html' not found — create templates/custom.html or remove 'template:'"
    ]
