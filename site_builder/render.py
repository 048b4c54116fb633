"""Render planned pages through Jinja, and make the site's other files; errors name template and line."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .cache import CACHE_DIR, PieceStore, engine_digest
from .content import Record
from .downloads import Data, data_files
from .errors import BuildFailed, SiteError
from .feed import FEED, atom, xml_text
from .labels import Labels
from .pages import Page, versions
from .parallel import map_ordered
from .resolve import Site
from .schema import editor_schema
from .splice import Woven, note, shared, shows_body_once
from .urls import Urls, output_file
from .views import Views

NOJEKYLL = ".nojekyll"
Rendered = tuple[bytes | None, tuple[str, str, str, int, int] | None, tuple[str, str, bytes] | None]  # page, error, note


class _TreeLoader(jinja2.BaseLoader):
    """Templates from the tree's bytes, named so tracebacks point at templates/<name>."""

    def __init__(self, templates: dict[str, bytes]) -> None:
        self.templates = templates

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template not in self.templates:
            raise jinja2.TemplateNotFound(template)
        try:
            text = self.templates[template].decode("utf-8")
        except UnicodeDecodeError:
            raise SiteError(f"templates/{template}", "this template is not UTF-8", "save it as UTF-8") from None
        return text, f"templates/{template}", lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.templates)


