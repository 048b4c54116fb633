"""Sub-path correctness: serve the built site the way GitHub Pages does, crawl it over HTTP, and find zero broken links.

A project site lives at https://<owner>.github.io/<repo>/, a user site at https://<owner>.github.io/. The local
preview runs at '/', so links that forget the base path work there and break once published (anchors.md §2).
"""

from __future__ import annotations

import http.client
import json
import mimetypes
import posixpath
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from site_builder.build import build
from site_builder.errors import BuildFailed

from .conftest import REPO, edit, make_project, run_cli

PROJECT_SITE = "https://example.github.io/china-ev-exports/"
USER_SITE = "https://example.github.io/"
OUTSIDE = b"GitHub Pages: nothing is published here"


# --- A GitHub Pages look-alike -----------------------------------------------------------------------------------


def pages_handler(root: Path, mount: str) -> type[BaseHTTPRequestHandler]:
    """Serve `root` at `mount` as GitHub Pages does: folder/ -> index.html, 301 to add a folder's missing slash,
    name -> name.html, the site's 404.html (status 404) for anything missing, and nothing outside the mount."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.respond(body=True)

        def do_HEAD(self) -> None:
            self.respond(body=False)

        def respond(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path + "/" == mount:
                return self.send(301, b"", location=mount)
            if not path.startswith(mount):
                return self.send(404, OUTSIDE, body=body)
            rel = path[len(mount) :]
            if any(part in ("..", ".") for part in rel.split("/")):
                return self.send(404, OUTSIDE, body=body)
            target = root / rel
            if target.is_dir():
                if not path.endswith("/"):
                    return self.send(301, b"", location=path + "/")
                target = target / "index.html"
            elif not target.is_file() and Path(str(target) + ".html").is_file():
                target = Path(str(target) + ".html")
            if target.is_file():
                return self.send(200, target.read_bytes(), kind=mimetypes.guess_type(target.name)[0], body=body)
            missing = root / "404.html"
            self.send(404, missing.read_bytes() if missing.is_file() else OUTSIDE, kind="text/html", body=body)

        def send(self, status: int, data: bytes, kind: str | None = None, location: str = "", body: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind or "text/html")
            self.send_header("Content-Length", str(len(data)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass
class Server:
    origin: str  # http://127.0.0.1:PORT
    mount: str  # /china-ev-exports/ or /
    site_origin: str  # https://example.github.io

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        host, port = urlsplit(self.origin).netloc.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


Serve = Callable[[Path, str], Server]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[ThreadingHTTPServer] = []

    def start(root: Path, base_url: str) -> Server:
        parts = urlsplit(base_url)
        mount = parts.path if parts.path.endswith("/") else parts.path + "/"
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), pages_handler(root, mount))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return Server(f"http://127.0.0.1:{httpd.server_address[1]}", mount, f"{parts.scheme}://{parts.netloc}")

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


# --- A crawler ---------------------------------------------------------------------------------------------------

_LINKS = {
    ("a", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("video", "src"),
    ("object", "data"),
    ("form", "action"),
}
_SRCSET = {("img", "srcset"), ("source", "srcset")}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self._json = False
        self.json_ld: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for (t, name), value in ((k, a.get(k[1])) for k in _LINKS | _SRCSET):
            if t == tag and value is not None:
                candidates = [c.strip().split()[0] for c in value.split(",") if c.strip()] if (t, name) in _SRCSET else [value]
                self.links.extend(candidates)
        if "data-bundle" in a:  # the Pagefind UI loads its bundle from here at run time
            self.links.extend(a["data-bundle"] + name for name in ("pagefind.js", "pagefind-entry.json"))
        if tag == "meta" and a.get("property", "").endswith((":url", ":image")) and "content" in a:
            self.links.append(a["content"])
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh" and "url=" in a.get("content", "").lower():
            self.links.append(a["content"].split("=", 1)[1].strip("'\" "))
        self._json = tag == "script" and a.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._json:
            self.json_ld.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._json = False


def _json_urls(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _json_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_urls(item)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value


@dataclass
class Crawl:
    server: Server
    fetched: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)  # local path -> status, type, body
    ids: dict[str, set[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)
    externals: set[str] = field(default_factory=set)
    server_links: list[str] = field(default_factory=list)

    def local(self, url: str, base: str) -> str | None:
        """The server path a link leads to, or None when it leaves the site's host (external)."""
        absolute = urljoin(base, url)
        parts = urlsplit(absolute)
        if parts.scheme in ("mailto", "tel", "data", "javascript"):
            return None
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in (self.server.origin, self.server.site_origin):
            self.externals.add(absolute)
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def fetch(self, path: str) -> tuple[int, str, bytes]:
        if path not in self.fetched:
            status, headers, body = self.server.get(path)
            self.fetched[path] = (status, headers.get("content-type", ""), body)
            if status == 200 and headers.get("content-type", "").startswith("text/html"):
                self.parse(path, body, self.server.origin + path)
        return self.fetched[path]

    def parse(self, path: str, body: bytes, url: str) -> None:
        page = _Html()
        page.feed(body.decode("utf-8", "replace"))
        self.ids[path] = page.ids
        self.pages.add(path)
        links = list(page.links)
        for block in page.json_ld:
            try:
                links.extend(_json_urls(json.loads(block)))
            except ValueError:
                self.failures.append(f"{path}: JSON-LD that does not parse")
        for link in links:
            self.follow(path, url, link)

    def follow(self, source: str, base_url: str, link: str) -> None:
        target = self.local(link, base_url)
        if target is None:
            return
        fragment = urlsplit(urljoin(base_url, link)).fragment
        self.server_links.append(link)
        if target == source and source in self.ids:  # same document: the 404 page is served at any missing path
            if fragment and unquote(fragment) not in self.ids[source]:
                self.failures.append(f"{source}: '{link}' names #{fragment}, which this page does not have")
            return
        status, kind, body = self.fetch(target)
        if status != 200:
            self.failures.append(f"{source}: '{link}' -> {target} gives HTTP {status}")
            return
        if kind.startswith("text/css") and target not in self.ids:
            self.ids[target] = set()
            for match in _CSS_URL.finditer(body.decode("utf-8", "replace")):
                self.follow(target, self.server.origin + target, match.group(1) or match.group(2))
        if fragment and unquote(fragment) not in self.ids.get(target, set()):
            self.failures.append(f"{source}: '{link}' names #{fragment}, which {target} does not have")


