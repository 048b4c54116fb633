"""Charts are legible at every width: round ticks, no label over another, and, in real Chromium, no chart text
smaller than 11 CSS px and no overlapping labels or legend items on a 360 px phone or a 1280 px desktop."""

from __future__ import annotations

import functools
import http.server
import itertools
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder import charts
from site_builder.build import build

from .conftest import FIXTURE, REPO, edit, run_cli

MIN_PX = 11  # the smallest chart text a reader should meet, in CSS px
WIDTHS = (360, 1280)  # viewports: a phone and a desktop
NICE = (1.0, 2.0, 2.5, 5.0)  # a tick step is one of these × 10^n
CONTENT_CHARTS = [
    charts.Chart.from_data(data)
    for path in (REPO / "content/charts.yaml", FIXTURE / "content/charts.yaml")
    for data in yaml.safe_load(path.read_text(encoding="utf-8"))
]


# --- Ticks ---


def assert_nice(value: float, ticks: tuple[float, ...], low: float = 0.0) -> None:
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in NICE), f"{value}: step {step} is not round ({ticks})"
    slack = step * 1e-6  # float error, far below a pixel
    assert ticks[-1] >= value - slack and ticks[0] <= low + slack, f"{low}..{value}: ticks {ticks} miss it"
    assert 0 in ticks and 2 <= len(ticks) <= charts.MAX_INTERVALS + 1, f"{low}..{value}: ticks {ticks}"
    for t in ticks:
        assert math.isclose(t / step, round(t / step), abs_tol=1e-6), f"{value}: tick {t} is off the step {step}"
        assert charts.fmt(t) == charts.fmt(round(t / step) * step), f"{value}: tick {t} prints as {charts.fmt(t)}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (25.77, (0, 10, 20, 30)),
        (30, (0, 10, 20, 30)),
        (75, (0, 20, 40, 60, 80)),
        (3.3, (0, 1, 2, 3, 4)),
        (18, (0, 5, 10, 15, 20)),
        (1, (0, 0.2, 0.4, 0.6, 0.8, 1)),
        (0.3, (0, 0.1, 0.2, 0.3)),
        (1234, (0, 500, 1000, 1500)),
    ],
)
def test_ticks_are_round_numbers_reaching_the_largest_value(value: float, expected: tuple[float, ...]) -> None:
    assert charts.ticks(value) == expected
    assert_nice(value, charts.ticks(value))


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_ticks_are_round_for_any_maximum(value: float) -> None:
    assert_nice(value, charts.ticks(value))


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=-1e9, max_value=0))
def test_ticks_are_round_for_values_below_zero_too(high: float, low: float) -> None:
    if high - low > 1e-6:
        assert_nice(high, charts.ticks(high, low), low)


# --- Layout: what charts.py places must not collide, at the narrowest width and wider ---


def collisions(layout: charts.Layout, width: float) -> list[str]:
    """Pairs of labels, or a label and a bar or point, that overlap in a chart `width` px wide."""
    texts = [(f"text {' '.join(t.lines)!r}", charts.box(t, width)) for t in layout.texts]
    shapes = [(f"shape {s.title!r}", charts.shape_box(s, width)) for s in layout.shapes]
    found = [f"{a} overlaps {b}" for (a, ab), (b, bb) in itertools.combinations(texts, 2) if ab.overlaps(bb)]
    found += [f"{a} overlaps {b}" for (a, ab), (b, bb) in itertools.product(texts, shapes) if ab.overlaps(bb)]
    found += [f"{a} sticks out of the chart" for a, ab in texts if ab.left < -0.5 or ab.right > width + 0.5]
    return found


@pytest.mark.parametrize("chart", CONTENT_CHARTS, ids=lambda c: c.id)
@pytest.mark.parametrize("width", [charts.MIN_WIDTH, 320, 600, 736])
def test_the_content_charts_labels_do_not_overlap(chart: charts.Chart, width: int) -> None:
    layout = charts.layout(chart)
    assert not collisions(layout, width)
    assert sum(t.cls == "value" for t in layout.texts) == sum(v is not None for _, vals, _ in chart.series for v in vals)


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzMW%0123456789", min_size=1, max_size=14)
LABELS = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
VALUES = st.one_of(st.none(), st.floats(min_value=0, max_value=1e7), st.floats(min_value=-1e4, max_value=1e4))


