"""The preview web server: a built site served from memory under its base path, with LiveReload.

From the `livereload` package we use the browser side only: its LiveReload protocol handshake
(`LiveReloadHandler`), its client (`/livereload.js`, which swaps stylesheets in place) and its
script injector. Its watcher, poller and 3-second reload throttle are not used: `serve.py`
decides when to rebuild, and `Preview.publish` decides which open tab gets which message.
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from livereload.server import LiveScriptInjector
from tornado import httputil, web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .errors import SiteError
from .urls import Urls

MAX_PATH = 2048
HTML = "text/html; charset=utf-8"
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}
_TEXTUAL = {"application/json", "application/xml", "image/svg+xml", "application/manifest+json"}
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
_BODY_START = re.compile(rb"<body[\s>]", re.IGNORECASE)
_NOT_FOUND = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Not found</title>\n</head>\n'
    b"<body>\n<h1>Not found</h1>\n</body>\n</html>\n"
)


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body, type and, for redirects, where to."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    location: str = ""

    @cached_property
    def etag(self) -> str:
        """A fingerprint of everything the browser would see; the page carries it to detect a missed reload."""
        digest = hashlib.sha1(f"{self.status} {self.location}\n".encode())
        digest.update(self.body)
        return f'"{digest.hexdigest()[:20]}"'


@dataclass(frozen=True)
class Site:
    """A published build: its files (output path → bytes) under `base_path`, or the error page while it fails."""

    files: dict[str, bytes]
    base_path: str = "/"
    failure: Reply | None = None

    def reply(self, raw_path: str, query: str = "") -> Reply:
        """The answer for a request path exactly as sent (still %-encoded), the way GitHub Pages answers it."""
        path = request_path(raw_path)
        if path is None:
            return self.not_found()
        base = self.base_path
        query = f"?{query}" if query else ""
        if path == base.rstrip("/") or (path == "/" and base != "/"):
            return Reply(302, location=quote(base) + query)
        if self.failure is not None:
            return self.failure
        if not path.startswith(base):
            return self.not_found()
        rel = path[len(base) :]
        name = rel + "index.html" if rel == "" or rel.endswith("/") else rel
        if name in self.files:
            return Reply(200, self.files[name], content_type(name))
        if rel + "/index.html" in self.files:
            return Reply(302, location=raw_path + "/" + query)
        if rel + ".html" in self.files:
            return Reply(200, self.files[rel + ".html"], HTML)
        return self.not_found()

    def not_found(self) -> Reply:
        """The site's own 404.html, with status 404."""
        return Reply(404, self.files.get("404.html", _NOT_FOUND))


def request_path(raw_path: str) -> str | None:
    """The decoded path of a request, or None when it is not a plain path: `..`, `\\`, `//`, control bytes, overlong."""
    if not raw_path.startswith("/") or len(raw_path) > MAX_PATH:
        return None
    try:
        path = unquote_to_bytes(raw_path.encode("latin-1")).decode("utf-8")
    except UnicodeError:
        return None
    if "\\" in path or "//" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return None
    if any(part in (".", "..") for part in path.split("/")):
        return None
    return path


def content_type(name: str) -> str:
    """The Content-Type for an output file; text types are UTF-8."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind in _TEXTUAL else kind


def base_path(base_url: str) -> str:
    """The decoded path a base URL publishes under: '/repo/' for https://user.github.io/repo/."""
    return unquote(Urls(base_url).base_path)


def error_page(errors: list[SiteError]) -> Reply:
    """The page every URL shows while the build fails: each `path:line:col: message — hint`, then the count."""
    count = f"Build failed: {len(errors)} error{'s' * (len(errors) != 1)}"
    items = "\n".join(_error_item(e) for e in errors)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{count}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #fff5f5; color: #1a1a1a; }}