def crawl_site(server: Server) -> Crawl:
    """Fetch the home page, every page reachable from it, every link, asset and #anchor; then the 404 page's links
    (served at a deep missing path, as Pages does) and every sitemap and robots.txt URL."""
    crawl = Crawl(server)
    status, _, _ = crawl.fetch(server.mount)
    assert status == 200, f"home page {server.mount} gives HTTP {status}"

    deep = server.mount + "no/such/page/"
    status, _, body = server.get(deep)
    assert status == 404 and b"<html" in body, "the site has no 404.html"
    crawl.parse(deep, body, server.origin + deep)

    status, _, robots = crawl.fetch(server.mount + "robots.txt")
    for line in robots.decode().splitlines() if status == 200 else []:
        if line.lower().startswith("sitemap:"):
            crawl.follow("robots.txt", server.origin + server.mount, line.split(":", 1)[1].strip())
    status, _, sitemap = crawl.fetch(server.mount + "sitemap.xml")
    assert status == 200, "no sitemap.xml"
    for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap.decode()):
        crawl.follow("sitemap.xml", server.origin + server.mount, loc)
    return crawl


def assert_no_broken_links(out: Path, server: Server) -> Crawl:
    crawl = crawl_site(server)
    assert crawl.failures == [], "\n".join(crawl.failures)
    built = {server.mount + posixpath.dirname(p.relative_to(out).as_posix()) for p in out.rglob("index.html")}
    built = {p if p.endswith("/") else p + "/" for p in built}
    assert built <= crawl.pages, f"pages neither linked nor in the sitemap: {sorted(built - crawl.pages)}"
    return crawl


# --- The tests ---------------------------------------------------------------------------------------------------


