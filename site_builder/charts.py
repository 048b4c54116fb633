"""Draw a chart declared in content as accessible inline SVG, with its numbers as a table.

The SVG has no viewBox, so it is never scaled: its text is the size the stylesheet gives it (FONT CSS px) on a phone
and on a desktop alike. Heights are pixels; horizontal positions are fractions of the chart's width, written as
percentages. Widths of text are fixed while gaps grow with the chart, so whatever fits at MIN_WIDTH (the chart column
of a 320 px phone) fits at every wider width: labels are wrapped, placed and checked for overlaps there.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any, TypeGuard

Scale = Callable[[float], float]

FONT = 12  # px: the font size of .chart-svg in style.css
MIN_WIDTH = 280  # px: the narrowest a chart is drawn
PLOT_HEIGHT, LINE_HEIGHT, TICK_GAP = 200, 15, 6  # px
MAX_INTERVALS = 5  # at most this many steps between the axis ticks
BAR_GROUP, MAX_BAR = 0.8, 0.2  # a category's bars fill 80% of its band; no bar is wider than 20% of the chart
EM_WIDTHS = {"digit": 0.64, "upper": 0.74, "lower": 0.62, "narrow": 0.34, "wide": 1.0, "other": 0.7}  # DejaVu Sans, rounded up


@dataclass(frozen=True)
class Chart:
    """A chart's data, as declared in charts.yaml."""

    id: str
    title: str
    description: str
    kind: str
    unit: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...], str], ...]  # (name, values, status)
    # How a point is told (its tooltip and accessible name) in the page's language, and a flagged series' name.
    point: str = "%(series)s, %(category)s: %(value)s %(unit)s"
    flagged: str = "%(series)s (%(status)s)"
    statuses: tuple[tuple[str, str], ...] = ()  # a status → its word in the page's language

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Chart:
        return cls(
            id=data["id"],
            title=data["title"],
            description=data["description"],
            kind=data.get("kind", "bar"),
            unit=data.get("unit", ""),
            categories=tuple(str(c) for c in data["categories"]),
            series=tuple((s["name"], tuple(s["values"]), s.get("status", "")) for s in data["series"]),
        )


@dataclass(frozen=True)
class Text:
    """A label: `x` a fraction of the chart's width plus `dx` px, `y` the first line's baseline in px."""

    x: float
    y: float
    lines: tuple[str, ...]
    cls: str
    anchor: str = "middle"
    dx: float = 0.0


@dataclass(frozen=True)
class Shape:
    """A bar (`r` = 0) or a point (`r` > 0): x and width are fractions of the chart's width, y and height px."""

    series: int
    category: int
    x: float
    y: float
    width: float
    height: float
    title: str
    r: float = 0.0


@dataclass(frozen=True)
class Box:
    """A rectangle in px, for overlap checks."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom


@dataclass(frozen=True)
class Layout:
    """Everything a chart draws, before it is written as SVG."""

    height: float
    gutter: float  # the plot starts this fraction of the width from the left
    top: float  # px from the top to the highest tick
    ticks: tuple[float, ...]
    texts: tuple[Text, ...]
    shapes: tuple[Shape, ...]
    lines: tuple[tuple[int, float, float, float, float], ...]  # (series, x1, y1, x2, y2) for line charts

    def y(self, value: float) -> float:
        """Where `value` sits on the axis, in px from the top."""
        return _scale(self.top, self.ticks)(value)


def _scale(top: float, ticks: tuple[float, ...]) -> Scale:
    """Values to px from the top: the last tick at `top`, the first PLOT_HEIGHT below it."""
    return lambda v: top + PLOT_HEIGHT * (ticks[-1] - v) / (ticks[-1] - ticks[0])


def nice_step(value: float, intervals: int = MAX_INTERVALS) -> float:
    """The smallest step of 1, 2 or 5 × 10^n that reaches `value` in at most `intervals` steps."""
    rough = max(value / intervals, 1e-200)  # a float log10 can take, and round() can keep
    exp = 10.0 ** math.floor(math.log10(rough))
    return next(m * exp for m in (1, 2, 5, 10) if m * exp * intervals >= value * (1 - 1e-12))


def ticks(high: float, low: float = 0.0) -> tuple[float, ...]:
    """Round tick values, 0 among them, from the first at or below `low` to the first at or above `high`."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high <= low:
        return (0.0, 1.0)
    step = nice_step(high - low)
    while _intervals(step, low, high) > MAX_INTERVALS:
        step = nice_step(step * MAX_INTERVALS * (1 + 1e-9))  # the next round step up
    first, last = _span(step, low, high)
    last = max(last, first + 1)
    digits = max(0, -math.floor(math.log10(step)))
    return tuple(round(i * step, digits) + 0.0 for i in range(first, last + 1))


