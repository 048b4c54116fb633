"""The one place that turns site paths into URLs; every link honours the base path."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class Urls:
    """URLs for a site published at `base_url` (e.g. https://user.github.io/repo/)."""

    base_url: str

    @functools.cached_property  # asked for every link: tens a page
    def base_path(self) -> str:
        """The path the site lives under: '/repo/' on a project site, '/' on a user site."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def href(self, path: str) -> str:
        """A root-relative URL for a site path ('companies/tesla/' -> '/repo/companies/tesla/')."""
        return self.base_path + quote(path.lstrip("/"), safe="/#:.-_~%")

    def absolute(self, path: str) -> str:
        """A full URL for a site path, for canonical links, feeds and the sitemap."""
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + quote(path.lstrip("/"), safe="/#:.-_~%")


def output_file(path: str) -> str:
    """The file that serves a site path: folders get index.html."""
    path = path.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def built_base_url(files: dict[str, bytes]) -> str:
    """The base URL a site in memory was built with, read back from its robots.txt ('/' when there is none)."""
    try:
        text = files["robots.txt"].decode()
        return text.split("Sitemap: ", 1)[1].strip().removesuffix("sitemap.xml")
    except (KeyError, IndexError, UnicodeDecodeError):
        return "/"
