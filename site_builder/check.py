"""Check a built site's internal links, assets and #anchors, in memory."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from .errors import SiteError
from .urls import Urls, output_file

SEARCH_INDEX = "pagefind/"  # made when the site is written, after the in-memory check
_LINK_ATTRS = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("source", "src"), ("iframe", "src")}


class _Page(HTMLParser):
    """Collects a page's ids and the links it makes, with their lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, int, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            if (tag, name) in _LINK_ATTRS:
                line, col = self.getpos()
                self.links.append((value, line, col + 1))


def parse_pages(files: dict[str, bytes]) -> dict[str, _Page]:
    """Every HTML file, parsed for ids and links."""
    pages = {}
    for name, data in files.items():
        if name.endswith(".html"):
            page = _Page()
            page.feed(data.decode("utf-8", "replace"))
            pages[name] = page
    return pages


def check_links(files: dict[str, bytes], urls: Urls) -> list[SiteError]:
    """Every internal link that leads nowhere, leaves the base path, or names a missing #anchor."""
    pages = parse_pages(files)
    host = urlsplit(urls.base_url).netloc
    found: dict[str, list[tuple[str, int, int, str]]] = {}  # problem -> where (a template's bad link is on every page)
    for name, page in sorted(pages.items()):
        page_url = urls.base_path + (name.removesuffix("index.html") if name != "404.html" else "")
        for link, line, col in page.links:
            problem = _problem(link, page_url, urls, host, files, pages)
            if problem:
                found.setdefault(problem, []).append((name, line, col, link))
    errors = []
    for problem, places in found.items():
        name, line, col, link = places[0]
        more = f" (and on {len(places) - 1} more page{'s' * (len(places) > 2)})" if len(places) > 1 else ""
        if "leaves the site's base path" in problem:
            hint = f"write it as {urls.base_path}{link.lstrip('/')}; in templates, build links from {{{{ site.home }}}}"
        else:
            hint = "fix the link or the page it points to"
        errors.append(SiteError(name, problem + more, hint, line, col))
    return sorted(errors, key=lambda e: (e.path, e.line, e.col))


def _problem(link: str, page_url: str, urls: Urls, host: str, files: dict[str, bytes], pages: dict[str, _Page]) -> str:
    parts = urlsplit(link)
    if parts.scheme in ("mailto", "tel", "data"):
        return ""
    if (parts.scheme or parts.netloc) and parts.netloc != host:
        return ""  # external: not checked here
    path = unquote(parts.path)
    if not path:
        target = page_url
    elif path.startswith("/"):
        target = path
    else:
        target = posixpath.normpath(posixpath.join(page_url, path)) + ("/" if path.endswith("/") else "")
    if not target.startswith(urls.base_path):
        return f"link '{link}' leaves the site's base path {urls.base_path}"
    file = output_file(target[len(urls.base_path) :])
    if file not in files and not (file.startswith(SEARCH_INDEX) and not _has_search_index(files)):
        return f"link '{link}' leads to a missing file ({file})"
    if parts.fragment and file in pages and unquote(parts.fragment) not in pages[file].ids:
        return f"link '{link}' names a missing anchor #{parts.fragment}"
    return ""


def _has_search_index(files: dict[str, bytes]) -> bool:
    return any(name.startswith(SEARCH_INDEX) for name in files)