@pytest.fixture
def fixture_project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.mark.parametrize("base_url", [PROJECT_SITE, USER_SITE])
def test_fixture_site_has_no_broken_link_where_pages_serves_it(
    fixture_project: Path, tmp_path: Path, serve: Serve, base_url: str
) -> None:
    out = tmp_path / "out"
    build(fixture_project, out, base_url=base_url)
    server = serve(out, base_url)
    crawl = assert_no_broken_links(out, server)
    assert len(crawl.pages) >= 13
    assert any("#" in link for link in crawl.server_links), "the fixture has #anchor links to check"


def test_real_site_has_no_broken_link_under_the_project_path(tmp_path: Path, serve: Serve) -> None:
    if not (REPO / "content" / "site.yaml").is_file():
        pytest.skip("content/ has no site.yaml yet")
    out = tmp_path / "out"
    try:
        build(REPO, out, base_url=PROJECT_SITE)
    except BuildFailed as exc:
        pytest.skip(f"content/ does not build yet ({exc}; first: {exc.errors[0]})")
    assert_no_broken_links(out, serve(out, PROJECT_SITE))


def test_the_server_behaves_like_github_pages(fixture_project: Path, tmp_path: Path, serve: Serve) -> None:
    out = tmp_path / "out"
    build(fixture_project, out, base_url=PROJECT_SITE)
    server = serve(out, PROJECT_SITE)
    assert server.get("/china-ev-exports/")[0] == 200
    status, headers, _ = server.get("/china-ev-exports")
    assert (status, headers["location"]) == (301, "/china-ev-exports/")
    status, headers, _ = server.get("/china-ev-exports/companies/alpha")
    assert (status, headers["location"]) == (301, "/china-ev-exports/companies/alpha/")
    status, _, body = server.get("/china-ev-exports/companies/nobody/")
    assert status == 404 and body == (out / "404.html").read_bytes()
    status, _, body = server.get("/companies/alpha/")  # outside the mount (its headers carry the time: not compared)
    assert (status, body) == (404, OUTSIDE)
    assert server.get("/china-ev-exports/static/style.css")[1]["content-type"] == "text/css"


def test_crawler_finds_links_that_forget_the_base_path(fixture_project: Path, tmp_path: Path, serve: Serve) -> None:
    """The classic bug, planted: a template links '/companies/', a style sheet that misses, and a missing anchor."""
    edit(
        fixture_project / "templates" / "page.html",
        "{% block main %}",
        '{% block main %}<a href="/companies/">All companies</a><a href="{{ site.home }}companies/#nowhere">x</a>'
        '<img src="{{ site.home }}static/missing.png" alt="">',
    )
    out = tmp_path / "out"
    build(fixture_project, out, base_url=PROJECT_SITE)
    crawl = crawl_site(serve(out, PROJECT_SITE))
    text = "\n".join(crawl.failures)
    assert "'/companies/' -> /companies/ gives HTTP 404" in text
    assert "static/missing.png gives HTTP 404" in text
    assert "names #nowhere" in text


def test_check_reports_root_relative_links_that_escape_the_base_path(fixture_project: Path) -> None:
    edit(fixture_project / "templates" / "page.html", "{% block main %}", '{% block main %}<a href="/elsewhere/">Elsewhere</a>')
    done = run_cli("check", "--base-url", PROJECT_SITE, cwd=fixture_project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "/elsewhere/" in line]
    assert lines, done.stderr
    assert len(lines) == 1, lines  # one report for the template's link, not one per page
    assert re.match(
        r"^about/index\.html:\d+:\d+: link '/elsewhere/' leaves the site's base path /china-ev-exports/ \(and on 1 more page\) — "
        r"write it as /china-ev-exports/elsewhere/; in templates, build links from \{\{ site\.home \}\}$",
        lines[0],
    ), lines[0]

    # The same template is fine for a user site, where '/' is the base path; then only the missing page is reported.
    done = run_cli("check", "--base-url", USER_SITE, cwd=fixture_project)
    assert done.returncode == 1
    assert "leads to a missing file (elsewhere/index.html)" in done.stderr
    assert "leaves the site's base path" not in done.stderr
