"""Save → new text visible in the browser, through the real `serve` process: median, min and max over 10 saves.

Works on a temporary copy of the project: the repo's content/ (or the test fixture, when the content does not
build right now), templates/ and static/. Opens a record's page in headless Chromium (Debian's /usr/bin/chromium),
then 10 times appends a sentence to that record's Markdown and times until the sentence is on screen.

    python benchmarks/serve_latency.py [--runs 10] [--project DIR] [--poll]

--project serves a copy of another project (a corpus from gen_corpus.py, say) instead; --poll passes `serve --poll`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from site_builder.build import Result, build_files  # noqa: E402
from site_builder.tree import read_tree  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
GOAL_MS = 300
PAINTED = """(() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return performance.timeOrigin + (paint ? paint.startTime : performance.now());
})()"""


def make_project(dest: Path, fixture: bool, other: Path | None = None) -> tuple[str, Result]:
    """Copy the real content (or, if it does not build, the fixture) with templates and static into `dest`."""
    if other is not None:
        shutil.copytree(other, dest, ignore=shutil.ignore_patterns("_site", ".site-builder-cache"))
        return str(other), build_files(read_tree(dest), workers=os.cpu_count() or 1)
    candidates = (("the site's content/", REPO / "content"), ("the test fixture", REPO / "tests/fixtures/site/content"))
    for label, content in candidates[fixture:]:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(content, dest / "content")
        for folder in ("templates", "static"):
            shutil.copytree(REPO / folder, dest / folder)
        try:
            return label, build_files(read_tree(dest))
        except Exception as exc:  # BuildFailed, or the engine mid-edit by someone else
            print(f"{label} does not build right now ({str(exc).splitlines()[0]}); trying the next", file=sys.stderr)
    raise SystemExit("neither the content nor the fixture builds")


def pick_record(project: Path, built: Result) -> tuple[Path, str]:
    """A record's Markdown file and the output page that shows its text."""
    for md in sorted((project / "content").glob("*/*.md")):
        if md.parent.name == "pages" or not md.with_suffix(".yaml").exists():
            continue
        original = md.read_text(encoding="utf-8")
        md.write_text(original + "\n\nBenchmark probe sentence.\n", encoding="utf-8")
        try:
            files = build_files(read_tree(project), previous=built).files
        finally:
            md.write_text(original, encoding="utf-8")
        shown = [k for k, v in files.items() if k.endswith("index.html") and b"Benchmark probe sentence." in v]
        mine = [k for k in shown if f"/{md.stem}/" in f"/{k}"]
        if mine or shown:
            return md, (mine or shown)[0].removesuffix("index.html")
    raise SystemExit("no record with a Markdown file")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(project: Path, port: int, *options: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "site_builder", "serve", "--port", str(port), *options],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True).start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc, lines
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("serve did not start:\n" + "".join(lines))


def measure(page: Any, md: Path, runs: int) -> list[float]:
    """Milliseconds from each save to the browser painting the page that shows it.

    The paint time is the browser's own (first contentful paint of the reloaded page, on the same clock as
    time.time()), so Playwright's polling after a navigation does not count.
    """
    original = md.read_text(encoding="utf-8")
    latencies = []
    for i in range(runs):
        sentence = f"Benchmark edit number {i} at {time.time_ns()}."
        saved = time.time() * 1000
        md.write_text(f"{original}\n\n{sentence}\n", encoding="utf-8")
        page.wait_for_function(f"document.body && document.body.innerText.includes('{sentence}')", polling=20, timeout=15_000)
        seen = time.time() * 1000
        painted = page.evaluate(PAINTED)
        latencies.append((painted if saved < painted <= seen else seen) - saved)
        page.wait_for_timeout(300)
    md.write_text(original, encoding="utf-8")
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--fixture", action="store_true", help="use the test fixture, not the site's content/")
    parser.add_argument("--project", type=Path, help="serve a copy of this project instead")
    parser.add_argument("--poll", action="store_true", help="run serve with --poll (no OS file notifications)")
    args = parser.parse_args()
    runs = args.runs
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        label, built = make_project(project, args.fixture, args.project)
        md, page_path = pick_record(project, built)
        port = free_port()
        proc, lines = start_server(project, port, *(["--poll"] if args.poll else []))
        try:
            base = re.search(r"Serving http://[^/]+(/\S*)", "".join(lines))
            url = f"http://127.0.0.1:{port}{base.group(1) if base else '/'}{page_path}"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(url)
                page.wait_for_function("window.LiveReload && window.LiveReload.connector.protocol >= 7", timeout=10_000)
                latencies = measure(page, md, runs)
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        rebuilds = [float(m) for m in re.findall(r"changed: built \d+ pages in (\d+) ms", "".join(lines))]
    print(f"site: {label}, {built.pages} pages; one full in-memory build takes {built.seconds * 1000:.0f} ms here")
    print(f"page: {url} (edits to {md.relative_to(project)})")
    if rebuilds:
        print(f"server rebuilds: median {statistics.median(rebuilds):.0f} ms, max {max(rebuilds):.0f} ms")
    median = statistics.median(latencies)
    print(
        f"save → new text painted, {runs} saves: median {median:.0f} ms, min {min(latencies):.0f} ms, max {max(latencies):.0f} ms"
    )
    print(f"goal: median ≤ {GOAL_MS} ms: {'met' if median <= GOAL_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