def _span(step: float, low: float, high: float) -> tuple[int, int]:
    """The multiples of `step` at or just beyond `low` and `high` (a hair's float error ignored)."""
    return math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)


def _intervals(step: float, low: float, high: float) -> int:
    first, last = _span(step, low, high)
    return last - first


def fmt(value: float | None) -> str:
    """A number as a reader would write it: no trailing zeros, thousands separated."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) >= 0.001 else f"{value:.3g}"


def text_width(text: str, bold: bool = False) -> float:
    """A generous estimate of `text`'s width in px at FONT."""
    ems = sum(EM_WIDTHS[_char_class(c)] for c in text)
    return ems * FONT * (1.1 if bold else 1.0)


def _char_class(c: str) -> str:
    if c.isdigit():
        return "digit"
    if c in " .,:;'!|il()[]-–":
        return "narrow"
    if c in "%@—MWmw":
        return "wide"
    return "upper" if c.isupper() else "lower" if c.islower() else "other"


def wrap(text: str, width: float, max_lines: int = 3) -> tuple[str, ...]:
    """`text` broken at spaces into lines no wider than `width` px; a word too long, or a last line, ends in '…'."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return tuple(_shorten(line, width) for line in lines) or ("",)


def _shorten(line: str, width: float) -> str:
    if text_width(line) <= width:
        return line
    while line and text_width(line + "…") > width:
        line = line[:-1]
    return line.rstrip() + "…"


def box(text: Text, width: float) -> Box:
    """Where `text` is drawn in a chart `width` px wide (em box: 0.93 above the baseline, 0.24 below)."""
    w = max(text_width(line, bold=text.cls == "value") for line in text.lines)
    x = text.x * width + text.dx
    left = {"start": x, "middle": x - w / 2, "end": x - w}[text.anchor]
    bottom = text.y + (len(text.lines) - 1) * LINE_HEIGHT + 0.24 * FONT
    return Box(left, text.y - 0.93 * FONT, left + w, bottom)


def shape_box(shape: Shape, width: float) -> Box:
    """Where a bar or a point is drawn in a chart `width` px wide."""
    if shape.r:
        x = shape.x * width
        return Box(x - shape.r, shape.y - shape.r, x + shape.r, shape.y + shape.r)
    return Box(shape.x * width, shape.y, (shape.x + shape.width) * width, shape.y + shape.height)


def layout(chart: Chart) -> Layout:
    """Place the chart's axis, marks and labels."""
    values = [v for _, vals, _ in chart.series for v in vals if _drawn(v)]
    marks = ticks(max(values, default=1.0), min(values, default=0.0))
    unit_lines = wrap(chart.unit, MIN_WIDTH) if chart.unit else ()
    top = LINE_HEIGHT * len(unit_lines) + 2 * FONT
    gutter = min((max(text_width(fmt(t)) for t in marks) + 2 * TICK_GAP) / MIN_WIDTH, 0.5)
    band = (1 - gutter) / max(len(chart.categories), 1)

    y = _scale(top, marks)
    texts = [Text(0, FONT, unit_lines, "axis-label", "start")] if unit_lines else []
    texts += [Text(gutter, y(t) + FONT / 3, (fmt(t),), "tick", "end", -TICK_GAP) for t in marks]
    categories = _category_labels(chart.categories, gutter, band, top + PLOT_HEIGHT + LINE_HEIGHT + 4)
    texts += categories
    bottom = top + PLOT_HEIGHT + LINE_HEIGHT * (1 + max((len(t.lines) for t in categories), default=1))
    draw = _bars if chart.kind == "bar" else _points
    shapes, labels = draw(chart, gutter, band, y)
    lines = _segments(shapes) if chart.kind != "bar" else ()
    kept = _without_overlaps(texts, labels, shapes)
    return Layout(bottom, gutter, top, marks, (*texts, *kept), tuple(shapes), lines)