class _Environment(jinja2.Environment):
    """Jinja, where `value.name` on a mapping (every value the views give templates) reads its key first. Jinja's
    own order, attribute then key, pays a caught AttributeError for each of the 500 or so such lookups on a page
    (a third of the time Jinja takes). A key named like a dict method (`node.items`) is the key's value."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def environment(templates: dict[str, bytes], labels: Labels | None = None, compiled: Path | None = None) -> jinja2.Environment:
    """The Jinja environment: autoescape everywhere, undefined names are errors, `_()` gives a label in the site's
    language. The same templates and labels give the same environment, so `serve` compiles them once. With
    `compiled` (a folder of the project's cache), compiled templates are kept there for the next build: Jinja
    checks each against its template's source."""
    labels = labels or Labels()
    overrides = tuple(sorted(labels.overrides.items()))
    return _environment(tuple(sorted(templates.items())), labels.language, overrides, str(compiled or ""))


@functools.lru_cache(maxsize=2)
def _environment(
    templates: tuple[tuple[str, bytes], ...], language: str, overrides: tuple[tuple[str, str], ...], compiled: str
) -> jinja2.Environment:
    kept = None
    if compiled:
        with contextlib.suppress(OSError):
            os.makedirs(compiled, exist_ok=True)
            kept = jinja2.FileSystemBytecodeCache(compiled, f"{engine_digest()[:16]}-%s.cache")  # an engine's own
    env = _Environment(
        bytecode_cache=kept,
        loader=_TreeLoader(dict(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    labels = Labels(language, dict(overrides))
    env.install_gettext_callables(  # type: ignore[attr-defined]
        labels.gettext, labels.ngettext, newstyle=True, pgettext=labels.pgettext
    )
    env.globals["_"] = _quick_gettext(labels)
    env.globals["list_separator"] = labels.list_separator
    return env


def _quick_gettext(labels: Labels) -> Callable[..., Markup]:
    """`_()` as Jinja's i18n extension makes it with autoescape and new-style gettext (the label as Markup, always
    %-formatted with the variables, which are escaped), without its two context calls for each label: half of its
    time, and a record page shows about twenty labels. Each label is looked up once."""
    made: dict[str, Markup] = {}

    def gettext(message: str, **variables: Any) -> Markup:
        label = made.get(message)
        if label is None:
            label = made[message] = Markup(labels.gettext(message))
        return label % variables

    return gettext


def compiled(project: Path) -> Path:
    """Where a project's compiled templates are kept between builds."""
    return project / CACHE_DIR / "templates"


def render_pages(
    site: Site,
    pages: list[Page],
    templates: dict[str, bytes],
    urls: Urls,
    workers: int = 1,
    woven: Woven | None = None,
    order: dict[str, Sequence[Record]] | None = None,
    compiled: Path | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Every planned page as (output file, bytes), in plan order; then all template errors at once. With `woven`,
    how each record page's prose sits in it is noted there (splice.py); `order` gives collections' index order;
    `compiled` is where compiled templates are kept between builds; this process does `meanwhile` while the
    workers render."""
    renderer = _PageRenderer(site, templates, urls, noting=woven is not None, order=order, compiled=compiled)
    if woven is not None:
        woven.shared[site.prefix] = shared(site.content.config.allow_html, renderer.views.glossary)
    errors: set[SiteError] = set(renderer.errors)
    rendered = map_ordered(renderer.render, pages, workers, _weight, meanwhile)
    for page, (html, error, noted) in zip(pages, rendered, strict=True):
        if html is not None:
            yield output_file(page.path), html
            if noted is not None and woven is not None:
                woven.add(output_file(page.path), *noted)
        elif error is not None:
            errors.add(SiteError(*error))
    if errors:
        raise BuildFailed(errors)


def _weight(page: Page) -> int:
    """How heavy a page is for a worker's chunk of results: a record or index page 1; a data page (a part of the
    bibliography, timeline or glossary lists hundreds of entries, 90 KB at 10,000 records) 8."""
    return 1 if page.kind in ("record", "collection") else 8


class _PageRenderer:
    """Renders one page at a time; holds what every page shares (Jinja, views)."""

    def __init__(
        self,
        site: Site,
        templates: dict[str, bytes],
        urls: Urls,
        noting: bool = False,
        order: dict[str, Sequence[Record]] | None = None,
        compiled: Path | None = None,
    ) -> None:
        self.site = site
        config = site.content.config
        self.env = environment(templates, config.interface, compiled)
        self.templates, self.compiled = templates, compiled
        self.errors: set[SiteError] = set()
        self.chart_template = _template(self.env, "chart.html", ("templates/record.html", 1, 1), self.errors)
        self.views = Views(site, urls, self.chart_html, noting, order)
        self.spliceable: dict[str, bool] = {}  # template -> whether it shows `body` once, bare

    def chart_html(self, ctx: dict[str, Any]) -> str:
        return self.chart_template.render(chart=ctx) if self.chart_template else ""

    def render(self, page: Page) -> Rendered:
        """The page's bytes, or the located template error (as plain fields, cheap to send between processes); and
        for a record page, when noting, how its prose sits in it."""
        problems: set[SiteError] = set()
        template = _template(self.env, page.template, _template_owner(self.site, page), problems)
        if template is None:
            e = problems.pop()
            return None, (e.path, e.message, e.hint, e.line, e.col), None
        try:
            context, prose = self.views.context(page)
        except SiteError as problem:  # content that cannot be rendered, found while rendering
            return None, (problem.path, problem.message, problem.hint, problem.line, problem.col), None
        try:
            html = template.render(context).encode("utf-8")
        except Exception as exc:  # anything raised inside a template is the template's problem
            located = _located(exc, page.template)
            return None, (located.path, located.message, located.hint, located.line, located.col), None
        if prose is None:
            return html, None, None
        noted = note(html, prose) if prose.spliceable and self._spliceable(page.template) else None
        return html, None, (prose.path, prose.digest, noted or b"")  # b"": shows the prose, cannot splice it

    def _spliceable(self, name: str) -> bool:
        if name not in self.spliceable:
            self.spliceable[name] = _shows_body_once(self.env, self.templates, name, self.compiled)
        return self.spliceable[name]


def _shows_body_once(env: jinja2.Environment, templates: dict[str, bytes], name: str, compiled: Path | None) -> bool:
    """`shows_body_once`, kept beside the compiled templates (one file per template) under a hash of the engine and
    every template: the answer needs each template of the page parsed, 0.04 s of a 0.5 s one-edit build."""
    if compiled is None:
        return shows_body_once(env, name)
    digest = hashlib.sha256(marshal.dumps((engine_digest(), name, sorted(templates.items())))).hexdigest().encode()
    kept = compiled / f"body-once-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
    with contextlib.suppress(OSError):
        said = kept.read_bytes()
        if said[:-1] == digest and said[-1:] in (b"0", b"1"):
            return said[-1:] == b"1"
    answer = shows_body_once(env, name)
    with contextlib.suppress(OSError):  # written aside and renamed: workers may write it at once
        temp = kept.with_name(f"{kept.name}.{os.getpid()}")
        temp.write_bytes(digest + (b"1" if answer else b"0"))
        os.replace(temp, kept)
    return answer


def _template(env: jinja2.Environment, name: str, owner: tuple[str, int, int], errors: set[SiteError]) -> jinja2.Template | None:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        errors.add(
            SiteError(
                f"templates/{exc.name or name}", f"template syntax error: {exc.message}", "fix the Jinja syntax", exc.lineno or 1
            )
        )
    except jinja2.TemplateNotFound as exc:
        path, line, col = owner
        chosen = " or remove 'template:'" if path == "content/site.yaml" else ""
        errors.add(SiteError(path, f"template '{exc.name}' not found", f"create templates/{exc.name}{chosen}", line, col))
    except SiteError as exc:
        errors.add(exc)
    return None


def _template_owner(site: Site, page: Page) -> tuple[str, int, int]:
    """Where a page's template is chosen: its collection's `template:` in site.yaml, else the template itself."""
    if page.kind != "record":
        return f"templates/{page.template}", 1, 1
    line, col = site.content.config.marks.get(("collections", page.address.split("/")[0], "template"), (1, 1))
    return "content/site.yaml", line, col


def _located(exc: Exception, name: str) -> SiteError:
    """The template file and line where rendering failed, from the traceback Jinja rewrites."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return SiteError(
            f"templates/{exc.name or name}", f"template syntax error: {exc.message}", "fix the Jinja syntax", exc.lineno or 1
        )
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("templates/")]
    path, line = (frames[-1].filename, frames[-1].lineno or 1) if frames else (f"templates/{name}", 1)
    if isinstance(exc, jinja2.UndefinedError):
        return SiteError(path, f"undefined value: {exc.message}", "check the name, or guard it with {% if … is defined %}", line)
    if isinstance(exc, jinja2.TemplateNotFound):
        return SiteError(path, f"template '{exc.name}' not found", f"create templates/{exc.name}", line)
    return SiteError(path, f"template error: {type(exc).__name__}: {exc}", "fix the template", line)


def extra_files(
    sites: list[Site],
    pages: list[Page],
    urls: Urls,
    static: dict[str, bytes],
    keep: frozenset[str] = frozenset(),
    pieces: PieceStore | None = None,
) -> Iterator[tuple[str, Data]]:
    """Static assets, published schemas, sitemap.xml, robots.txt, .nojekyll, downloads (but those in `keep`, which
    are unchanged; made from the records' `pieces` where they are kept) and a feed per edition, one by one."""
    site = sites[0]
    yield from ((f"static/{name}", data) for name, data in static.items())
    for coll, schema in site.content.schemas.items():
        name = site.content.schema_files[coll].rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
        published = json.dumps(editor_schema(schema), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        yield f"schemas/{name}.json", published.encode()
    yield "sitemap.xml", sitemap(sites, pages, urls)
    yield "robots.txt", f"User-agent: *\nAllow: /\nSitemap: {urls.absolute('sitemap.xml')}\n".encode()
    yield NOJEKYLL, b""
    yield from data_files(site, urls, keep, pieces)
    for edition in sites:
        yield edition.prefix + FEED, atom(edition, urls, edition.dates)


def sitemap(sites: list[Site], pages: list[Page], urls: Urls) -> bytes:
    """Every page of every edition; with several languages, each page names its versions in the others."""
    dates = sites[0].dates
    languages = [s.language for s in sites]

    def alternates(page: Page) -> str:
        if len(sites) < 2:
            return ""
        paths = versions(page, languages)
        links = [(lang.code, path) for lang, path in paths] + [("x-default", paths[0][1])]
        return "".join(
            f'<xhtml:link rel="alternate" hreflang="{code}" href="{xml_text(urls.absolute(p))}"/>' for code, p in links
        )

    entries = "".join(
        f"<url><loc>{xml_text(urls.absolute(p.path))}</loc>{_lastmod(dates.get(p.address))}{alternates(p)}</url>\n"
        for p in pages
        if p.kind not in ("404", "search")
    )
    xhtml = ' xmlns:xhtml="http://www.w3.org/1999/xhtml"' if len(sites) > 1 else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{xhtml}>\n'
        f"{entries}</urlset>\n"
    ).encode()


def _lastmod(date: str | None) -> str:
    return f"<lastmod>{date}</lastmod>" if date else ""
