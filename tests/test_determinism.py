"""Determinism: the same project built in other folders, with another hash seed, locale, time zone, SOURCE_DATE_EPOCH
and number of cores gives byte-identical output, down to the marker file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import make_project, read_tree, run_cli

COMMITS = [  # (date, message): the last one just before midnight UTC, already the next day in Shanghai
    ("2020-03-01T12:00:00+0000", "first"),
    ("2021-06-30T23:30:00+0000", "second"),
]


def locales() -> list[str]:
    """Two different UTF-8 locales if the machine has them (en_US.UTF-8 is not always generated), else C vs POSIX."""
    try:
        found = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout.split()
    except OSError:
        found = []
    other = [name for name in found if name.lower().replace("-", "") in ("en_us.utf8", "de_de.utf8", "tr_tr.utf8")]
    return ["C.UTF-8", other[0] if other else "POSIX"]


def git_history(project: Path) -> None:
    """The same two commits, byte for byte (same dates, same author), in every copy: page dates come from them."""
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True, env=env)
    for i, (date, message) in enumerate(COMMITS):
        if i:
            beta = project / "content/companies/beta.yaml"
            beta.write_text(beta.read_text() + "summary: Changed in the second commit.\n")
        subprocess.run(["git", *ident, "add", "-A"], cwd=project, check=True, env=env)
        dated = {**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        subprocess.run(["git", *ident, "commit", "-q", "-m", message], cwd=project, check=True, env=dated)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "LC_ALL", "LANG", "LANGUAGE", "TZ")}
    return {**env, **extra}


def build(project: Path, out: Path, cwd: Path, env: dict[str, str]) -> dict[str, bytes]:
    proc = subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--content", str(project / "content"), "--out", str(out)],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return read_tree(out)


def differences(one: dict[str, bytes], two: dict[str, bytes]) -> list[str]:
    out = [f"only in first: {n}" for n in sorted(set(one) - set(two))]
    out += [f"only in second: {n}" for n in sorted(set(two) - set(one))]
    for name in sorted(set(one) & set(two)):
        if one[name] != two[name]:
            a, b = one[name], two[name]
            at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            out.append(f"{name} differs at byte {at}: {a[max(0, at - 40) : at + 40]!r} vs {b[max(0, at - 40) : at + 40]!r}")
    return out


def test_same_bytes_anywhere_any_environment(tmp_path: Path) -> None:
    first = make_project(tmp_path / "a")
    second = make_project(tmp_path / "somewhere" / "much" / "deeper" / "with a space" / "b")
    for project in (first, second):
        git_history(project)
    one_locale, other_locale = locales()
    one = build(
        first,
        first / "_site",
        cwd=first,
        env=clean_env(PYTHONHASHSEED="0", LC_ALL=one_locale, LANG=one_locale, TZ="UTC"),
    )
    two = build(
        second,
        tmp_path / "elsewhere" / "out",
        cwd=tmp_path,
        env=clean_env(
            PYTHONHASHSEED="3141592653",
            LC_ALL=other_locale,
            LANG=other_locale,
            TZ="Asia/Shanghai",
            SOURCE_DATE_EPOCH="1700000000",
        ),
    )
    assert differences(one, two) == []
    assert b"2021-06-30" in b"".join(one.values()) or b"30 June 2021" in b"".join(one.values()), "no page date from git"


def test_same_bytes_without_git_and_with_random_hash_seeds(tmp_path: Path) -> None:
    """Outside a git checkout (no page dates), two random hash seeds and the default environment."""
    first, second = make_project(tmp_path / "x"), make_project(tmp_path / "y" / "z")
    one = build(first, first / "_site", cwd=first, env=clean_env(PYTHONHASHSEED="random"))
    two = build(second, second / "_site", cwd=second, env=clean_env(PYTHONHASHSEED="random", TZ="Pacific/Kiritimati"))
    assert differences(one, two) == []


def test_same_bytes_in_two_languages_with_the_search_index(tmp_path: Path) -> None:
    """Pagefind lists the languages of its index in the order of a hash map, new on every run: the build sorts
    them. Four builds of a site in two languages (each had a one-in-two chance of another order) are the same."""
    from .test_languages import _french

    sites = []
    for n in range(4):
        project = _french(make_project(tmp_path / f"p{n}"))
        sites.append(build(project, project / "_site", cwd=project, env=clean_env(PYTHONHASHSEED="random")))
        entry = json.loads(sites[-1]["pagefind/pagefind-entry.json"])
        assert list(entry["languages"]) == sorted(entry["languages"]) and len(entry["languages"]) == 2
    for other in sites[1:]:
        assert differences(sites[0], other) == []


def test_same_bytes_on_one_core_and_on_all(tmp_path: Path) -> None:
    """A site big enough to render in parallel: one worker and all workers give the same files."""
    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs at least two cores to compare with one")
    projects = []
    for name in ("one", "all"):
        project = make_project(tmp_path / name)
        for i in range(260):
            (project / f"content/companies/c{i:03d}.yaml").write_text(f"title: Company {i}\nkind: k{i % 7}\nsources: [src-one]\n")
            (project / f"content/companies/c{i:03d}.md").write_text(
                f"Works with [[companies/c{(i + 1) % 260:03d}]] [@src-two].\n"
            )
        projects.append(project)
    cores = sorted(os.sched_getaffinity(0))
    one_core = ["taskset", "-c", str(cores[0])] if shutil.which("taskset") else None
    if one_core is None:
        pytest.skip("taskset not installed")
    env = {**clean_env(PYTHONHASHSEED="1"), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    cmd = [sys.executable, "-m", "site_builder", "build"]
    proc = subprocess.run([*one_core, *cmd], cwd=projects[0], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    env["PYTHONHASHSEED"] = "2"
    proc = subprocess.run(cmd, cwd=projects[1], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert differences(read_tree(projects[0] / "_site"), read_tree(projects[1] / "_site")) == []


def test_rebuild_after_edit_and_undo(project: Path, tmp_path: Path) -> None:
    """Incremental rebuilds keep what did not change: edit, build, undo, build again gives the fresh build's bytes."""
    fresh = tmp_path / "fresh"
    shutil.copytree(project, fresh)
    assert run_cli("build", cwd=fresh).returncode == 0
    assert run_cli("build", cwd=project).returncode == 0
    beta = project / "content/companies/beta.yaml"
    original = beta.read_text()
    beta.write_text(original.replace("title: Beta Batteries", "title: Beta Batteries Renamed"))
    proc = run_cli("build", cwd=project, env={"PYTHONHASHSEED": "99", "TZ": "America/St_Johns"})
    assert proc.returncode == 0, proc.stderr
    assert b"Beta Batteries Renamed" in (project / "_site/companies/beta/index.html").read_bytes()
    beta.write_text(original)
    proc = run_cli("build", cwd=project, env={"PYTHONHASHSEED": "7"})
    assert proc.returncode == 0, proc.stderr
    assert differences(read_tree(fresh / "_site"), read_tree(project / "_site")) == []