def _drawn(value: float | None) -> TypeGuard[float]:
    """Whether a value can be drawn: given, and a number of sane size (YAML allows .nan, .inf and 1e308)."""
    return value is not None and abs(value) < 1e100


def by_year(chart: Chart) -> bool:
    """Whether every category is a year (the table's first column then says so)."""
    return all(YEAR.fullmatch(c) for c in chart.categories)


YEAR = re.compile(r"\d{4}")


def _category_labels(categories: tuple[str, ...], gutter: float, band: float, y: float) -> list[Text]:
    """Each category's label wrapped to its band; when one-word labels (years) would be cut short, every k-th,
    counted back from the last, each wrapped to k bands."""
    n = len(categories)
    steps = range(1, n + 1) if all(len(c.split()) == 1 for c in categories) else range(1, 2)
    for k in steps:
        texts = [_category(categories[i], gutter + band * (i + 0.5), k * band, y) for i in range(n - 1, -1, -k)][::-1]
        boxes = [box(t, MIN_WIDTH) for t in texts]
        cut = any(line.endswith("…") for t in texts for line in t.lines)
        if not cut and not any(a.overlaps(b) for a, b in itertools.pairwise(boxes)):
            return texts
    return [_category(c, gutter + band * (i + 0.5), band, y) for i, c in enumerate(categories)]


def _category(label: str, centre: float, room: float, y: float) -> Text:
    """A category label under its band, wrapped to `room`; nudged back inside the chart if it would stick out."""
    lines = wrap(label, room * MIN_WIDTH - TICK_GAP)
    half, at = max(text_width(line) for line in lines) / 2, centre * MIN_WIDTH
    past_right, past_left = at + half - MIN_WIDTH, half - at
    return Text(centre, y, lines, "tick", dx=-past_right if past_right > 0 else max(0.0, past_left))


def _title(chart: Chart, s: int, i: int, v: float) -> str:
    name, _, status = chart.series[s]
    if status:
        name = chart.flagged % {"series": name, "status": dict(chart.statuses).get(status, status)}
    return (chart.point % {"series": name, "category": chart.categories[i], "value": fmt(v), "unit": chart.unit}).rstrip()


def _bars(chart: Chart, gutter: float, band: float, y: Scale) -> tuple[list[Shape], list[list[Text]]]:
    n = max(len(chart.series), 1)
    bar = min(band * BAR_GROUP / n, MAX_BAR)
    shapes, labels = [], []
    for s, (_, vals, _) in enumerate(chart.series):
        texts = []
        for i, v in zip(range(len(chart.categories)), vals, strict=False):
            if not _drawn(v):
                continue
            x = gutter + band * (i + 0.5) - bar * n / 2 + bar * s
            shapes.append(Shape(s, i, x, min(y(v), y(0)), bar, abs(y(0) - y(v)), _title(chart, s, i, v)))
            texts.append(Text(x + bar / 2, y(v) - 4 if v >= 0 else y(v) + FONT + 4, (fmt(v),), "value"))
        labels.append(texts if all(text_width(t.lines[0], bold=True) + 2 <= bar * MIN_WIDTH for t in texts) else [])
    return shapes, labels


def _points(chart: Chart, gutter: float, band: float, y: Scale) -> tuple[list[Shape], list[list[Text]]]:
    shapes, labels = [], []
    for s, (_, vals, _) in enumerate(chart.series):
        texts = []
        for i, v in zip(range(len(chart.categories)), vals, strict=False):
            if not _drawn(v):
                continue
            x = gutter + band * (i + 0.5)
            shapes.append(Shape(s, i, x, y(v), 0, 0, _title(chart, s, i, v), r=4))
            texts.append(Text(x, y(v) - 9, (fmt(v),), "value"))
        labels.append(texts if all(text_width(t.lines[0], bold=True) + 4 <= band * MIN_WIDTH for t in texts) else [])
    return shapes, labels


