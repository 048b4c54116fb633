"""`python -m site_builder serve`: build in memory, serve under the base path, rebuild and live-reload on every save.

One thread watches content/, templates/ and static/, waits for a burst of saves to settle, runs the pure
build and hands the result to the server's event loop (`preview_server.Preview.publish`). A save made while
a build runs makes that build stale: it is dropped and the next one starts at once. So rebuilds coalesce,
never queue up, and the last save is always the one the browser ends up showing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from tornado import httpserver, netutil

from .build import Result, build_files
from .errors import BuildFailed, SiteError, display_path
from .preview_server import Preview, Site, base_path, error_page, make_app
from .tree import BROKEN, FOLDERS, Layout, Stamp, layout, read_tree, relabel, reread, skipped, stamp_of
from .urls import built_base_url

if TYPE_CHECKING:
    from .changes import Notifier

SETTLE = 0.03  # a burst of saves is over when nothing changed for this long (seconds)
MAX_SETTLE = 1.0  # ...or when it has gone on this long: build anyway
MAX_STALE = 2  # builds dropped in a row because files changed under them, before one is shown anyway
SAFETY_SCAN = 2.0  # with OS notifications, still scan everything this often (seconds), in case one was missed
ALL_INTERFACES = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Outcome:
    """One build: its files, or the errors that stopped it (and a traceback, if site_builder itself crashed)."""

    files: dict[str, bytes] | None
    errors: list[SiteError]
    warnings: list[SiteError]
    pages: int
    seconds: float
    crash: str = ""
    result: Result | None = None


class Builder:
    """Builds in memory; after the first build, renders only the pages whose inputs changed."""

    def __init__(self, project: Path | Layout, base_url: str | None, content: Path | None = None) -> None:
        self.project, self.base_url = layout(project), base_url
        self.content = content  # the content folder as the user named it: errors name it so
        self.last: Result | None = None

    def __call__(self, stamps: dict[str, Stamp] | None = None) -> Outcome:
        """Build; `stamps` (from `scan`) tell which files changed since the last build, so only those are read."""
        outcome = build_site(self.project, self.base_url, self.last, stamps)
        if outcome.result is not None:
            self.last = outcome.result
        if self.content is None:
            return outcome
        return dataclasses.replace(
            outcome, errors=relabel(outcome.errors, self.content), warnings=relabel(outcome.warnings, self.content)
        )


def serve(
    project: Path,
    host: str,
    port: int,
    open_browser: bool,
    base_url: str | None,
    poll: bool = False,
    content: Path | None = None,
) -> int:
    """Build the project (its content from `content`, if given), serve until Ctrl-C, rebuild on every save; 0 when
    stopped, 1 when the port can't be used."""
    _quiet_library_logs()
    return asyncio.run(_serve(project, host, port, open_browser, base_url, poll, content))


async def _serve(
    root: Path, host: str, port: int, open_browser: bool, base_url: str | None, poll: bool, content: Path | None
) -> int:
    project = layout(root, content)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl-C arrives as KeyboardInterrupt
            loop.add_signal_handler(sig, stop.set)
    notifier = None if poll else _notifier(project)  # before the first scan: no save falls in between
    seen = scan(project)
    build = Builder(project, base_url, content)
    outcome = build()
    console = Console()
    preview = Preview(publishable(outcome, base_url, Site({})))
    console.report(outcome, [], preview.site)
    server = _listen(preview, host, port, console, _watched(content))
    if server is None:
        if notifier is not None:
            notifier.close()
        return 1

    def apply(outcome: Outcome, changed: list[str]) -> None:  # on the event loop, so requests see one site or the next
        site = publishable(outcome, base_url, preview.site)
        console.report(outcome, changed, site)
        preview.publish(site)

    watcher = Watcher(project, build, lambda *a: loop.call_soon_threadsafe(apply, *a), seen, notifier)
    watcher.start()
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(console.url(preview.site),), daemon=True).start()
    try:
        await stop.wait()
    finally:
        watcher.stop()
        if notifier is not None:
            notifier.close()
        server.stop()
        preview.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.close_all_connections(), 2)
    _say("Stopped.")
    return 0


def _notifier(project: Layout) -> Notifier | None:
    """OS file notifications for the project, or None (then the watcher polls)."""
    try:
        from . import changes
    except ImportError:  # watchdog is missing: polling works everywhere
        return None
    return changes.start(project)


def _watched(content: Path | None) -> str:
    """The folders serve watches, as the user knows them."""
    folder = "content" if content is None else content.as_posix().rstrip("/")
    return f"{folder}/, templates/ and static/ (and the theme's)"


