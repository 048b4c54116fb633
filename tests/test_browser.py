"""Browser quality gates over every page of the real site (content/), built once and served under its base path.

Each gate is one test: axe-core (WCAG 2.1 A and AA, light and dark), the Nu HTML Checker, the project's link
checker, console errors and failed requests, page weight, sideways scrolling on a 360 px phone, the skip link,
visible focus, table and chart semantics, and screenshots for people to look at. Every page is visited once per
colour scheme and the answers are shared by the tests. Screenshots and the weight report go to test-artifacts/.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest

from site_builder.check import check_links
from site_builder.urls import Urls

from .conftest import AXE_URL, BASE_URL, MOUNT, REPO, TOOLS, Site, need_tool

ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BUDGET = 14 * 1024  # bytes, gzip -9: a page's HTML plus its CSS must arrive in the first round trip
PHONE, DESKTOP = 360, 1280
SHOWCASE = {  # the pages a person looks at before a release: one of each kind a reader meets
    "home": "",
    "company": "companies/tesla/",
    "policy": "policies/nev-subsidies/",
    "timeline": "timeline/",
    "charts": "charts/",
    "about-the-source": "about-the-source/",
    "zh-home": "zh/",  # the Chinese edition (issue 15)
    "zh-company": "zh/companies/catl/",
}
FOCUS_PAGES = ["", "companies/tesla/", "glossary/", "search/"]  # every kind of focusable thing the templates make


# --- One visit per page and colour scheme, shared by the tests below ---

INSPECT = """() => {
  const name = el => el.id ? '#' + el.id : el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
  const tables = [...document.querySelectorAll('table')].map((t, i) => {
      const why = !t.caption?.textContent.trim() ? 'no caption' : !t.querySelector('th') ? 'no th headers' : '';
      const head = (t.rows[0]?.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
      return why && `table ${i + 1} ("${head}") has ${why}`;
  }).filter(Boolean);
  const charts = [...document.querySelectorAll('svg')].filter(svg => {
      const ids = (svg.getAttribute('aria-labelledby') || '').split(/\\s+/);
      const labels = ids.map(id => document.getElementById(id)).filter(Boolean).map(e => e.tagName.toLowerCase());
      return svg.getAttribute('role') !== 'img' || !svg.querySelector(':scope > title')?.textContent.trim()
          || !svg.querySelector(':scope > desc')?.textContent.trim()
          || !labels.includes('title') || !labels.includes('desc');
  }).map(name);
  return {scrollWidth: document.documentElement.scrollWidth, tables, charts};
}"""
AXE_START = "tags => { window.__axe = axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
AXE_START += ".then(r => r.violations); }"


@dataclass
class Visit:
    scroll_width: int = 0
    tables: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # console errors, page errors, failed or off-site requests


class Tab:
    """One browser tab in one colour scheme and width, visiting pages one after another and noting what it finds."""

    def __init__(self, browser: Any, origin: str, scheme: str, width: int) -> None:
        self.origin, self.visits, self.now = origin, dict[str, Visit](), Visit()
        self.context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 800})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.now.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.now.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.now.errors.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.now.errors.append(f"HTTP {r.status}: {r.url}"))
        self.page.on("request", lambda r: r.url.startswith((origin, "data:")) or self.now.errors.append(f"off-site: {r.url}"))

    def start(self, site: Site, name: str) -> None:
        """Load the page, check its DOM, and set axe running in the tab without waiting for it."""
        self.now = self.visits[name] = Visit()
        self.page.goto(self.origin + MOUNT + "/" + site.url_path(name), wait_until="networkidle" if "search" in name else "load")
        facts = self.page.evaluate(INSPECT)
        self.now.scroll_width, self.now.tables, self.now.charts = facts["scrollWidth"], facts["tables"], facts["charts"]
        self.page.add_script_tag(url=self.origin + AXE_URL)
        self.page.evaluate(AXE_START, WCAG)

    def finish(self) -> None:
        for v in self.page.evaluate("() => window.__axe"):
            targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
            self.now.violations.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes: {targets}): {v['help']}")


@pytest.fixture(scope="session")
def visits(browser: Any, server: str, site: Site) -> dict[str, dict[str, Visit]]:
    """Every page, light on a phone and dark on a desktop: both schemes and both layouts, in two tabs at once."""
    origin = server.removesuffix(MOUNT + "/")
    tabs = {"light": Tab(browser, origin, "light", PHONE), "dark": Tab(browser, origin, "dark", DESKTOP)}
    for name in site.pages:
        for tab in tabs.values():
            tab.start(site, name)
        for tab in tabs.values():  # axe runs in both tabs' renderers in parallel
            tab.finish()
    for tab in tabs.values():
        tab.context.close()
    return {scheme: tab.visits for scheme, tab in tabs.items()}


def problems(visits: dict[str, dict[str, Visit]], what: str) -> list[str]:
    return [f"{scheme} {page}: {p}" for scheme, pages in visits.items() for page, v in pages.items() for p in getattr(v, what)]


# --- The gates ---


def test_every_page_was_visited(site: Site, visits: dict[str, dict[str, Visit]]) -> None:
    assert len(site.pages) > 40 and "index.html" in site.pages and "404.html" in site.pages
    assert all(list(v) == site.pages for v in visits.values())


def test_axe_finds_no_wcag21_aa_violations_in_light_or_dark(visits: dict[str, dict[str, Visit]]) -> None:
    found = problems(visits, "violations")
    assert found == [], "\n".join(found)


def test_no_console_errors_and_no_failed_requests(visits: dict[str, dict[str, Visit]]) -> None:
    found = problems(visits, "errors")
    assert found == [], "\n".join(found)


def test_no_sideways_scrolling_on_a_360px_phone(visits: dict[str, dict[str, Visit]]) -> None:
    wide = {page: v.scroll_width for page, v in visits["light"].items() if v.scroll_width > PHONE}
    assert wide == {}


def test_tables_have_captions_and_headers_and_charts_are_labelled_images(visits: dict[str, dict[str, Visit]]) -> None:
    found = problems(visits, "tables") + problems(visits, "charts")
    assert found == [], "\n".join(found)


def test_nu_html_checker_finds_no_errors(site: Site) -> None:
    need_tool(shutil.which("java") is not None, "Java not installed: apt-get install default-jre-headless")
    need_tool(VNU.is_file(), "vnu.jar missing: cd tests/tools && npm ci")
    run = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--skip-non-html", "--also-check-css", str(site.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = (run.stdout + run.stderr).replace(site.root.as_uri(), "")
    assert run.returncode == 0 and report.strip() == "", report


def test_every_link_asset_and_anchor_resolves(site: Site) -> None:
    files = {p.relative_to(site.root).as_posix(): p.read_bytes() for p in site.root.rglob("*") if p.is_file()}
    found = [str(e) for e in check_links(files, Urls(BASE_URL))]
    assert found == [], "\n".join(found)


STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def weight(site: Site, page: str) -> tuple[int, int]:
    """(HTML, HTML plus every stylesheet it links), in bytes after gzip -9."""
    html = (site.root / page).read_bytes()
    base_path = Urls(BASE_URL).base_path
    css = [site.root / href.removeprefix(base_path) for href in STYLESHEET.findall(html.decode("utf-8"))]
    sizes = [len(gzip.compress(b, 9)) for b in [html, *(f.read_bytes() for f in css)]]
    return sizes[0], sum(sizes)


def test_every_page_with_its_css_fits_in_14_kb_gzipped(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    sizes = sorted(((*weight(site, p), p) for p in site.pages), key=lambda s: -s[1])
    lines = [f"{total:>6} {html:>6}  {page}" for html, total, page in sizes]
    report = f"Heaviest pages (gzip -9 bytes; budget {BUDGET}): total (HTML+CSS), HTML, page\n" + "\n".join(lines) + "\n"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "weight.txt").write_text(report, encoding="utf-8")
    with capsys.disabled():
        print("\n" + "\n".join(report.splitlines()[:6]))
    over = [line for line, (_, total, _) in zip(lines, sizes, strict=True) if total > BUDGET]
    assert over == [], "\n".join(over)


def test_no_javascript_needed_to_read_any_page(site: Site, browser: Any, server: str) -> None:
    """Scripts are data (JSON-LD) everywhere but the search page, which lists the indexes for readers without it."""
    for page in site.pages:
        scripts = [s for s in SCRIPT.findall((site.root / page).read_text(encoding="utf-8")) if "application/ld+json" not in s]
        assert scripts == [] or page.removeprefix("zh/") == "search/index.html", page  # each edition has its search page
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(server + "search/")
    browse = tab.locator("main a").count()
    tab.goto(server + "companies/tesla/")
    text = tab.inner_text("main")
    context.close()
    assert browse >= 5 and "Tesla" in text and len(text) > 2000


# --- Keyboard ---


def test_skip_link_is_first_visible_on_focus_and_moves_focus_to_main(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": PHONE, "height": 700})
    tab = context.new_page()
    tab.goto(server + "companies/tesla/")
    tab.keyboard.press("Tab")
    skip = tab.evaluate(
        "() => { const a = document.activeElement, r = a.getBoundingClientRect();"
        " return {cls: a.className, text: a.textContent, visible: r.width > 0 && r.top >= 0 && r.left >= 0"
        " && r.right <= innerWidth && getComputedStyle(a).opacity !== '0'}; }"
    )
    tab.keyboard.press("Enter")
    tab.wait_for_function("document.activeElement.id === 'main'", timeout=2000)
    tab.keyboard.press("Tab")
    inside = tab.evaluate("() => document.getElementById('main').contains(document.activeElement)")
    context.close()
    assert skip == {"cls": "skip-link", "text": "Skip to content", "visible": True}
    assert inside


RING = """() => {
  window.__ring = el => {
    const s = getComputedStyle(el), parts = [];
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
      parts.push(`outline ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`);
    if (s.boxShadow !== 'none') parts.push(`shadow ${s.boxShadow}`);
    return parts.join(', ');
  };
  const focusable = document.querySelectorAll('a[href], button, input, summary, [tabindex]');
  window.__unfocused = new Map([...focusable].map(el => [el, __ring(el)]));
}"""
FOCUSED = """() => { const el = document.activeElement, ring = __ring(el);
  return {el: el.outerHTML.slice(0, 100), skip: el.classList.contains('skip-link'), body: el === document.body,
          ok: ring !== '' && ring !== __unfocused.get(el)}; }"""


def test_focus_is_visible_on_every_tab_stop(browser: Any, server: str) -> None:
    """Tab through whole pages: each focused element gains an outline or box-shadow it does not have unfocused."""
    context = browser.new_context(viewport={"width": DESKTOP, "height": 800})
    tab = context.new_page()
    bad, stops = [], 0
    for path in FOCUS_PAGES:
        tab.goto(server + path, wait_until="networkidle")
        tab.evaluate(RING)
        for step in range(1000):
            tab.keyboard.press("Tab")
            now = tab.evaluate(FOCUSED)
            if step and (now["skip"] or now["body"]):
                break  # round the page and back to the start
            stops += 1
            if not now["ok"]:
                bad.append(f"{path or 'home'}: {now['el']}")
    context.close()
    assert stops > 100 and bad == [], "\n".join(bad)


# --- Screenshots for people ---


def test_screenshots_of_key_pages_on_phone_and_desktop_in_light_and_dark(browser: Any, server: str) -> None:
    """Full-page PNGs in test-artifacts/screenshots/, named page-width-scheme.png, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    made = []
    for scheme in ("light", "dark"):
        for width in (PHONE, DESKTOP):
            context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 800})
            tab = context.new_page()
            for name, path in SHOWCASE.items():
                tab.goto(server + path)
                shot = SCREENSHOTS / f"{name}-{width}-{scheme}.png"
                tab.screenshot(path=str(shot), full_page=True)
                made.append(shot)
            context.close()
    assert len(made) == 4 * len(SHOWCASE) and all(s.stat().st_size > 10_000 for s in made)
