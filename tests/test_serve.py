"""The live preview: path rules and reload decisions, then the real `serve` process over HTTP and in headless Chromium."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from site_builder.build import build_files
from site_builder.errors import BuildFailed, SiteError
from site_builder.preview_server import Preview, Reply, Site, error_page, request_path, with_head_end
from site_builder.serve import scan
from site_builder.tree import read_tree

from .conftest import REPO, make_project

BASE = "/fixture/"  # the fixture's base_url is https://example.github.io/fixture/
INJECTED = re.compile(rb"<script>\(function\(\)\{var port=.*?</script>")
CONNECTED = "window.LiveReload && window.LiveReload.connector && window.LiveReload.connector.protocol >= 7"


# --- Pure parts: which request paths exist, what each open tab is told after a build ---


@pytest.mark.parametrize(
    "raw",
    [
        "/..",
        "/../etc/passwd",
        "/..%2f..%2fetc/passwd",
        "/%2e%2e/",
        "/fixture/%2E%2E/x",
        "//etc/passwd",
        "/a\\b",
        "/%5c..",
        "/%00",
        "/%ff",
        "etc/passwd",
        "http://x/etc/passwd",
        "/" + "a" * 3000,
    ],
)
def test_request_path_refuses_anything_but_a_plain_path(raw: str) -> None:
    assert request_path(raw) is None


def test_request_path_decodes() -> None:
    assert request_path("/fixture/caf%C3%A9/a%20b.html") == "/fixture/café/a b.html"


def test_site_answers_like_github_pages() -> None:
    site = Site({"index.html": b"home", "a/index.html": b"a", "b.html": b"b", "404.html": b"missing", "s.css": b"x"}, "/repo/")
    assert site.reply("/") == Reply(302, location="/repo/")
    assert site.reply("/repo") == Reply(302, location="/repo/")
    assert site.reply("/repo/a", "q=1") == Reply(302, location="/repo/a/?q=1")
    assert site.reply("/repo/").body == b"home"
    assert site.reply("/repo/a/").body == b"a"
    assert site.reply("/repo/b").body == b"b"
    assert site.reply("/repo/s.css").content_type == "text/css; charset=utf-8"
    assert site.reply("/a/") == Reply(404, b"missing")  # outside the base path: the sub-path bug shows locally
    assert site.reply("/repo/../repo/a/") == Reply(404, b"missing")
    failing = Site(site.files, "/repo/", error_page([SiteError("content/x.yaml", "bad", "fix it", 3, 7)]))
    assert failing.reply("/repo/a/").status == 500
    assert b"<code>content/x.yaml:3:7</code>: bad \xe2\x80\x94 fix it" in failing.reply("/repo/nope").body
    assert failing.reply("/") == Reply(302, location="/repo/")


def test_every_page_gets_the_head_end_livereload_injects_before() -> None:
    assert with_head_end(b"<head><title>t</title></head><p>x") == b"<head><title>t</title></head><p>x"
    assert with_head_end(b"<HEAD><title>t</title></HEAD ><p>x") == b"<HEAD><title>t</title></head><p>x"
    assert with_head_end(b"<title>t</title><BODY class=a><p>x") == b"<title>t</title></head><BODY class=a><p>x"
    assert with_head_end(b"<p>x") == b"<p>x</head>"


class FakeTab:
    """Stands in for a browser's LiveReload connection: records the messages sent to it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write_message(self, message: str) -> Future[None]:
        self.sent.append(json.loads(message))
        done: Future[None] = Future()
        done.set_result(None)
        return done


def publish(old: Site, new: Site, **tabs: str | None) -> dict[str, list[dict[str, Any]]]:
    preview = Preview(old)
    fakes = {name: FakeTab() for name in tabs}
    preview.tabs = {fakes[name]: path for name, path in tabs.items()}  # type: ignore[dict-item]
    preview.publish(new)
    return {name: tab.sent for name, tab in fakes.items()}


def test_each_tab_reloads_only_when_what_it_shows_changed() -> None:
    old = Site({"a/index.html": b"a", "b/index.html": b"b", "404.html": b"404"}, "/r/")
    new = Site({**old.files, "b/index.html": b"b2"}, "/r/")
    sent = publish(old, new, on_a="/r/a/", on_b="/r/b/", unknown=None)
    assert sent["on_a"] == []
    assert [m["command"] for m in sent["on_b"] + sent["unknown"]] == ["reload", "reload"]
    assert publish(old, Site(dict(old.files), "/r/"), on_a="/r/a/", unknown=None) == {"on_a": [], "unknown": []}


def test_a_stylesheet_change_is_swapped_in_place() -> None:
    old = Site({"a/index.html": b"a", "static/style.css": b"x"}, "/r/")
    sent = publish(old, Site({**old.files, "static/style.css": b"y"}, "/r/"), on_a="/r/a/")
    assert sent["on_a"] == [{"command": "reload", "path": "/r/static/style.css", "liveCSS": True, "liveImg": False}]


