"""Nothing lost: a build killed at any moment, or one that cannot write (no permission, full disk), leaves the output
folder as exactly the previous complete site or the new complete site, and the next build cleans up after it.

A build with a search index swaps a complete new folder in: the output is one site or the other at every moment. A
build without one writes only what changed, through a journal: the output is one site or the other once the next
build has started (`output.recover`, its first step, finishes or undoes what the killed one left)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from site_builder.build import build
from site_builder.output import recover

from .conftest import REPO, make_project, read_tree, run_cli

RECORDS = 300  # enough pages that writing the site takes about a second
ITERATIONS = int(os.environ.get("SITE_BUILDER_KILL_ITERATIONS", "16"))


def generate(project: Path, variant: str) -> Path:
    """The fixture site plus RECORDS generated companies; variants differ in every page and in 20 file names."""
    site = project / "content/site.yaml"
    site.write_text(site.read_text().replace("title: Fixture explainer", f"title: Fixture explainer {variant}", 1))
    for i in range(RECORDS):
        slug = f"c{i:03d}" if i < RECORDS - 20 or variant == "A" else f"d{i:03d}"
        (project / f"content/companies/{slug}.yaml").write_text(
            f"title: Company {i} {variant}\nkind: carmaker\nfounded: {1950 + i % 70}\nsources: [src-one]\n"
        )
        (project / f"content/companies/{slug}.md").write_text(
            f"## History\n\nCompany {i} works with [[companies/alpha]] [@src-one].\n\n" + "Words about it. " * 40 + "\n"
        )
    return project


ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def start_build(project: Path, out: Path, *options: str) -> subprocess.Popen[bytes]:
    """`python -m site_builder build` in its own session, so that a kill reaches its workers and pagefind too."""
    return subprocess.Popen(
        [sys.executable, "-m", "site_builder", "build", "--content", str(project / "content"), "--out", str(out), *options],
        cwd=project.parent,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def staging(out: Path) -> list[Path]:
    """What a build writes beside the output while it runs: a staging folder, a replaced site, or a journal."""
    return sorted(out.parent.glob(f".{out.name}.new-*")) + sorted(out.parent.glob(f".{out.name}.old-*")) + journal(out)


def journal(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.journal"))


def difference(got: dict[str, bytes], want: dict[str, bytes]) -> str:
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    changed = sorted(n for n in set(got) & set(want) if got[n] != want[n])
    return f"{len(missing)} missing {missing[:3]}, {len(extra)} extra {extra[:3]}, {len(changed)} changed {changed[:3]}"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Projects A and B and their complete reference sites, built beforehand into folders of their own."""
    root = tmp_path_factory.mktemp("crash")
    found: dict[str, Any] = {"root": root}
    for variant in ("A", "B", "A1"):
        project = generate(make_project(root / variant), variant[0])
        if variant == "A1":  # one edit of A: a sentence added to one record's prose, and one of its facts changed
            md, facts = project / "content/companies/c150.md", project / "content/companies/c150.yaml"
            md.write_text(md.read_text() + "\nOne more sentence.\n")
            facts.write_text(facts.read_text().replace("kind: carmaker", "kind: supplier"))
        for suffix, options in (("", ()), ("-no-search", ("--no-search",))):
            ref = root / f"ref-{variant}{suffix}"
            proc = run_cli("build", "--content", str(project / "content"), "--out", str(ref), *options, cwd=root)
            assert proc.returncode == 0, proc.stderr
            found[f"ref-{variant}{suffix}"] = read_tree(ref)
        found[variant] = project
    a, b = found["ref-A"], found["ref-B"]
    assert set(a) != set(b) and all(a[n] != b[n] for n in set(a) & set(b) if n.endswith(".html"))
    one = {n for n in found["ref-A-no-search"] if found["ref-A-no-search"][n] != found["ref-A1-no-search"].get(n)}
    assert 2 <= len(one - {".site-builder"}) <= 8, one  # the page, its index, its downloads: a one-edit build
    return found