@st.composite
def any_chart(draw: st.DrawFn) -> charts.Chart:
    categories = tuple(draw(st.lists(LABELS, min_size=1, max_size=8)))
    count = len(categories)
    series = draw(st.lists(st.tuples(LABELS, st.lists(VALUES, min_size=count, max_size=count)), min_size=1, max_size=4))
    return charts.Chart(
        id="c",
        title="T",
        description="D",
        kind=draw(st.sampled_from(["bar", "line"])),
        unit=draw(st.sampled_from(["", "million vehicles", "% of conventional output, by weight, in the reporting year"])),
        categories=categories,
        series=tuple((name, tuple(values), "") for name, values in series),
    )


@settings(max_examples=300, deadline=None)
@given(any_chart(), st.sampled_from([charts.MIN_WIDTH, 360, 736, 1200]))
def test_no_two_labels_overlap_in_any_chart(chart: charts.Chart, width: int) -> None:
    assert not collisions(charts.layout(chart), width)


@pytest.mark.parametrize("text", ["2003 to 10 Feb 2022", "From 11 Feb 2022", "Supercalifragilisticexpialidocious x", "a " * 40])
def test_long_labels_wrap_or_are_shortened_to_fit(text: str) -> None:
    lines = charts.wrap(text, 110)
    assert 1 <= len(lines) <= 3 and all(charts.text_width(line) <= 110 for line in lines), lines
    assert all(line.removesuffix("…") in text for line in lines), lines


def test_a_date_range_wraps_at_spaces() -> None:
    assert charts.wrap("2003 to 10 Feb 2022", 110) == ("2003 to 10 Feb", "2022")


@pytest.mark.parametrize("count", [3, 8, 15, 40])
def test_a_long_run_of_years_shows_whole_years_not_cut_ones(count: int) -> None:
    years = tuple(str(2000 + i) for i in range(count))
    chart = charts.Chart("c", "T", "D", "line", "", years, (("S", tuple(float(i) for i in range(count)), ""),))
    shown = [t.lines for t in charts.layout(chart).texts if t.cls == "tick" and t.lines[0] in years]
    assert all(len(lines) == 1 for lines in shown) and shown[-1] == (years[-1],), shown
    assert len(shown) == count if count <= 3 else 2 <= len(shown) < count, shown


def test_the_svg_is_drawn_unscaled_and_labelled() -> None:
    svg = charts.svg(CONTENT_CHARTS[0], "x")
    assert "viewBox" not in svg, "a viewBox scales the text down on phones"
    assert re.match(r'<svg class="chart-svg" width="100%" height="\d+" role="img" aria-labelledby="x-title x-desc"', svg)
    assert '<title id="x-title">' in svg and '<desc id="x-desc">' in svg
    assert svg == charts.svg(CONTENT_CHARTS[0], "x")


def test_a_series_status_shows_in_the_legend_as_the_quiet_marker(project: Path, tmp_path: Path) -> None:
    build(project, tmp_path / "out")
    html = (tmp_path / "out/charts/index.html").read_text(encoding="utf-8")
    legend = re.search(r'<ul class="chart-legend">(.*?)</ul>', html, re.S)
    assert legend, "no HTML legend"
    items = re.findall(r"<li>(.*?)</li>", legend.group(1), re.S)
    assert len(items) == 2 and "mark" not in items[0], items  # Sales: no status
    assert '<sup class="mark mark-unconfirmed"' in items[1] and "flag" not in items[1], items[1]


def test_the_numbers_table_names_its_first_column_years_when_every_category_is_one(project: Path, tmp_path: Path) -> None:
    build(project, tmp_path / "years")
    assert '<th scope="col">Year</th>' in (tmp_path / "years/charts/index.html").read_text(encoding="utf-8")
    edit(project / "content/charts.yaml", 'categories: ["2019"]', 'categories: ["Passenger cars"]')
    build(project, tmp_path / "words")
    assert '<th scope="col">Category</th>' in (tmp_path / "words/charts/index.html").read_text(encoding="utf-8")


