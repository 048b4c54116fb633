"""Reader gates (issue 13): what a reader sees on every page of the real site, measured in headless Chromium.

Every page is loaded once, measured at 1280 px, then narrowed to 360 px and measured again; the tests below judge
those measurements. Tables fit or reflow, chart text is legible and does not collide, visible text carries no
doubled glossary phrase, doubled marker or internal jargon, provenance markers are quiet, single and truthful to the
content's own sources, timelines are in date order, and search excerpts are clean. Each failure lists every
offending page and element.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import MOUNT, REPO, Site

PHONE, DESKTOP = 360, 1280
NARROW_COLUMN = 100  # px: a cell this narrow ...
MAX_LINES = 12  # ... with more lines than this is a squeezed column (issue 13 saw 90 px and 40 lines)
MIN_CHART_TEXT = 11  # CSS px, as rendered
MAX_LOUD_MARKS = 10
MIN_LABEL_GAP = 6  # px between an infobox label and its value on the same line
SEARCH_QUERIES = ["tesla", "CATL"]
CONTENT = REPO / "content"

pytestmark = pytest.mark.xdist_group("reader")  # under `-n auto --dist loadgroup`, one worker visits the pages once


# --- In the page: one evaluate per measurement, every element at once ---

TABLES = """([narrow, maxLines]) => {
  const vw = document.documentElement.clientWidth, found = [];
  const squash = s => (s || '').trim().replace(/\\s+/g, ' ');
  const clip = el => {  // the horizontal span of the screen that el's content can show without scrolling
    let left = 0, right = vw;
    for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const r = a.getBoundingClientRect();
      left = Math.max(left, r.left + a.clientLeft);
      right = Math.min(right, r.left + a.clientLeft + a.clientWidth);
    }
    return [left, right];
  };
  const hidden = (el, top) => {  // display: none, or visually hidden (a reflowed table's header row, for one)
    for (let a = el; a && a !== top; a = a.parentElement) {
      const r = a.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1 || getComputedStyle(a).clipPath !== 'none') return true;
    }
    return false;
  };
  document.querySelectorAll('table').forEach((t, i) => {
    if (!t.getClientRects().length) return;
    const name = `table ${i + 1} "${squash(t.caption?.innerText || t.rows[0]?.innerText).slice(0, 50)}"`;
    const row = t.querySelector('tbody tr') || t.querySelector('tr'), wrap = t.parentElement;
    const reflowed = !!row && getComputedStyle(row).display !== 'table-row';  // laid out as rows of blocks at this width
    if (!reflowed && t.scrollWidth > wrap.clientWidth + 1)
      found.push(`${name}: ${t.scrollWidth} px wide in a ${wrap.clientWidth} px box (not reflowed)`);
    const [left, right] = clip(t), cut = [], squeezed = [];
    for (const cell of t.querySelectorAll('caption, th, td')) {
      if (hidden(cell, t.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(cell);
      const boxes = [...range.getClientRects()].filter(r => r.width > 0);
      if (boxes.some(r => r.left < left - 1 || r.right > right + 1)) cut.push(squash(cell.innerText).slice(0, 30));
      const s = getComputedStyle(cell), width = cell.getBoundingClientRect().width;
      const lineHeight = parseFloat(s.lineHeight) || 1.2 * parseFloat(s.fontSize);
      const lines = Math.round(range.getBoundingClientRect().height / lineHeight);
      if (width < narrow && lines > maxLines)
        squeezed.push(`${Math.round(width)} px wide, ${lines} lines: "${squash(cell.innerText).slice(0, 30)}"`);
    }
    if (cut.length) found.push(`${name}: ${cut.length} cells cut off, e.g. "${cut.slice(0, 3).join('", "')}"`);
    if (squeezed.length) found.push(`${name}: squeezed column, ${squeezed.slice(0, 3).join('; ')}`);
  });
  return found;
}"""

CHARTS = """(minPx) => {
  const found = [];
  const squash = s => (s || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
      && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  document.querySelectorAll('figure.chart').forEach((fig, i) => {
    const name = fig.id || `chart ${i + 1}`, boxes = [];
    for (const svg of fig.querySelectorAll('svg')) {
      if (!svg.getClientRects().length) continue;
      const small = [];
      for (const t of svg.querySelectorAll('text')) {
        if (!t.textContent.trim() || !t.getClientRects().length) continue;
        const m = t.getScreenCTM(), px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
        if (px < minPx - 0.05) small.push(`"${squash(t.textContent)}" ${px.toFixed(1)} px`);
        boxes.push([t, `"${squash(t.textContent)}"`]);
      }
      if (small.length) found.push(`${name}: ${small.length} texts under ${minPx} px, e.g. ${small.slice(0, 3).join(', ')}`);
      for (const r of svg.querySelectorAll('rect, circle')) {  // legend swatches: small shapes that are no data
        const b = r.getBBox();
        if (r.querySelector('title') || b.width > 24 || b.height > 24) continue;
        boxes.push([r, `swatch ${r.getAttribute('class') || ''}`]);
      }
    }
    for (const el of fig.querySelectorAll('[class*="legend"] > *, [class*="swatch"]')) {  // a legend in HTML
      if (el.closest('svg') || !el.getClientRects().length) continue;
      boxes.push([el, `legend "${squash(el.textContent)}"`]);
      const px = parseFloat(getComputedStyle(el).fontSize);
      if (el.textContent.trim() && px < minPx - 0.05) found.push(`${name}: legend "${squash(el.textContent)}" is ${px} px`);
    }
    const rects = boxes.map(([el]) => el.getBoundingClientRect());
    for (let a = 0; a < boxes.length; a++)
      for (let b = a + 1; b < boxes.length; b++) {
        const [x, y] = [boxes[a][0], boxes[b][0]];
        if (x.contains(y) || y.contains(x) || !overlap(rects[a], rects[b])) continue;
        found.push(`${name}: ${boxes[a][1]} overlaps ${boxes[b][1]}`);
      }
  });
  return found;
}"""

LABELS = """(minGap) => {  // a definition list's label that runs into its value on the same line
  const squash = s => (s || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
  const lines = el => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return [...r.getClientRects()].filter(q => q.width > 0);
  };
  return [...document.querySelectorAll('dt')].flatMap(dt => {
    const dd = dt.nextElementSibling;
    if (!dd || dd.tagName !== 'DD' || !dt.getClientRects().length) return [];
    const label = lines(dt), value = lines(dd);
    const gaps = label.flatMap(a => value.filter(b => Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2
        && b.right > a.left && b.left >= a.left).map(b => b.left - a.right));
    const gap = Math.min(...gaps);
    return gap < minGap ? [`"${squash(dt.innerText)}" is ${gap.toFixed(1)} px from its value "${squash(dd.innerText)}"`] : [];
  });
}"""

TEXT = """() => {
  const shut = [...document.querySelectorAll('details:not([open])')];
  shut.forEach(d => { d.open = true; });  // a reader can open them all
  const block = 'p, li, dd, dt, td, th, caption, figcaption, h1, h2, h3, h4, h5, h6, blockquote, div';
  const links = [...document.querySelectorAll('a.term, a[href*="/glossary/"]')].filter(a => a.closest('main')).map(a => {
    const box = a.parentElement.closest(block) || a.parentElement, before = document.createRange();
    const after = document.createRange();
    before.setStart(box, 0);
    before.setEndBefore(a);
    after.setStartAfter(a);
    after.setEnd(box, box.childNodes.length);
    return {text: a.textContent, title: a.title || '', before: before.toString().slice(-80),
            after: after.toString().slice(0, 80)};
  });
  const text = document.body.innerText;
  shut.forEach(d => { d.open = false; });
  return {text, links};
}"""

MARKS = """() => {
  const kind = el => el.className.includes('unconfirmed') ? 'unconfirmed' : el.className.includes('weak') ? 'weak' : 'other';
  const marks = el => [...el.querySelectorAll('.mark, .flag')].map(kind);
  const visible = c => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
  const loud = el => [el, ...el.querySelectorAll('*')].some(e => {
    const s = getComputedStyle(e);
    const border = ['Top', 'Right', 'Left'].some(side => s[`border${side}Style`] !== 'none'  // a box, not an underline
        && parseFloat(s[`border${side}Width`]) > 0 && visible(s[`border${side}Color`]));
    return border || visible(s.backgroundColor) || s.backgroundImage !== 'none';
  });
  const squash = s => (s || '').trim().replace(/\\s+/g, ' ');
  const all = [...document.querySelectorAll('.mark, .flag')].filter(el => el.getClientRects().length);
  const rows = [...document.querySelectorAll('tr')].map(tr => {
    const counts = {};
    for (const k of marks(tr)) counts[k] = (counts[k] || 0) + 1;
    return {row: squash(tr.innerText).slice(0, 50), counts};
  }).filter(r => Object.values(r.counts).some(n => n > 1));
  const infobox = [...document.querySelectorAll('aside.infobox dt')].map(dt => {
    const kinds = [];
    for (let dd = dt.nextElementSibling; dd && dd.tagName === 'DD'; dd = dd.nextElementSibling) kinds.push(...marks(dd));
    return {label: squash(dt.innerText), kinds};
  });
  const index = [...document.querySelectorAll('tbody tr')].map(tr => {  // a row per record: its link, its cells' marks
    const a = tr.querySelector('th[scope=row] a[href]'), heads = tr.closest('table').tHead?.rows[0]?.cells || [];
    const cells = Object.fromEntries([...tr.cells].map((c, i) => [c.dataset.label || squash(heads[i]?.innerText), marks(c)]));
    return a && {href: a.getAttribute('href'), cells};
  }).filter(Boolean);
  return {loud: all.filter(loud).map(el => squash(el.parentElement.innerText).slice(0, 40)), rows, infobox, index};
}"""

EVENTS = """() => [...document.querySelectorAll('li.event')].map(li => {
  const time = li.querySelector('time[datetime]');
  return {datetime: time?.getAttribute('datetime') || '', when: (time?.textContent || '').trim(),
          text: li.innerText.trim().replace(/\\s+/g, ' ')};
})"""

SEARCH = """async ([bundle, queries]) => {
  const pf = await import(bundle + 'pagefind.js'), found = {};
  for (const q of queries) {
    const r = await pf.search(q);
    found[q] = await Promise.all(r.results.slice(0, 10).map(async x => { const d = await x.data();
      return {url: d.url, excerpt: d.excerpt}; }));
  }
  return found;
}"""


@dataclass
class Seen:
    """What one page shows a reader."""

    tables: dict[int, list[str]] = field(default_factory=dict)  # width -> problems
    labels: dict[int, list[str]] = field(default_factory=dict)
    charts: dict[int, list[str]] = field(default_factory=dict)
    text: str = ""
    links: list[dict[str, str]] = field(default_factory=list)
    marks: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def seen(browser: Any, server: str, site: Site) -> dict[str, Seen]:
    """Every page, loaded once: measured at 1280 px, then at 360 px after the window narrows."""
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900})
    tab = context.new_page()
    found: dict[str, Seen] = {}
    for page in site.pages:
        now = found[page] = Seen()
        tab.set_viewport_size({"width": DESKTOP, "height": 900})
        tab.goto(server + site.url_path(page), wait_until="load")
        measure(tab, now, DESKTOP)
        now.marks = tab.evaluate(MARKS)
        now.events = tab.evaluate(EVENTS) if page.startswith("timeline/") else []
        read = tab.evaluate(TEXT)
        now.text, now.links = read["text"], read["links"]
        tab.set_viewport_size({"width": PHONE, "height": 800})
        measure(tab, now, PHONE)
    context.close()
    return found


def measure(tab: Any, now: Seen, width: int) -> None:
    now.tables[width] = tab.evaluate(TABLES, [NARROW_COLUMN, MAX_LINES])
    now.charts[width] = tab.evaluate(CHARTS, MIN_CHART_TEXT)
    now.labels[width] = tab.evaluate(LABELS, MIN_LABEL_GAP)


def report(found: Iterable[str]) -> str:
    found = list(found)
    return f"{len(found)} problems:\n" + "\n".join(found)


# --- 1 and 2: tables and charts at both widths ---


def test_every_table_fits_its_box_or_reflows_and_no_column_is_squeezed(seen: dict[str, Seen]) -> None:
    found = [f"{page} @{w}: {p}" for page, s in seen.items() for w, ps in s.tables.items() for p in ps]
    assert found == [], report(found)


def test_every_page_links_the_charts_from_its_main_navigation(site: Site) -> None:
    nav = re.compile(r'<nav class="site-nav".*?</nav>', re.S)
    missing = [p for p in site.pages if "/charts/" not in "".join(nav.findall((site.root / p).read_text(encoding="utf-8")))]
    assert missing == [], report(missing)


def test_chart_text_is_legible_and_labels_do_not_overlap(seen: dict[str, Seen], site: Site) -> None:
    assert '<figure class="chart"' in (site.root / "charts/index.html").read_text(encoding="utf-8")  # charts to judge
    found = [f"{page} @{w}: {p}" for page, s in seen.items() for w, ps in s.charts.items() for p in ps]
    assert found == [], report(found)


def test_no_label_touches_its_value(seen: dict[str, Seen]) -> None:
    """An infobox label ("Role in the story") keeps clear of its value at both widths."""
    found = [f"{page} @{w}: {p}" for page, s in seen.items() for w, ps in s.labels.items() for p in ps]
    assert found == [], report(found)


BACKLINKS = re.compile(r'<section class="backlinks".*?</section>', re.S)
HREF = re.compile(r'href="([^"#]+)"')


def test_what_links_here_names_each_page_once(site: Site) -> None:
    found = []
    for page in site.pages:
        hrefs = HREF.findall("".join(BACKLINKS.findall((site.root / page).read_text(encoding="utf-8"))))
        found += [f"{page}: {h} listed {hrefs.count(h)} times" for h in sorted(set(hrefs)) if hrefs.count(h) > 1]
    assert found == [], report(found)


# --- 3: visible text ---

WORDS = r"[\w’'.-]+"
DOUBLED = [  # phrases a linker doubles: "X (X)", "(X) (X)", "(… programme) programme"
    re.compile(rf"(?<![\w’'-])((?:{WORDS}\s+){{0,6}}{WORDS}) \(\1\)", re.I),
    re.compile(r"\(([^()]{1,80})\)\s*\(\1\)", re.I),
    re.compile(r"(?<![\w-])([A-Za-z]{3,})\) \1(?![\w-])", re.I),
]
DOUBLED_MARKS = [
    re.compile(r"unconfirmed[\s\[\](),.;:]*unconfirmed", re.I),
    re.compile(r"weak(?: source)?[\s\[\](),.;:]*weak source", re.I),
]
JARGON = [  # internal wording and placeholders no reader should meet
    "researcher's knowledge",
    "researcher",
    "rated weak by the research",
    "no stored source",
    "_es in the address",
    "site_builder contributors",
    "example.github.io",
]
JARGON_RE = re.compile("|".join(re.escape(j) for j in sorted(JARGON, key=len, reverse=True)), re.I)
SOURCE_ID = re.compile(r"\bS\d{2}[a-z]?\b")


def text_problems(text: str) -> list[str]:
    """Doubled phrases, doubled markers, jargon and source ids in a page's visible text."""
    text = text.replace("’", "'")
    found = [f"doubled phrase {m.group(0)!r}" for pattern in DOUBLED for m in pattern.finditer(text)]
    found += [f"doubled marker {m.group(0)!r}" for pattern in DOUBLED_MARKS for m in pattern.finditer(text)]
    found += grouped("jargon", JARGON_RE.finditer(text), text)
    found += grouped("source id", SOURCE_ID.finditer(text), text)
    return found


def grouped(what: str, matches: Iterable[re.Match[str]], text: str) -> list[str]:
    """One line per distinct match: how often, and where first."""
    first: dict[str, tuple[int, int]] = {}
    for m in matches:
        at, n = first.get(m.group(0).lower(), (m.start(), 0))
        first[m.group(0).lower()] = (at, n + 1)
    return [f"{what} {word!r} x{n}, first in {context(text, at, len(word))!r}" for word, (at, n) in first.items()]


def context(text: str, at: int, length: int) -> str:
    return " ".join(text[max(0, at - 30) : at + length + 30].split())


def norm(s: str) -> str:
    return " ".join(s.lower().replace("’", "'").split())


def link_problems(link: dict[str, str]) -> list[str]:
    """A glossary link followed by its own words in brackets, a word repeated across it, or brackets inside brackets."""
    text, after, before = link["text"], link["after"], link["before"]
    expansion = link["title"].split(":")[0]
    inner = re.match(r"\s*\(([^()]*)\)", after)
    found = []
    if inner and norm(inner.group(1)) in {norm(text), norm(expansion) if norm(expansion) == norm(text) else ""}:
        found.append(f"link {text!r} followed by ({inner.group(1)})")
    last, nxt = re.findall(r"[\w-]+", text)[-1:], re.match(r"\W*([\w-]+)", after)
    if last and nxt and norm(last[0]) == norm(nxt.group(1)) and len(last[0]) > 2:
        found.append(f"link {text!r} followed by the same word {after[:30]!r}")
    if "(" in text and before.rstrip().endswith("("):
        found.append(f"link {text!r} with brackets, inside brackets: {(before[-20:] + text + after[:5])!r}")
    return found


def test_text_checks_catch_what_issue_13_saw() -> None:
    """The text gate fails on each phrase a reader reported (so it is not vacuous)."""
    for bad in [
        "a machine translation (Machine translation) of it",
        "BMW Brilliance Automotive (BBA) (BBA) is",
        "zero-emission vehicle (ZEV programme) programme",
        "the name is unconfirmed [unconfirmed].",
        "Tesla, Inc.unconfirmed(Researcher's knowledge)",
        "a weak sourceweak source",
        "In English despite the _es in the address (S73d)",
        "site_builder contributors, https://example.github.io/x/",
    ]:
        assert text_problems(bad), bad
    assert text_problems("NEV (new energy vehicle) and joint venture (JV), iPhone 12, 2020 (S&P)") == []

    def link(text: str, before: str, after: str, title: str = "") -> dict[str, str]:
        return {"text": text, "title": title, "before": before, "after": after}

    assert link_problems(link("ZEV programme", "zero-emission vehicle (", ") programme."))
    assert link_problems(link("Hong Kong Exchanges and Clearing (the exchange)", "HKEX (", ")"))
    assert link_problems(link("machine translation", "a ", " (Machine translation)", "Machine translation: by software"))
    assert link_problems(link("NEV", "", " (new energy vehicle)", "NEV: new energy vehicle")) == []


def test_visible_text_has_no_doubled_phrases_doubled_markers_or_internal_jargon(seen: dict[str, Seen]) -> None:
    found = [f"{page}: {p}" for page, s in seen.items() for p in text_problems(s.text)]
    found += [f"{page}: {p}" for page, s in seen.items() for link in s.links for p in link_problems(link)]
    assert found == [], report(found)


# --- 4: markers ---


def test_no_page_shows_more_than_10_loud_marker_badges(seen: dict[str, Seen]) -> None:
    loud = {page: s.marks["loud"] for page, s in seen.items() if len(s.marks["loud"]) > MAX_LOUD_MARKS}
    found = [f"{page}: {len(marks)} loud badges, e.g. {marks[:2]}" for page, marks in loud.items()]
    assert found == [], report(found)


def test_a_marker_appears_at_most_once_in_a_table_row(seen: dict[str, Seen]) -> None:
    found = [f"{page}: row {r['row']!r} has {r['counts']}" for page, s in seen.items() for r in s.marks["rows"]]
    assert found == [], report(found)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def expected_marker(fact: dict[str, Any], weak: set[str]) -> str | None:
    """The marker a fact's sources earn (SPEC.md): its status, else weak when every source is weak, else none."""
    if fact.get("status"):
        return str(fact["status"])
    sources = fact.get("sources") or []
    return "weak" if sources and all(s in weak for s in sources) else None


@dataclass(frozen=True)
class Fact:
    """A scalar fact of a record, where it is shown, and the marker its sources earn."""

    page: str  # the record's page: 'companies/tesla/index.html'
    index: str  # its collection's index page, when the fact is one of the index's columns, else ''
    path: str  # the record's address below the site root: 'companies/tesla/'
    key: str
    label: str  # the schema's title: the infobox row's and the index column's heading
    marker: str | None


def expected_markers() -> list[Fact]:
    """Every scalar fact (a top-level mapping with a value) of every record in content/."""
    site = load(CONTENT / "site.yaml")
    weak = {s["id"] for s in load(CONTENT / "sources.yaml") if s.get("reliability") == "weak"}
    found = []
    for name, collection in site["collections"].items():
        titles = {k: v.get("title", k) for k, v in load(CONTENT / collection["schema"])["properties"].items()}
        index = collection["url"].split("{slug}")[0].strip("/") + "/index.html"
        for record in sorted((CONTENT / name).glob("*.yaml")):
            path = collection["url"].format(slug=record.stem).lstrip("/")
            for key, value in load(record).items():
                if isinstance(value, dict) and "value" in value:
                    shown = index if key in collection.get("columns", []) else ""
                    found.append(Fact(path + "index.html", shown, path, key, titles.get(key, key), expected_marker(value, weak)))
    return found


def shown(kinds: list[str], marker: str | None) -> str:
    """'' when the marks are the one the fact earns, else what is wrong."""
    want = [marker] if marker else []
    return "" if kinds == want else f"shows {kinds or 'no marker'}, its sources earn {want or 'none'}"


def test_each_infobox_fact_shows_the_marker_its_sources_earn(seen: dict[str, Seen]) -> None:
    facts = expected_markers()
    assert len(facts) > 20
    found = []
    for f in facts:
        rows = [r["kinds"] for r in seen[f.page].marks["infobox"] if r["label"] == f.label] if f.page in seen else []
        wrong = shown(rows[0], f.marker) if rows else f"no infobox row for {f.key}"
        found += [f"{f.page}: {f.label!r} {wrong}"] if wrong else []
    assert found == [], report(found)


def test_each_index_column_shows_the_marker_its_sources_earn(seen: dict[str, Seen]) -> None:
    """The /companies/ index shows the same marker for a headquarters as the company's page does."""
    facts = [f for f in expected_markers() if f.index]
    assert facts
    found = []
    for f in facts:
        rows = [r["cells"] for r in seen[f.index].marks["index"] if r["href"].endswith("/" + f.path)] if f.index in seen else []
        kinds = rows[0].get(f.label) if rows else None
        wrong = f"no row and column {f.label!r}" if kinds is None else shown(kinds, f.marker)
        found += [f"{f.index}: {f.path} {f.label!r} {wrong}"] if wrong else []
    assert found == [], report(found)


# --- 5: timeline ---

MONTHS = [datetime.date(2000, month, 1).strftime("%B") for month in range(1, 13)]
MONTH = "|".join(MONTHS)
STATED = [  # a day the event's own text gives: "11–12 September 2020", "between 19 and about 23 October 2020"
    re.compile(rf"\b(\d{{1,2}})(?:\s*[–-]\s*\d{{1,2}})? ({MONTH}) (\d{{4}})"),
    re.compile(rf"\bbetween (\d{{1,2}}) and (?:about )?\d{{1,2}} ({MONTH}) (\d{{4}})"),
]


def earliest(stamp: str) -> datetime.date:
    """The first day a partial ISO date can mean: '2020-10' -> 2020-10-01, '2020' -> 2020-01-01."""
    parts = [int(p) for p in stamp.split("-")]
    return datetime.date(*[*parts, 1, 1][:3])


def earliest_possible(event: dict[str, str]) -> datetime.date:
    """An approximate event's earliest day: its datetime's, or later when its own text narrows it within that period."""
    start = earliest(event["datetime"])
    if not event["when"].startswith("About"):
        return start
    days = [
        datetime.date(int(y), MONTHS.index(m) + 1, int(d))
        for pattern in STATED
        for d, m, y in pattern.findall(event["text"])
        if f"{y}-{MONTHS.index(m) + 1:02d}-{int(d):02d}".startswith(event["datetime"])
    ]
    return max(start, min(days)) if days else start


def order_problems(events: list[dict[str, str]]) -> list[str]:
    """Each event that comes after a later one."""
    found = []
    for a, b in itertools.pairwise(events):
        if earliest_possible(a) > earliest_possible(b):
            found.append(f"{a['when']!r} ({earliest_possible(a)}: {a['text'][:60]!r}) before {b['when']!r} ({b['text'][:40]!r})")
    return found


def test_the_timeline_check_places_approximate_events_at_their_earliest_day() -> None:
    wsj = {"datetime": "2020-10", "when": "About October 2020", "text": "published between 19 and about 23 October 2020"}
    first = {"datetime": "2020-10-01", "when": "1 October 2020", "text": "x"}
    assert order_problems([wsj, first]) and order_problems([first, wsj]) == []
    assert order_problems([{**wsj, "text": "x"}, first]) == []


def test_the_timeline_opens_on_the_story_year(seen: dict[str, Seen]) -> None:
    """/timeline/ is the part that holds site.yaml's story_date (SPEC.md), not the oldest part."""
    year = str(load(CONTENT / "site.yaml").get("story_date", ""))[:4]
    assert year, "content/site.yaml has no story_date"
    years = sorted({e["datetime"][:4] for e in seen["timeline/index.html"].events})
    assert year in years, f"/timeline/ shows events of {years}, not of the story's year {year}"


def test_timeline_events_are_in_date_order(seen: dict[str, Seen]) -> None:
    pages = [p for p in seen if p.startswith("timeline/")]
    assert sum(len(seen[p].events) for p in pages) > 20
    found = [f"{page}: {p}" for page in pages for p in order_problems(seen[page].events)]
    found += [
        f"{page}: event without a datetime: {e['text'][:50]!r}" for page in pages for e in seen[page].events if not e["datetime"]
    ]
    assert found == [], report(found)


# --- 6: search ---

MARKER_WORDS = re.compile(r"unconfirmed|weak source", re.I)
BRACKETS = re.compile(r"\[\d+\]")
ADDRESS = re.compile(r"https?://|www\.", re.I)
RUN_TOGETHER = [  # an element boundary that lost its space
    re.compile(r"\b[a-z]*[a-z]{2}[A-Z][a-z]{2,}"),  # "translationThe" (not "iPhone")
    re.compile(r"\b[A-Z]{2,}[A-Z][a-z]{2,}"),  # "CATLThe"
    re.compile(r"[a-z0-9]{2}[.;:!?,][A-Za-z]{3,}"),  # "Inc.unconfirmed", "2020.The"
]
ALLOWED_JOINS = {"YouTube", "LinkedIn", "PayPal", "JavaScript", "BloombergNEF", "NextEra"}


DOMAIN = re.compile(r"\.(com|org|net|cn|de|eu|gov|io)\b")


def excerpt_problems(excerpt: str) -> list[str]:
    """Marker words, citation brackets, addresses and run-together words in one search excerpt."""
    text = re.sub(r"</?mark>", "", excerpt)
    checks = [("marker", MARKER_WORDS), ("citation", BRACKETS), ("address", ADDRESS)]
    found = [f"{what} in {context(text, m.start(), len(m.group(0)))!r}" for what, p in checks for m in p.finditer(text)]
    joins = [
        m for p in RUN_TOGETHER for m in p.finditer(text) if m.group(0) not in ALLOWED_JOINS and not DOMAIN.search(m.group(0))
    ]
    return found + [f"run-together {m.group(0)!r} in {context(text, m.start(), len(m.group(0)))!r}" for m in joins]


def test_the_excerpt_check_catches_what_issue_13_saw() -> None:
    assert excerpt_problems("Tesla, Inc.unconfirmed(Researcher's knowledge")
    assert excerpt_problems("Shenyang, Liaoning CATLThe <mark>CATL</mark> plant")
    assert excerpt_problems("employees [4] [1] See") and excerpt_problems("at https://ibmwl.com/x")
    assert excerpt_problems("a weak source") and excerpt_problems("is unconfirmed")
    assert excerpt_problems("The <mark>iPhone</mark> 12, NEVs, PHEVs and LFP cells (ibmwl.com), e.g. BloombergNEF") == []


def test_search_excerpts_are_clean(browser: Any, server: str, site: Site) -> None:
    assert (site.root / "pagefind" / "pagefind.js").is_file(), "the site was built without its search index"
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(server + "search/", wait_until="networkidle")
    results = tab.evaluate(SEARCH, [server + "pagefind/", SEARCH_QUERIES])
    context.close()
    assert all(results[q] for q in SEARCH_QUERIES), {q: len(r) for q, r in results.items()}
    found = [
        f"{q!r} -> {r['url'].removeprefix('/' + MOUNT)}: {p}"
        for q, rs in results.items()
        for r in rs
        for p in excerpt_problems(r["excerpt"])
    ]
    assert found == [], report(found)


# --- The in-page checks themselves fail on a page made to fail ---

WORDY = "one two three four five six seven eight nine ten " * 3
BAD_PAGE = f"""<!doctype html><meta charset="utf-8"><style>td {{ padding: 0 }} .flag {{ border: 1px solid red }}</style>
<main><div style="width: 300px"><table><caption>Wide</caption><tr><th>A</th><td style="white-space: nowrap">
a cell far too long to fit in three hundred pixels without wrapping</td></tr></table></div>
<table><tr><th>Words</th><td style="width: 40px">{WORDY}</td><td><span class="flag flag-weak">weak source</span></td>
<td><span class="flag flag-weak">weak source</span></td></tr></table>
<figure class="chart" id="bad"><svg viewBox="0 0 1000 100" width="300"><text x="10" y="50" font-size="12">tiny</text>
<rect x="15" y="40" width="12" height="12"/></svg></figure>
<dl><dt style="float: left; width: 60px; white-space: nowrap">Role in the story</dt>
<dd style="margin: 0 0 0 60px">touches</dd></dl></main>"""


def test_the_in_page_checks_fail_on_a_page_made_to_fail(browser: Any) -> None:
    context = browser.new_context(viewport={"width": PHONE, "height": 800})
    tab = context.new_page()
    tab.set_content(BAD_PAGE)
    tables, charts = tab.evaluate(TABLES, [NARROW_COLUMN, MAX_LINES]), tab.evaluate(CHARTS, MIN_CHART_TEXT)
    labels, marks = tab.evaluate(LABELS, MIN_LABEL_GAP), tab.evaluate(MARKS)
    context.close()
    assert any("px wide in a 300 px box" in p for p in tables) and any("cut off" in p for p in tables), tables
    assert any("squeezed column" in p for p in tables), tables
    assert any("texts under 11 px" in p for p in charts) and any("overlaps swatch" in p for p in charts), charts
    assert labels and "Role in the story" in labels[0], labels
    assert len(marks["loud"]) == 2 and marks["rows"][0]["counts"] == {"weak": 2}, marks