def timed_build(project: Path, out: Path, *options: str) -> tuple[float, float, float]:
    """Run one build to the end; when (seconds from start) the staging folder appeared and went, and the total."""
    started = time.perf_counter()
    proc = start_build(project, out, *options)
    appeared = gone = 0.0
    while proc.poll() is None:
        now = time.perf_counter() - started
        if staging(out):
            appeared = appeared or now
        elif appeared and not gone:
            gone = now
        time.sleep(0.002)
    total = time.perf_counter() - started
    assert proc.returncode == 0
    return appeared, gone or total, total


@pytest.mark.parametrize("search", [True, False], ids=["swap", "journal"])
def test_killed_builds_leave_a_complete_site(sites: dict[str, Any], capsys: pytest.CaptureFixture[str], search: bool) -> None:
    root: Path = sites["root"]
    out = root / f"site-{search}"
    options = () if search else ("--no-search",)
    seed = int(os.environ.get("SITE_BUILDER_KILL_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    refs = {v: sites[f"ref-{v}" + ("" if search else "-no-search")] for v in ("A", "B")}
    assert run_cli("build", "--content", str(sites["A"] / "content"), "--out", str(out), *options, cwd=root).returncode == 0
    assert read_tree(out) == refs["A"]
    appeared, gone, total = timed_build(sites["B"], out, *options)  # also the first switch: now B
    assert read_tree(out) == refs["B"]
    assert search or not list(root.glob(f".{out.name}.new-*")), "a build without search wrote through the journal"
    assert read_tree(out) == refs["B"]
    current = "B"
    outcomes: Counter[str] = Counter()
    log = []
    for i in range(ITERATIONS):
        target = "A" if current == "B" else "B"
        # Every other kill lands while the staging folder exists (the write phase); the others anywhere.
        delay = rng.uniform(0, total) if i % 2 == 0 else rng.uniform(appeared, gone)
        proc = start_build(sites[target], out, *options)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        left = staging(out)
        if search:
            assert read_tree(out) in (refs[target], refs[current]), f"iteration {i}: a swapped site is whole at any moment"
        recover(out)  # what the next build does first
        state = read_tree(out)
        if state == refs[target]:
            outcome, current = "new site", target
        elif state == refs[current]:
            outcome = "previous site"
        else:
            raise AssertionError(
                f"iteration {i} (seed {seed}, kill after {delay:.3f} s): the output is neither site: "
                f"against {current}: {difference(state, refs[current])}; against {target}: {difference(state, refs[target])}"
            )
        phase = "finished" if finished else ("killed mid-write" if left else "killed")
        outcomes[f"{phase}, {outcome}"] += 1
        log.append(f"{i}: {target} after {delay:.3f} s: {phase}, {outcome}, {len(left)} staging folder(s) left")
    with capsys.disabled():
        print(f"\nkill loop (seed {seed}, build {total:.2f} s, writing {appeared:.2f}–{gone:.2f} s): {dict(outcomes)}")
    assert sum(n for k, n in outcomes.items() if k.startswith("killed mid-write")) >= 3, log
    # A normal build afterwards succeeds, gives the complete site and removes what the killed builds left.
    target = "A" if current == "B" else "B"
    proc = run_cli("build", "--content", str(sites[target] / "content"), "--out", str(out), *options, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert read_tree(out) == refs[target]
    assert staging(out) == [], "leftover staging folders"


def _build_and_die(project: Path, out: Path, step: int) -> None:
    """In a forked child: a one-edit build (no search index) that SIGKILLs itself at its `step`-th file operation
    (each write into the journal, rename or deletion): a kill at exactly that point, without timing luck."""
    count = itertools.count()
    real = {name: getattr(os, name) for name in ("replace", "unlink", "rmdir")}
    real_open = open

    def die_at_step() -> None:
        if next(count) == step:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(name: str) -> Any:
        def op(*args: Any, **kwargs: Any) -> Any:
            die_at_step()
            return real[name](*args, **kwargs)

        return op

    for name in real:
        setattr(os, name, wrap(name))

    def opening(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and ".journal" in str(file):
            die_at_step()
        return real_open(file, mode, *args, **kwargs)

    import builtins

    builtins.open = opening
    build(project, out, strict=False, workers=1, search=False, content_dir=project / "content")
    os._exit(0)


def test_a_one_edit_build_killed_at_every_step_is_finished_or_undone(
    sites: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kill a one-edit build at each of its file operations in turn; after the next start the output is A or A1."""
    out = tmp_path / "site"
    refs = {"A": sites["ref-A-no-search"], "A1": sites["ref-A1-no-search"]}
    fork = multiprocessing.get_context("fork")
    outcomes: Counter[str] = Counter()
    for step in range(200):
        build(sites["A"], out, search=False, workers=1, content_dir=sites["A"] / "content")  # back to A
        assert read_tree(out) == refs["A"]
        child = fork.Process(target=_build_and_die, args=(sites["A1"], out, step))
        child.start()
        child.join()
        left = bool(journal(out))
        recover(out)  # what the next build does first
        state = read_tree(out)
        assert state in (refs["A"], refs["A1"]), f"killed at step {step}: {difference(state, refs['A1'])}"
        outcomes[
            f"{'finished' if child.exitcode == 0 else 'killed'}{', journal left' if left else ''}, "
            f"{'new' if state == refs['A1'] else 'old'} site"
        ] += 1
        if child.exitcode == 0:
            break
    assert child.exitcode == 0, "the build never finished"
    with capsys.disabled():
        print(f"\none-edit build killed at each of {step} steps: {dict(outcomes)}")
    assert outcomes["killed, journal left, old site"] >= 2, outcomes  # killed while writing the journal: undone
    assert outcomes["killed, journal left, new site"] >= 3, outcomes  # killed after its commit: finished
    assert journal(out) == []


QUICK_EDITS = {  # quick path -> the file edited, and how
    "prose": ("content/companies/beta.md", b"Beta supplies", b"Beta now supplies"),
    "records": ("content/companies/beta.yaml", b"kind: battery maker", b"kind: cell maker"),
}


@pytest.mark.parametrize("path", list(QUICK_EDITS))
def test_a_quick_build_killed_at_every_step_leaves_a_site_and_a_cache_the_next_build_can_trust(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    """A quick path (splice.py, record_edits.py) writes the pages through the journal, then the cache's pages and
    notes: killed at each of those steps, the output is the old site or the new one, and the next build makes the
    new one exactly."""
    name, old, new = QUICK_EDITS[path]
    out, md = tmp_path / "site", project / name
    texts = {"A": md.read_bytes(), "A1": md.read_bytes().replace(old, new)}
    refs = {}
    for name, text in texts.items():
        md.write_bytes(text)
        cold = tmp_path / f"cold-{name}"
        shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", ".site-builder-cache"))
        build(cold, cold / "_site", search=False, workers=1)
        refs[name] = read_tree(cold / "_site")
    md.write_bytes(texts["A"])
    build(project, out, search=False, workers=1)
    md.write_bytes(texts["A1"])
    assert build(project, out, search=False, workers=1).quick == path  # the edit the children make takes it
    fork = multiprocessing.get_context("fork")
    outcomes: Counter[str] = Counter()
    for step in range(100):
        md.write_bytes(texts["A"])
        build(project, out, search=False, workers=1)
        assert read_tree(out) == refs["A"]
        md.write_bytes(texts["A1"])
        child = fork.Process(target=_build_and_die, args=(project, out, step))
        child.start()
        child.join()
        recover(out)
        state = read_tree(out)
        assert state in (refs["A"], refs["A1"]), f"killed at step {step}: {difference(state, refs['A1'])}"
        outcomes[f"{'finished' if child.exitcode == 0 else 'killed'}, {'new' if state == refs['A1'] else 'old'} site"] += 1
        build(project, out, search=False, workers=1)  # whatever the kill left in the cache
        assert read_tree(out) == refs["A1"], f"the build after a kill at step {step}"
        if child.exitcode == 0:
            break
    assert child.exitcode == 0, "the build never finished"
    with capsys.disabled():
        print(f"\nquick build ({path}) killed at each of {step} steps: {dict(outcomes)}")
    assert outcomes["killed, old site"] >= 1 and outcomes["killed, new site"] >= 2, outcomes


def test_unchanged_rebuild_after_a_kill_is_complete(sites: dict[str, Any], tmp_path: Path) -> None:
    """Killed mid-write, then the same content again: the build must not take the half-written attempt's cache for a
    finished site (the cache key is only trusted together with the marker of a swapped-in site)."""
    out = tmp_path / "site"
    assert run_cli("build", "--content", str(sites["A"] / "content"), "--out", str(out), cwd=tmp_path).returncode == 0
    appeared, gone, _ = timed_build(sites["B"], tmp_path / "probe")
    proc = start_build(sites["B"], out)
    time.sleep((appeared + gone) / 2)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert read_tree(out) in (sites["ref-A"], sites["ref-B"])
    proc2 = run_cli("build", "--content", str(sites["B"] / "content"), "--out", str(out), cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr
    assert read_tree(out) == sites["ref-B"]
    assert staging(out) == []


# --- Cannot write: no permission, a file in the way, a full disk -----------------------------------------------------


def changed_project(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A project built once into out/, then edited so that the next build has to write."""
    project = make_project(tmp_path / "project")
    out = tmp_path / "locked" / "_site"
    proc = run_cli("build", "--out", str(out), cwd=project)
    assert proc.returncode == 0, proc.stderr
    site = project / "content/site.yaml"
    site.write_text(site.read_text().replace("title: Fixture explainer", "title: Fixture explainer, edited", 1))
    return project, out, read_tree(out)


def assert_reported(proc: subprocess.CompletedProcess[str], out: Path, why: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr[-500:]
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == "Build failed: 1 error", proc.stderr
    assert lines[0].startswith(f"{out}:1:1: ") and why in lines[0], lines[0]


def test_permission_error_keeps_the_previous_site(tmp_path: Path) -> None:
    """The output's parent folder made immutable (root ignores permission bits, not chattr +i)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr not installed (e2fsprogs)")
    project, out, before = changed_project(tmp_path)
    locked = out.parent
    lock = subprocess.run(["chattr", "+i", str(locked)], capture_output=True, text=True)
    if lock.returncode != 0:
        pytest.skip(f"cannot make a folder immutable here: {lock.stderr.strip()}")
    try:
        proc = run_cli("build", "--out", str(out), cwd=project)
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert_reported(proc, out, "could not write the site: Operation not permitted")
    assert read_tree(out) == before
    assert staging(out) == []
    assert run_cli("build", "--out", str(out), cwd=project).returncode == 0  # and once writable again, it builds
    assert b"Fixture explainer, edited" in (out / "index.html").read_bytes()


@pytest.mark.parametrize("below", ["site", "deeper/site"])
def test_file_in_the_way_of_the_output_folder(project: Path, tmp_path: Path, below: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    out = blocker / below
    proc = run_cli("build", "--out", str(out), cwd=project)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr[-300:]
    assert proc.stderr.strip().splitlines()[-1] == "Build failed: 1 error"
    assert blocker.read_text() == "a file, not a folder"


def used_kib(folder: Path) -> int:
    stat = os.statvfs(folder)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize // 1024


def test_full_disk_keeps_the_previous_site(project: Path, tmp_path: Path) -> None:
    """A small tmpfs holding the site, shrunk to leave 16 KiB free: the next build runs out of space mid-write."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {mount.stderr.strip()}")
    try:
        out = disk / "_site"
        proc = run_cli("build", "--out", str(out), cwd=project)
        assert proc.returncode == 0, proc.stderr
        before = read_tree(out)
        shrink = ["mount", "-o", f"remount,size={used_kib(disk) + 16}k", str(disk)]
        subprocess.run(shrink, check=True, capture_output=True)
        site = project / "content/site.yaml"
        site.write_text(site.read_text().replace("title: Fixture explainer", "title: Fixture explainer, edited", 1))
        proc = run_cli("build", "--out", str(out), cwd=project)
        assert_reported(proc, out, "No space left on device")
        assert read_tree(out) == before
        assert staging(out) == [], "the failed attempt's staging folder still fills the disk"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