def test_a_failing_build_reloads_every_tab_once() -> None:
    good = Site({"a/index.html": b"a"}, "/r/")
    bad = Site(good.files, "/r/", error_page([SiteError("content/x.yaml", "bad")]))
    assert len(publish(good, bad, on_a="/r/a/")["on_a"]) == 1
    assert publish(bad, Site(good.files, "/r/", error_page([SiteError("content/x.yaml", "bad")])), on_a="/r/a/")["on_a"] == []
    assert len(publish(bad, good, on_a="/r/a/")["on_a"]) == 1


def test_the_os_says_which_files_changed(tmp_path: Path) -> None:
    from site_builder.changes import start

    project = make_project(tmp_path / "p")
    notifier = start(project)
    assert notifier is not None, "no OS file notifications on this machine"
    try:
        assert notifier.take() == set() and not notifier.wait(0.1)
        (project / "content/companies/alpha.md").write_text("Changed.\n")
        (project / "templates/extra.html").write_text("x")
        assert notifier.wait(5)
        time.sleep(0.2)  # let the rest of the burst arrive
        assert notifier.take() == {"content/companies/alpha.md", "templates/extra.html"}
        (project / "content/companies/new-folder").mkdir()
        assert notifier.wait(5)
        time.sleep(0.2)
        assert notifier.take() is None  # a folder changed: only a full scan can tell what is in it
        assert notifier.take() == set()
    finally:
        notifier.close()


def test_scan_watches_what_read_tree_reads(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / "content" / ".draft.yaml.swp").write_text("x")
    (project / "content" / "home.md~").write_text("x")
    (project / "_site").mkdir()
    (project / "_site" / "index.html").write_text("x")
    assert set(scan(project)) == set(read_tree(project).files)


