"""`--out` safety through the real command line: a dangerous folder is refused with a message, exit 1, and
nothing is deleted or left beside it. (tests/test_build.py checks some of these places in-process; here every
one goes through `python -m site_builder build`, plus the places it does not cover.)"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from site_builder.output import MARKER

from .conftest import make_project, run_cli


def listing(folder: Path, deep: bool = True) -> list[str]:
    """What a folder holds: recursively with file sizes, or only the names at its top level (for / and the
    home folder, where other programs may be writing to their own files meanwhile). Enough to see a deletion."""
    if not folder.is_dir():
        return []
    if not deep:
        return sorted(p.name for p in folder.iterdir())
    return sorted(f"{p.relative_to(folder)}:{p.lstat().st_size if p.is_file() else 'dir'}" for p in folder.rglob("*"))


def refused(project: Path, out: str | Path, *watch: Path, deep: bool = True, cwd: Path | None = None) -> str:
    """Build into `out`; assert it is refused and that `watch` folders (and their parents) did not change."""
    places = [p for w in watch for p in (w, w.parent)]
    before = [listing(p, deep and p in watch) for p in places]
    proc = run_cli("build", "--content", str(project / "content"), "--out", str(out), cwd=cwd or project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "refusing to write the site here" in proc.stderr, proc.stderr
    assert lines[-1] == "Build failed: 1 error", proc.stderr
    assert re.match(r"^[^\n]+:\d+:\d+: refusing to write the site here: .+ — choose another --out folder$", lines[0]), lines[0]
    assert proc.stdout == ""
    assert [listing(p, deep and p in watch) for p in places] == before, "something was deleted or added"
    return lines[0]


def test_root(project: Path) -> None:
    refused(project, "/", Path("/"), deep=False)


def test_home_folder(project: Path) -> None:
    refused(project, Path.home(), Path.home(), deep=False)


def test_home_folder_from_environment(project: Path, tmp_path: Path) -> None:
    """The home folder is the one HOME names: a fake home with a file in it stays as it was."""
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "todo.txt").write_text("keep me")
    before = listing(home)
    proc = run_cli("build", "--content", str(project / "content"), "--out", str(home), cwd=project, env={"HOME": str(home)})
    assert proc.returncode == 1 and "refusing to write the site here" in proc.stderr, proc.stderr
    assert listing(home) == before


@pytest.mark.parametrize("where", [".", "content", "templates", "static", "content/companies", "static/"])
def test_project_and_its_sources(project: Path, where: str) -> None:
    refused(project, where, project / where)


def test_empty_out_means_the_current_folder(project: Path) -> None:
    refused(project, "", project)


@pytest.mark.parametrize("levels", [1, 2])
def test_folders_holding_the_project(tmp_path: Path, levels: int) -> None:
    project = make_project(tmp_path / "outer" / "inner" / "project")
    (tmp_path / "outer" / "notes.txt").write_text("keep")
    target = project.parents[levels - 1]
    message = refused(project, target, target)
    assert "or contains" in message


def test_parent_with_a_marker_is_still_refused(project: Path) -> None:
    """A stray marker in a folder that holds the project must not make it replaceable."""
    (project.parent / MARKER).write_text("{}")
    refused(project, project.parent, project.parent, deep=False)
    assert (project / "content" / "site.yaml").is_file()


def test_git_folder(project: Path) -> None:
    (project / ".git" / "refs").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    refused(project, project / ".git", project / ".git")


def test_relative_out_from_another_folder(project: Path, tmp_path: Path) -> None:
    """--out is relative to where the command runs: '../project' from a sibling folder is the project."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused(project, "../project", project, cwd=elsewhere)