main {{ max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
h1 {{ color: #a40000; font-size: 1.5rem; }}
li {{ margin: .5rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }}
code {{ font-weight: bold; }}
</style>
</head>
<body>
<main id="site-builder-error">
<h1>{count}</h1>
<p>Fix the files below and save: this page updates by itself.</p>
<ol>
{items}
</ol>
</main>
</body>
</html>
"""
    return Reply(500, page.encode())


def _error_item(error: SiteError) -> str:
    where = f"{error.path}:{error.line}:{error.col}"
    return f"<li><code>{html.escape(where)}</code>: {html.escape(str(error).removeprefix(where + ': '))}</li>"


def live_script(etag: str) -> bytes:
    """livereload's loader snippet, plus one check: on (re)connect, reload if this page changed meanwhile."""
    return (
        "<script>(function(){"
        'var port=window.location.port||(window.location.protocol=="https:"?443:80);'
        'var s=document.createElement("script");'
        "var host=window.location.hostname;"  # host= also lets livereload.js connect to an [IPv6] address
        's.src="//"+host+":"+port+"/livereload.js?port="+port+"&host="+host;'
        "document.head.appendChild(s);"
        f"var served={json.dumps(etag)};"
        'document.addEventListener("LiveReloadConnect",function(){'
        'fetch(window.location.href,{method:"HEAD",cache:"no-store"}).then(function(r){'
        'if(r.headers.get("ETag")!==served){window.location.reload();}}).catch(function(){});});'
        "})();</script>"
    ).encode()


def with_head_end(body: bytes) -> bytes:
    """The page with a literal `</head>` for livereload's injector, which finds no other spelling."""
    if b"</head>" in body:
        return body
    if found := _HEAD_END.search(body) or _BODY_START.search(body):
        return body[: found.start()] + b"</head>" + body[found.end() if found.re is _HEAD_END else found.start() :]
    return body + b"</head>"


class ScriptInjector(LiveScriptInjector):  # type: ignore[misc]
    """livereload's injector, with the snippet made for each page (it carries the page's ETag)."""

    def transform_first_chunk(
        self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        self.script = live_script(headers.get("Etag", ""))
        return cast(
            tuple[int, httputil.HTTPHeaders, bytes], super().transform_first_chunk(status_code, headers, chunk, finishing)
        )


class Preview:
    """The published site and the open tabs, each with the path it shows; lives on the server's event loop."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.tabs: dict[ReloadSocket, str | None] = {}

    def publish(self, site: Site) -> None:
        """Swap in a new build and tell each open tab what it needs: nothing, new stylesheets, or a reload."""
        old, self.site = self.site, site
        changed = {k for k in old.files.keys() | site.files.keys() if old.files.get(k) != site.files.get(k)}
        anything = bool(changed) or old.failure != site.failure or old.base_path != site.base_path
        assets = any(k.startswith("static/") and not k.endswith(".css") for k in changed)
        sheets = sorted(k for k in changed if k.startswith("static/") and k.endswith(".css"))
        for tab, path in list(self.tabs.items()):
            stale = anything if path is None else assets or old.reply(path).etag != site.reply(path).etag
            if stale:
                self.send(tab, {"command": "reload", "path": path or "/", "liveCSS": False, "liveImg": False})
            elif site.failure is None:
                for sheet in sheets:  # livereload.js swaps the matching <link> in place: no page reload
                    self.send(tab, {"command": "reload", "path": site.base_path + sheet, "liveCSS": True, "liveImg": False})

    def send(self, tab: ReloadSocket, message: dict[str, object]) -> None:
        """One LiveReload message; a tab that went away is forgotten."""
        try:
            tab.write_message(json.dumps(message)).add_done_callback(lambda f: f.cancelled() or f.exception())
        except WebSocketClosedError:
            self.tabs.pop(tab, None)

    def close(self) -> None:
        """Close every tab's connection (their livereload.js keeps retrying until a server is back)."""
        for tab in list(self.tabs):
            tab.close()
        self.tabs.clear()


class ReloadSocket(LiveReloadHandler):  # type: ignore[misc]
    """livereload's WebSocket handler, registering tabs with the `Preview` instead of its class-wide state."""

    def initialize(self, preview: Preview) -> None:
        self.preview = preview

    def check_origin(self, origin: str) -> bool:
        return WebSocketHandler.check_origin(self, origin)  # same host only; livereload allows any origin

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.close()
        elif data.get("command") == "hello":
            self.preview.tabs.setdefault(self, None)  # before the reply: the page's check then sees any later build
            super().on_message(message)
        elif data.get("command") == "info" and self in self.preview.tabs:
            url = data.get("url")
            self.preview.tabs[self] = urlsplit(url).path if isinstance(url, str) else None

    def on_close(self) -> None:
        self.preview.tabs.pop(self, None)


class SiteHandler(web.RequestHandler):
    """Every other request: answered from the published site in memory."""

    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def initialize(self, preview: Preview) -> None:
        self.preview = preview

    def get(self) -> None:
        reply = self.preview.site.reply(self.request.path, self.request.query)
        self.set_status(reply.status)
        self.set_header("Content-Type", reply.content_type)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Etag", reply.etag)
        if reply.location:
            self.set_header("Location", reply.location)
        self.finish(with_head_end(reply.body) if reply.content_type == HTML else reply.body)  # HEAD: tornado drops the body

    def head(self) -> None:
        self.get()

    def options(self) -> None:
        self.set_status(204)
        self.set_header("Allow", "GET, HEAD, OPTIONS")
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:
            self.set_header("Allow", "GET, HEAD, OPTIONS")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")

    def log_exception(self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if not isinstance(value, web.HTTPError):
            what = f"{self.request.method} {self.request.path[:200]}"
            print(f"server: error answering {what}: {type(value).__name__}: {value}", file=sys.stderr)


def make_app(preview: Preview) -> web.Application:
    """The tornado application: livereload's endpoints, then the site for every other path."""
    return web.Application(
        [
            (r"/livereload", ReloadSocket, {"preview": preview}),
            (r"/livereload\.js", LiveReloadJSHandler),
            (r".*", SiteHandler, {"preview": preview}),
        ],
        transforms=[ScriptInjector],
        log_function=lambda handler: None,
    )