def _listen(preview: Preview, host: str, port: int, console: Console, watched: str) -> httpserver.HTTPServer | None:
    """The HTTP server, listening; None (and why, in the terminal) when the address can't be used."""
    try:
        sockets = netutil.bind_sockets(port, host)
    except OSError as exc:
        _say(f"error: cannot listen on {host}:{port}: {exc.strerror or exc} — pass another --port", err=True)
        return None
    server = httpserver.HTTPServer(make_app(preview), max_body_size=1 << 16)
    server.add_sockets(sockets)
    console.origin = f"http://{_display_host(host)}:{sockets[0].getsockname()[1]}"
    if host in ALL_INTERFACES:
        _say(f"warning: --host {host!r} listens on all network interfaces: anyone on your network can read the preview", err=True)
    _say(f"Serving {console.url(preview.site)} (the site's base path, as on GitHub Pages)")
    _say(f"Watching {watched}. Press Ctrl-C to stop.")
    return server


def build_site(
    project: Path | Layout, base_url: str | None, previous: Result | None = None, stamps: dict[str, Stamp] | None = None
) -> Outcome:
    """One build in memory (unchanged pages taken from `previous`); failures come back as errors, never raised."""
    started = time.perf_counter()
    crash = ""
    try:
        old = previous.state.tree if previous is not None and previous.state is not None else None
        tree = (reread(old, stamps) if old and stamps else None) or read_tree(project, old)
        result = build_files(tree, base_url, previous=previous)
        return Outcome(result.files, [], result.warnings, result.pages, time.perf_counter() - started, result=result)
    except BuildFailed as exc:
        errors = exc.errors
    except SiteError as exc:
        errors = [exc]
    except OSError as exc:  # e.g. a file deleted while it was read: the next scan sees that and rebuilds
        where = display_path(Path(os.fsdecode(exc.filename)), layout(project).root) if exc.filename else "content"
        errors = [SiteError(where, f"could not read: {exc.strerror or exc}", "check that it exists and is readable")]
    except Exception as exc:  # a bug in site_builder: locate it, keep its traceback for the terminal, keep serving
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = display_path(Path(frame.filename), Path(__file__).parent.parent)
        errors = [SiteError(where, f"internal error: {type(exc).__name__}: {exc}", "a bug in site_builder", frame.lineno or 1)]
        crash = traceback.format_exc()
    return Outcome(None, errors, [], 0, time.perf_counter() - started, crash)


def publishable(outcome: Outcome, base_url: str | None, previous: Site) -> Site:
    """The site to serve after a build: its files, or the previous files behind the error page."""
    if outcome.files is None:
        return Site(previous.files, previous.base_path, error_page(BuildFailed(outcome.errors).errors))
    return Site(outcome.files, base_path(base_url or built_base_url(outcome.files)))