def test_folder_holding_other_files(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "mine"
    (other / "deep").mkdir(parents=True)
    (other / "deep" / "thesis.tex").write_text("years of work")
    (other / "index.html").write_text("<p>my own page</p>")
    message = refused(project, other, other)
    assert "other files" in message


def test_folder_holding_only_hidden_files(project: Path, tmp_path: Path) -> None:
    """A gh-pages worktree or a folder with only dotfiles is someone's too."""
    other = tmp_path / "worktree"
    (other / ".git").mkdir(parents=True)
    (other / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    refused(project, other, other)


def test_existing_file(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    message = refused(project, target, tmp_path)
    assert "it is a file" in message and target.read_text() == "keep"


@pytest.mark.parametrize("link_to", ["empty", "site", "project", "content", "dangling"])
def test_out_is_a_symlink(project: Path, tmp_path: Path, link_to: str) -> None:
    """A symlinked --out is refused whatever it points at: an empty folder, a real site, the project."""
    site = tmp_path / "real-site"
    assert run_cli("build", "--out", str(site), cwd=project).returncode == 0
    targets = {
        "empty": tmp_path / "empty",
        "site": site,
        "project": project,
        "content": project / "content",
        "dangling": tmp_path / "missing",
    }
    (tmp_path / "empty").mkdir()
    link = tmp_path / "link"
    link.symlink_to(targets[link_to], target_is_directory=True)
    watched = [site, project] + ([targets[link_to]] if targets[link_to].exists() else [])
    message = refused(project, link, *watched)
    assert "symbolic link" in message
    assert link.is_symlink()


def test_out_below_a_symlinked_folder(project: Path, tmp_path: Path) -> None:
    """--out some/link/_site where link → the project: the site would land inside the project."""
    link = tmp_path / "link"
    link.symlink_to(project, target_is_directory=True)
    refused(project, link / "_site", project)
    assert not (project / "_site").exists()


def test_symlinked_parent_of_a_real_site(project: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    assert run_cli("build", "--out", str(real / "_site"), cwd=project).returncode == 0
    link = tmp_path / "via"
    link.symlink_to(real, target_is_directory=True)
    message = refused(project, link / "_site", real / "_site")
    assert "symbolic link" in message


# Positive controls: the refusals above are not a build that refuses everything.


def test_fresh_and_own_folders_are_accepted(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "deeper" / "_site", empty, empty):  # the last one: a rebuild over its own site
        proc = run_cli("build", "--out", str(out), cwd=project)
        assert proc.returncode == 0, proc.stderr
        assert (out / MARKER).is_file() and (out / "index.html").is_file()


def test_outside_cwd_with_content_option(tmp_path: Path) -> None:
    """--content from another folder: the project is content's parent; --out . there is refused, elsewhere fine."""
    project = make_project(tmp_path / "p")
    cwd = tmp_path / "work"
    cwd.mkdir()
    proc = run_cli("build", "--content", str(project / "content"), "--out", "site", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert (cwd / "site" / "index.html").is_file()
    refused(project, str(project), project)
    assert sorted(os.listdir(cwd)) == ["site"]


def test_a_file_list_planted_in_the_marker_never_deletes_outside_the_site(project: Path) -> None:
    """The marker lists the site's files, and a build deletes those it no longer makes. Names planted there that
    lead out of the output folder are never deleted, whichever way the next build writes: the quick path of a
    fact edit, a full build through the journal, a full build with a search index (a new folder, swapped in)."""
    victim = project / "keep-me.txt"
    victim.write_text("mine")
    out = project / "_site"
    beta = project / "content/companies/beta.yaml"
    edits = [("kind: battery maker", "kind: cell maker"), ("title: Beta Batteries", "title: Beta Cells"), ("Cells", "Power")]
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    for flags, (old, new) in zip((["--no-search"], ["--no-search"], []), edits, strict=True):
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
        marker["files"] += ["../keep-me.txt", str(victim), "a/../../keep-me.txt"]
        (out / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        beta.write_text(beta.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
        proc = run_cli("build", *flags, cwd=project)
        assert proc.returncode == 0, proc.stderr
        assert victim.read_text() == "mine", flags
