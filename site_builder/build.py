"""The build, top to bottom: read → validate → resolve references → plan pages → render → write."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .content import Content, parse_content
from .errors import BuildFailed, SiteError
from .output import write_site
from .pages import plan_pages
from .render import extra_files, render_pages
from .resolve import Site, resolve
from .tree import Tree, read_tree
from .urls import Urls


@dataclass(frozen=True)
class Result:
    """What a build made: its files (path → bytes), its warnings, and how long it took."""

    files: dict[str, bytes]
    pages: int
    warnings: list[SiteError]
    seconds: float


def build(project: Path, out: Path, base_url: str | None = None, strict: bool = False) -> Result:
    """Build the project's site into `out`; raise `BuildFailed` and leave `out` untouched on any error."""
    started = time.perf_counter()
    tree = read_tree(project)
    result = build_files(tree, base_url, strict)
    write_site(result.files, out, project)
    return Result(result.files, result.pages, result.warnings, time.perf_counter() - started)


def build_files(tree: Tree, base_url: str | None = None, strict: bool = False) -> Result:
    """The pure part of the build: the input tree in, the site's files out."""
    started = time.perf_counter()
    content, problems = validate(tree, base_url)
    site, warnings = resolve_references(content, problems, strict)
    pages = plan_pages(site)
    urls = Urls(content.config.base_url)
    files = render_pages(site, pages, tree.under("templates"), urls)
    files.update(extra_files(site, pages, urls, tree.under("static")))
    return Result(files, len(pages), warnings, time.perf_counter() - started)


def validate(tree: Tree, base_url: str | None) -> tuple[Content, list[SiteError]]:
    """Parse and check every content file; stop only when the site's settings are unusable."""
    content, errors = parse_content(tree, base_url)
    if content is None:
        raise BuildFailed(errors)
    return content, errors


def resolve_references(content: Content, problems: list[SiteError], strict: bool) -> tuple[Site, list[SiteError]]:
    """Resolve addresses and source ids; raise with these and earlier problems (and warnings, if strict)."""
    site, errors, warnings = resolve(content)
    if problems or errors or (strict and warnings):
        raise BuildFailed(problems + errors + (warnings if strict else []))
    return site, warnings