# --- In Chromium: the real site, every chart, on a phone and a desktop ---

MEASURE = """() => [...document.querySelectorAll('figure.chart')].map(fig => {
  const svg = fig.querySelector('svg'), scale = svg.getScreenCTM().a;
  const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const size = e => parseFloat(getComputedStyle(e).fontSize) * (svg.contains(e) ? scale : 1);
  const texts = [...svg.querySelectorAll('text')].map(t => ({name: `text "${t.textContent}"`, box: box(t), px: size(t)}));
  const shapes = [...svg.querySelectorAll('rect, circle')].map(s => ({name: `${s.tagName} "${s.textContent}"`, box: box(s)}));
  const legend = [...fig.querySelectorAll('.chart-legend li')].map(li => {
    const swatch = li.querySelector('.swatch'), label = document.createRange();
    label.setStartAfter(swatch); label.setEndAfter(li.lastChild);
    const name = `legend "${li.textContent}"`;
    const sizes = [li, ...li.querySelectorAll('*')].filter(e => e.textContent.trim()).map(size);
    return {name, box: box(li), px: Math.min(...sizes), swatch: box(swatch), label: box(label)};
  });
  const wrap = fig.querySelector('.table-wrap'), table = wrap?.querySelector('table');
  const scrolls = wrap && ['auto', 'scroll'].includes(getComputedStyle(wrap).overflowX);
  const tableFits = !!table && (table.offsetWidth <= wrap.clientWidth || scrolls);
  return {id: fig.id, svg: box(svg), texts, shapes, legend, tableFits};
})"""


def overlap(a: list[float], b: list[float], slack: float = 0.5) -> bool:
    return a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] and b[1] + slack < a[3]


def problems(chart: dict[str, Any]) -> list[str]:
    """What a reader would trip over in one measured chart."""
    texts, legend = chart["texts"], chart["legend"]
    found = [f"{t['name']} is {t['px']:.1f} px" for t in texts + legend if t["px"] < MIN_PX]
    found += [f"{a['name']} overlaps {b['name']}" for a, b in itertools.combinations(texts, 2) if overlap(a["box"], b["box"])]
    found += [f"{a['name']} overlaps {b['name']}" for a in texts for b in chart["shapes"] if overlap(a["box"], b["box"])]
    found += [f"{a['name']} overlaps {b['name']}" for a, b in itertools.combinations(legend, 2) if overlap(a["box"], b["box"])]
    found += [f"{a['name']}: its swatch overlaps its label" for a in legend if overlap(a["swatch"], a["label"])]
    found += [] if chart["tableFits"] else ["its data table is missing, or wider than its box and cannot scroll"]
    left, right = chart["svg"][0], chart["svg"][2]
    found += [f"{t['name']} sticks out of the chart" for t in texts if t["box"][0] < left - 0.5 or t["box"][2] > right + 0.5]
    return [f"{chart['id']}: {p}" for p in found]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The real site built by the CLI and served under its base path; with the pages that show charts."""
    base = urlsplit(yaml.safe_load((REPO / "content/site.yaml").read_text(encoding="utf-8"))["base_url"]).path
    root = tmp_path_factory.mktemp("charts")
    out = root / base.strip("/")
    done = run_cli("build", "--out", str(out), "--no-search", cwd=REPO)
    assert done.returncode == 0, done.stderr
    pages = sorted(
        p.relative_to(out).as_posix().removesuffix("index.html")
        for p in out.rglob("*.html")
        if '<figure class="chart"' in p.read_text(encoding="utf-8")
    )
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{base}", pages
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_text_is_at_least_11px_and_no_labels_overlap_in_chromium(
    browser: Any, built_site: tuple[str, list[str]], width: int
) -> None:
    origin, pages = built_site
    assert "charts/" in pages and len(pages) > 1, pages
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    found, seen = [], 0
    for path in pages:
        page.goto(origin + path)
        measured = page.evaluate(MEASURE)
        seen += sum(len(chart["texts"]) for chart in measured)
        found += [f"/{path} at {width} px: {p}" for chart in measured for p in problems(chart)]
    context.close()
    assert seen, "no chart text found"
    assert not found, "\n".join(found)