def _segments(points: list[Shape]) -> tuple[tuple[int, float, float, float, float], ...]:
    """Lines joining each series' points in neighbouring categories (a missing value leaves a gap)."""
    pairs = itertools.pairwise(points)
    return tuple((a.series, a.x, a.y, b.x, b.y) for a, b in pairs if a.series == b.series and b.category == a.category + 1)


def _without_overlaps(fixed: list[Text], labels: list[list[Text]], shapes: list[Shape]) -> list[Text]:
    """Each series' value labels, all or none: none when one would touch another label, a bar or a point.

    Checked at MIN_WIDTH: gaps only grow with the width, so what is clear there is clear at every wider width.
    """
    taken = [box(t, MIN_WIDTH) for t in fixed] + [shape_box(s, MIN_WIDTH) for s in shapes]
    kept: list[Text] = []
    for texts in labels:
        boxes = [box(t, MIN_WIDTH) for t in texts]
        if not any(b.overlaps(other) for b in boxes for other in taken):
            kept += texts
            taken += boxes
    return kept


def svg(chart: Chart, dom_id: str) -> str:
    """The chart as SVG with a title, a description, axes and labelled values."""
    plan = layout(chart)
    parts = [
        f'<svg class="chart-svg" width="100%" height="{plan.height:.0f}" role="img" '
        f'aria-labelledby="{dom_id}-title {dom_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{dom_id}-title">{escape(chart.title)}</title>',
        f'<desc id="{dom_id}-desc">{escape(chart.description)}</desc>',
    ]
    rule = f'<line class="{{}}" x1="{_pct(plan.gutter)}" x2="100%" y1="{{:.1f}}" y2="{{:.1f}}"/>'
    parts += [rule.format("grid", plan.y(t), plan.y(t)) for t in plan.ticks if t != 0]
    parts += [_line(*segment) for segment in plan.lines]
    parts += [_shape(s) for s in plan.shapes]
    parts.append(rule.format("axis", plan.y(0), plan.y(0)))  # over the bars' feet
    parts += [_text(t) for t in plan.texts]
    parts.append("</svg>")
    return "".join(parts)


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _line(series: int, x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="line series-{series % 4}" x1="{_pct(x1)}" y1="{y1:.1f}" x2="{_pct(x2)}" y2="{y2:.1f}"/>'


def _shape(s: Shape) -> str:
    title = f"<title>{escape(s.title)}</title>"
    if s.r:
        return f'<circle class="series-{s.series % 4}" cx="{_pct(s.x)}" cy="{s.y:.1f}" r="{s.r:g}">{title}</circle>'
    return (
        f'<rect class="series-{s.series % 4}" x="{_pct(s.x)}" y="{s.y:.1f}" width="{_pct(s.width)}" '
        f'height="{s.height:.1f}">{title}</rect>'
    )


def _text(t: Text) -> str:
    x, dx = _pct(t.x), f' dx="{t.dx:.1f}"' if t.dx else ""
    anchor = f' text-anchor="{t.anchor}"' if t.anchor != "start" else ""
    if len(t.lines) == 1:
        return f'<text class="{t.cls}" x="{x}"{dx} y="{t.y:.1f}"{anchor}>{escape(t.lines[0])}</text>'
    spans = "".join(
        f'<tspan x="{x}"{dx} {"y" if i == 0 else "dy"}="{t.y if i == 0 else LINE_HEIGHT:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(t.lines)
    )
    return f'<text class="{t.cls}"{anchor}>{spans}</text>'


def table_rows(chart: Chart) -> list[dict[str, Any]]:
    """The chart's numbers, one row per category, for the table beside the chart."""
    return [
        {"category": cat, "values": [fmt(vals[i]) if i < len(vals) else "–" for _, vals, _ in chart.series]}
        for i, cat in enumerate(chart.categories)
    ]