# --- The real server, over HTTP ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m site_builder serve --port P` in a project, its output collected as it comes."""

    def __init__(self, project: Path, *options: str) -> None:
        self.project = project
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "site_builder", "serve", "--port", str(self.port), *options],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._collect, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 30
        try:
            while not self._answers():
                assert self.proc.poll() is None and time.monotonic() < deadline, f"serve did not start:\n{self.output}"
                time.sleep(0.05)
        except BaseException:
            self.stop()  # never leave a server running behind a failed start
            raise

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def _answers(self) -> bool:
        try:
            return self.request("GET", BASE)[0] > 0
        except OSError:
            return False

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{BASE}{path}"

    def request(self, method: str, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request with the path sent exactly as given (no normalising client in between)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def stop(self) -> int:
        """Ctrl-C, as a user would; kill if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server of its own, for a test that edits files or stops it."""
    running = Server(make_project(tmp_path / "project"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that only make requests."""
    running = Server(make_project(tmp_path_factory.mktemp("shared") / "project"))
    try:
        yield running
    finally:
        running.stop()


def served_text(server: Server, path: str, text: str, timeout: float = 10) -> float:
    """Seconds until the page at `path` contains `text`; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status, _, body = server.request("GET", BASE + path)
        if status == 200 and text.encode() in body:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared at {path}:\n{server.output}")


@pytest.mark.parametrize("options", [(), ("--poll",)], ids=["os-notifications", "poll"])
def test_saves_of_every_kind_are_seen_with_and_without_os_notifications(tmp_path: Path, options: tuple[str, ...]) -> None:
    """An edit, an editor's save-by-rename, a new record in a new file, and a deleted one all reach the site."""
    running = Server(make_project(tmp_path / "project"), *options)
    try:
        project = running.project
        md = project / "content/companies/alpha.md"
        md.write_text(md.read_text() + "\nFirst edit.\n")
        assert served_text(running, "companies/alpha/", "First edit.") < 5
        tmp = md.with_name(".alpha.md.tmp")  # how many editors save: a new file renamed over the old one
        tmp.write_text(md.read_text() + "\nSaved by rename.\n")
        os.replace(tmp, md)
        served_text(running, "companies/alpha/", "Saved by rename.")
        (project / "content/companies/gamma.yaml").write_text("title: Gamma Motors\nkind: maker\nsources: [src-one]\n")
        served_text(running, "companies/gamma/", "Gamma Motors")
        (project / "content/companies/gamma.yaml").unlink()
        deadline = time.monotonic() + 10
        while running.request("GET", BASE + "companies/gamma/")[0] != 404:
            assert time.monotonic() < deadline, f"the deleted record is still served:\n{running.output}"
            time.sleep(0.02)
        assert b"Gamma Motors" not in running.request("GET", BASE + "companies/")[2]
    finally:
        running.stop()
    assert running.proc.returncode == 0


def test_startup_prints_url_and_how_to_stop(shared: Server) -> None:
    assert f"http://127.0.0.1:{shared.port}/fixture/" in shared.output
    assert "Press Ctrl-C to stop" in shared.output


def test_root_and_missing_slashes_redirect(shared: Server) -> None:
    for path, target in [
        ("/", BASE),
        ("/fixture", BASE),
        ("/fixture/companies/alpha", "/fixture/companies/alpha/"),
        ("/fixture/companies/alpha?x=1", "/fixture/companies/alpha/?x=1"),
    ]:
        status, headers, _ = shared.request("GET", path)
        assert (status, headers["Location"]) == (302, target), path


def test_missing_pages_get_the_sites_404_html(shared: Server) -> None:
    built = build_files(read_tree(shared.project)).files["404.html"]
    for path in ("/fixture/no/such/page/", "/fixture/nope.css", "/companies/alpha/"):  # the last: outside the base path
        status, _, body = shared.request("GET", path)
        assert status == 404, path
        assert INJECTED.sub(b"", body) == built  # the real 404.html, plus the live-reload script
        assert INJECTED.search(body)


def test_requests_outside_the_site_get_404_and_no_file(shared: Server) -> None:
    (shared.project.parent / "secret.txt").write_text("TOP-SECRET")
    paths = [
        "/..%2f..%2fetc/passwd",
        "/../../etc/passwd",
        "/%2e%2e/",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/fixture/../../../etc/passwd",
        "/fixture/..%2f..%2f..%2fsecret.txt",
        "/fixture/%2e%2e/%2e%2e/secret.txt",
        "/fixture/../content/site.yaml",
        "//etc/passwd",
        "/fixture//etc/passwd",
        "/fixture/..\\..\\secret.txt",
        "/fixture/%5c..%5c..%5csecret.txt",
        "/etc/passwd",
        "/fixture/%00",
        "/fixture/%ff%fe",
        "http://127.0.0.1/etc/passwd",
        "/fixture/" + "a/" * 2000,
    ]
    for path in paths:
        status, _, body = shared.request("GET", path)
        assert status == 404, path
        assert b"root:" not in body and b"TOP-SECRET" not in body and b"base_url" not in body, path


def test_head_options_other_methods_and_garbage_never_crash(shared: Server) -> None:
    _, _, page = shared.request("GET", BASE)
    status, headers, body = shared.request("HEAD", BASE)
    assert (status, body, int(headers["Content-Length"])) == (200, b"", len(page))
    status, headers, _ = shared.request("OPTIONS", BASE)
    assert (status, headers["Allow"]) == (204, "GET, HEAD, OPTIONS")
    assert shared.request("POST", BASE)[0] == 405
    assert shared.request("BREW", "*")[0] == 405
    for junk in (
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /fixture/ HTTP/1.1\r\n" + b"X: " + b"y" * 100_000 + b"\r\n\r\n",
        b"GET /fixture/ HTTP/1.1\r\n",
    ):
        with socket.create_connection(("127.0.0.1", shared.port), timeout=5) as raw:
            raw.sendall(junk)
    assert shared.request("GET", BASE)[0] == 200
    assert "Traceback" not in shared.output


def test_two_hundred_concurrent_requests_all_served(shared: Server) -> None:
    """A bounded burst on loopback: 200 requests at once, every one answered correctly."""
    from concurrent.futures import ThreadPoolExecutor

    paths = ["", "companies/alpha/", "static/style.css", "no/such/page/"] * 50

    def fetch(path: str) -> int:
        return shared.request("GET", BASE + path)[0]

    with ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(fetch, paths))
    assert statuses == [200, 200, 200, 404] * 50
    assert "Traceback" not in shared.output


def test_a_first_build_that_fails_is_served_as_errors_until_fixed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    site_yaml = project / "content" / "site.yaml"
    good = site_yaml.read_text()
    site_yaml.write_text(good.replace("title: Fixture explainer", "title: [Fixture explainer"))
    server = Server(project)
    try:
        status, _, body = server.request("GET", BASE)
        assert status == 500 and re.search(rb"<code>content/site\.yaml:\d+:\d+</code>", body)
        assert re.search(r"content/site\.yaml:\d+:\d+: ", server.output)
        site_yaml.write_text(good)
        deadline = time.monotonic() + 10
        while server.request("GET", BASE)[0] != 200:
            assert time.monotonic() < deadline, server.output
            time.sleep(0.05)
        assert f"The site is now at http://127.0.0.1:{server.port}/fixture/" in server.output
    finally:
        assert server.stop() in (0, 130)
    assert "Traceback" not in server.output


def test_a_port_in_use_is_one_clear_error(server: Server) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "site_builder", "serve", "--port", str(server.port)],
        cwd=server.project,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert second.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{server.port}" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout


def test_ctrl_c_stops_cleanly(server: Server) -> None:
    assert server.stop() in (0, 130)
    assert "Traceback" not in server.output
    assert "Stopped." in server.output


def test_a_burst_of_changes_is_one_rebuild(server: Server) -> None:
    files = [p for folder in ("content", "templates") for p in sorted((server.project / folder).rglob("*")) if p.is_file()]
    assert len(files) >= 20
    later = time.time() + 5
    for path in files:  # like a git checkout: many files, within milliseconds
        os.utime(path, (later, later))
    deadline = time.monotonic() + 10
    while "changed: built" not in server.output and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # and no second rebuild follows
    assert server.output.count("changed: built") == 1, server.output
    assert f"{len(files)} files changed: built" in server.output


# --- The real server in Chromium ---


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(server.url("companies/alpha/"))
    tab.wait_for_function(CONNECTED, timeout=10_000)
    try:
        yield tab
    finally:
        context.close()


def shows(text: str) -> str:
    """Whether the page shows `text`; false, not an error, while a reload's new document has no body yet."""
    return f"(document.body?.innerText ?? '').includes({json.dumps(text)})"


def test_a_markdown_save_shows_in_the_open_page(page: Any, server: Server) -> None:
    md = server.project / "content" / "companies" / "alpha.md"
    md.write_text(md.read_text() + "\nA freshly saved sentence.\n")
    page.wait_for_function(shows("A freshly saved sentence."), timeout=10_000)


def test_three_saves_a_second_apart_end_on_the_third(page: Any, server: Server) -> None:
    md = server.project / "content" / "companies" / "alpha.md"
    original = md.read_text()
    for n in ("one", "two", "three"):
        md.write_text(original + f"\nSave number {n}.\n")
        page.wait_for_timeout(1000)
    page.wait_for_function(shows("Save number three."), timeout=10_000)
    page.wait_for_timeout(1000)  # no late reload brings an older save back
    text = page.inner_text("body")
    assert "Save number three." in text and "Save number two." not in text


def test_a_bad_yaml_save_shows_file_and_line_then_the_fix_restores_the_page(page: Any, server: Server) -> None:
    fact_file = server.project / "content" / "companies" / "alpha.yaml"
    good = fact_file.read_text()
    fact_file.write_text(good.replace("kind: carmaker", "kind: [carmaker"))
    with pytest.raises(BuildFailed) as failed:
        build_files(read_tree(server.project))
    expected = [str(e) for e in failed.value.errors]
    assert any(line.startswith("content/companies/alpha.yaml:") for line in expected)
    page.wait_for_function("document.title.startsWith('Build failed')", timeout=10_000)
    text = page.inner_text("body")
    assert all(line in text for line in expected)
    for _ in range(50):  # the terminal shows them too (its output arrives through a pipe)
        if all(line in server.output for line in expected):
            break
        page.wait_for_timeout(100)
    assert all(line in server.output for line in expected), server.output
    fact_file.write_text(good)
    page.wait_for_function(f"!document.title.startsWith('Build failed') && {shows('Alpha Motors')}", timeout=10_000)


def test_a_css_save_applies_without_a_reload(page: Any, server: Server) -> None:
    page.evaluate("window.__marker = 1")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    css = server.project / "static" / "style.css"
    css.write_text(css.read_text() + "\nbody { background-color: rgb(12, 34, 56) !important; }\n")
    restyled = "document.body !== null && getComputedStyle(document.body).backgroundColor === 'rgb(12, 34, 56)'"
    page.wait_for_function(restyled, timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    assert navigations == []


def test_ctrl_c_with_an_open_tab_stops_cleanly(page: Any, server: Server) -> None:
    assert server.stop() in (0, 130)
    assert "Traceback" not in server.output


def test_a_build_landing_while_the_page_connects_is_not_missed(browser: Any, server: Server) -> None:
    context = browser.new_context()
    tab = context.new_page()
    held: list[Any] = []
    released = threading.Event()

    def hold(route: Any) -> None:  # the LiveReload client waits: the page has no socket yet
        if released.is_set():
            route.continue_()
        else:
            held.append(route)

    tab.route("**/livereload.js*", hold)
    tab.goto(server.url("companies/alpha/"), wait_until="domcontentloaded")
    md = server.project / "content" / "companies" / "alpha.md"
    md.write_text(md.read_text() + "\nSaved while the page was connecting.\n")
    for _ in range(100):
        if "changed: built" in server.output:
            break
        tab.wait_for_timeout(50)
    assert "Saved while the page was connecting." not in tab.inner_text("body")
    released.set()
    for route in held:
        route.continue_()
    tab.wait_for_function(shows("Saved while the page was connecting."), timeout=10_000)
    context.close()
