"""The build, top to bottom: read → validate → resolve references → plan pages → render → write."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .cache import build_key
from .content import Content, parse_content
from .errors import BuildFailed, SiteError
from .output import Stamp, check_output, read_stamp, write_site
from .pages import Page, plan_pages
from .parallel import default_workers
from .render import extra_files, render_pages
from .resolve import Site, resolve
from .tree import Tree, read_tree
from .urls import Urls


@dataclass(frozen=True)
class Result:
    """What a build made: its files (path → bytes; empty when written straight to disk), warnings, and time."""

    files: dict[str, bytes]
    pages: int
    warnings: list[SiteError]
    seconds: float
    unchanged: bool = False  # the output was already built from these inputs


def build(project: Path, out: Path, base_url: str | None = None, strict: bool = False, workers: int | None = None) -> Result:
    """Build the project's site into `out`; raise `BuildFailed` and leave `out` untouched on any error."""
    started = time.perf_counter()
    check_output(out, project)
    key = build_key(project, {"base_url": base_url, "strict": strict})
    if (done := up_to_date(out, key)) is not None:
        return Result({}, done.pages, [SiteError(*w) for w in done.warnings], time.perf_counter() - started, unchanged=True)
    tree = read_tree(project)
    content, problems = validate(tree, base_url)
    site, warnings = resolve_references(content, problems, strict)
    pages = plan_pages(site)
    files = render(site, pages, tree, default_workers() if workers is None else workers)
    stamp = Stamp(key, len(pages), tuple((w.path, w.message, w.hint, w.line, w.col) for w in warnings))
    write_site(files, out, project, stamp)
    return Result({}, len(pages), warnings, time.perf_counter() - started)


def up_to_date(out: Path, key: str) -> Stamp | None:
    """The stamp of `out` when it was built from exactly these inputs, so there is nothing to do."""
    stamp = read_stamp(out)
    return stamp if stamp is not None and stamp.key == key else None


def build_files(tree: Tree, base_url: str | None = None, strict: bool = False, workers: int = 1) -> Result:
    """The same build, kept in memory: the input tree in, every output file (path → bytes) out."""
    started = time.perf_counter()
    content, problems = validate(tree, base_url)
    site, warnings = resolve_references(content, problems, strict)
    pages = plan_pages(site)
    files = dict(render(site, pages, tree, workers))
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


def render(site: Site, pages: list[Page], tree: Tree, workers: int) -> Iterator[tuple[str, bytes]]:
    """Every output file as (path, bytes): the pages, lazily and in order, then the generated files."""
    urls = Urls(site.content.config.base_url)
    yield from render_pages(site, pages, tree.under("templates"), urls, workers)
    yield from extra_files(site, pages, urls, tree.under("static")).items()