class Watcher(threading.Thread):
    """Watches the inputs; once a burst of saves settles, rebuilds (dropping stale builds) and publishes."""

    def __init__(
        self,
        project: Path | Layout,
        build: Callable[[dict[str, Stamp]], Outcome],
        publish: Callable[[Outcome, list[str]], object],
        seen: dict[str, Stamp],
        notifier: Notifier | None = None,
    ) -> None:
        super().__init__(name="site_builder-watcher", daemon=True)
        self.project, self.build, self.publish, self.seen = layout(project), build, publish, seen
        self.notifier = notifier  # None: poll with full scans
        self.latest = seen  # the stamps as last looked at
        self.scanned = time.monotonic()  # when the last full scan ran
        self.scan_cost = 0.0  # how long it took
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Stop after the current build, if any; its result is not published."""
        self.stopping.set()
        if self.notifier is not None:
            self.notifier.wake()
        self.join(timeout=5)

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                now = self._look()
                if now == self.seen:
                    self._pause()
                    continue
                now, outcome = self._rebuild(self._settle(now))
                if self.stopping.is_set():
                    return
                self.publish(outcome, sorted(k for k in now.keys() | self.seen.keys() if now.get(k) != self.seen.get(k)))
                self.seen = now
        except Exception:  # a bug: say so once, keep serving what was built
            print(f"error: the watcher stopped; restart serve to see new saves\n{traceback.format_exc()}", file=sys.stderr)

    def _pause(self) -> None:
        """Wait for the next look: until the OS reports a change, else a poll at most every 50 ms that spends
        at most ~2.5 % of a core on scanning."""
        interval = min(1.0, max(0.05, 40 * self.scan_cost))
        if self.notifier is not None:
            self.notifier.wait(max(SAFETY_SCAN, interval))
        else:
            self.stopping.wait(interval)

    def _look(self) -> dict[str, Stamp]:
        """The inputs' stamps now: only the paths the OS reported are looked at again; everything is scanned
        when there is no notifier, when it cannot say, and every SAFETY_SCAN seconds in case it missed one."""
        paths = self.notifier.take() if self.notifier is not None else None
        if paths is None or time.monotonic() - self.scanned > max(SAFETY_SCAN, 40 * self.scan_cost):
            started = time.monotonic()
            self.latest = scan(self.project)
            self.scanned, self.scan_cost = time.monotonic(), time.monotonic() - started
            return self.latest
        if paths:
            latest = dict(self.latest)
            for rel in paths:
                if rel.split("/", 1)[0] in FOLDERS and not any(skipped(part) for part in rel.split("/")):
                    _restamp(self.project, rel, latest)
            self.latest = latest
        return self.latest

    def _rebuild(self, state: dict[str, Stamp]) -> tuple[dict[str, Stamp], Outcome]:
        """Build until a build saw no file change from its start to its end (or MAX_STALE builds were dropped)."""
        for _ in range(MAX_STALE):
            outcome = self.build(state)
            after = self._look()
            if after == state or self.stopping.is_set():
                return state, outcome
            state = self._settle(after)
        return state, self.build(state)

    def _settle(self, state: dict[str, Stamp]) -> dict[str, Stamp]:
        """The inputs once they stopped changing for SETTLE seconds (at most MAX_SETTLE from now)."""
        deadline = time.monotonic() + MAX_SETTLE
        while not self.stopping.wait(SETTLE):
            later = self._look()
            if later == state or time.monotonic() > deadline:
                return later
            state = later
        return state


def _restamp(project: Layout, rel: str, stamps: dict[str, Stamp]) -> None:
    """Look at one file again, as `scan` would: its stamp, a broken link's, or gone."""
    path = project.locate(rel)
    try:
        st = os.stat(path)
        stamps[rel] = stamp_of(st)
    except OSError:
        if os.path.lexists(path):
            stamps[rel] = BROKEN
        else:
            stamps.pop(rel, None)


def scan(project: Path | Layout) -> dict[str, Stamp]:
    """(mtime, ctime, size, inode) of every file `read_tree` reads, by its name in the tree (a project's file
    over the theme's of the same name)."""
    stamps: dict[str, Stamp] = {}
    for name, top in layout(project).folders():
        _scan(top, name, stamps)
    return stamps


def _scan(folder: str, rel: str, stamps: dict[str, Stamp]) -> None:
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return
    for entry in entries:
        if skipped(entry.name):
            continue
        try:
            if entry.is_dir():
                if not entry.is_symlink():  # read_tree does not follow links to folders either
                    _scan(entry.path, f"{rel}/{entry.name}", stamps)
            else:
                stamps[f"{rel}/{entry.name}"] = stamp_of(entry.stat())
        except OSError:  # a broken link, or a file deleted just now
            stamps[f"{rel}/{entry.name}"] = BROKEN


class Console:
    """The terminal: one line per build, every error, warnings when they change, the URL when it moves."""

    def __init__(self) -> None:
        self.origin = ""
        self.warnings: list[str] = []
        self.base = ""

    def url(self, site: Site) -> str:
        return self.origin + quote(site.base_path)

    def report(self, outcome: Outcome, changed: list[str], site: Site) -> None:
        """Print what a build did: built N pages, or every error (and a crash's traceback)."""
        what = f"{changed[0]} changed: " if len(changed) == 1 else f"{len(changed)} files changed: " if changed else ""
        what = f"[{time.strftime('%H:%M:%S')}] {what}"
        if outcome.files is None:
            _say(f"{outcome.crash}{what}build failed; the browser shows the errors until the next good save", err=True)
            _say(BuildFailed(outcome.errors).report(), err=True)
            return
        _say(f"{what}built {outcome.pages} pages in {outcome.seconds * 1000:.0f} ms")
        warnings = [f"warning: {w}" for w in outcome.warnings]
        if warnings != self.warnings:
            self.warnings = warnings
            _say("\n".join(warnings), err=True)
        if self.origin and site.base_path != self.base:
            _say(f"The site is now at {self.url(site)}")
        self.base = site.base_path


def _say(text: str, err: bool = False) -> None:
    if text:
        print(text, file=sys.stderr if err else sys.stdout, flush=True)


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        return f"server: {record.getMessage()}" + (f" ({type(exc).__name__}: {exc})" if exc else "")


def _quiet_library_logs() -> None:
    """tornado, asyncio and livereload report problems in one line each, never with a traceback."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    for name in ("tornado", "asyncio", "livereload"):
        log = logging.getLogger(name)
        log.handlers, log.propagate = [handler], False
        log.setLevel(logging.WARNING)
