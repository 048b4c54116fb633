"""Draw a chart declared in content as accessible inline SVG, with its numbers as a table."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 56


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


def nice_max(value: float) -> float:
    """A round number at or above `value` for the top of the axis."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    return float(next(m * exp for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * exp >= value))


def fmt(value: float | None) -> str:
    """A number as a reader would write it: no trailing zeros, thousands separated."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}".rstrip("0").rstrip(".")


def svg(chart: Chart, dom_id: str) -> str:
    """The chart as SVG with a title, a description, axes and labelled values."""
    values = [v for _, vals, _ in chart.series for v in vals if v is not None]
    top = nice_max(max(values, default=1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{dom_id}-title {dom_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{dom_id}-title">{escape(chart.title)}</title>',
        f'<desc id="{dom_id}-desc">{escape(chart.description)}</desc>',
    ]
    for i in range(5):
        v = top * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{fmt(v)}</text>')
    parts.append(
        f'<text class="axis-label" x="14" y="{TOP + plot_h / 2:.0f}" transform="rotate(-90 14 {TOP + plot_h / 2:.0f})" '
        f'text-anchor="middle">{escape(chart.unit)}</text>'
    )
    band = plot_w / len(chart.categories)
    for i, cat in enumerate(chart.categories):
        parts.append(
            f'<text class="tick" x="{LEFT + band * (i + 0.5):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
            f"{escape(cat)}</text>"
        )
    parts += _bars(chart, band, y) if chart.kind == "bar" else _lines(chart, band, y)
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    parts += _legend(chart)
    parts.append("</svg>")
    return "".join(parts)


def _bars(chart: Chart, band: float, y: Any) -> list[str]:
    n = len(chart.series)
    bar_w = band * 0.7 / n
    out = []
    for s, (name, vals, _) in enumerate(chart.series):
        for i, v in enumerate(vals):
            if v is None:
                continue
            x = LEFT + band * i + band * 0.15 + bar_w * s
            out.append(
                f'<rect class="series-{s % 4}" x="{x:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" height="{y(0) - y(v):.1f}">'
                f"<title>{escape(name)}, {escape(chart.categories[i])}: {fmt(v)} {escape(chart.unit)}</title></rect>"
            )
            out.append(f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y(v) - 4:.1f}" text-anchor="middle">{fmt(v)}</text>')
    return out


def _lines(chart: Chart, band: float, y: Any) -> list[str]:
    out = []
    for s, (name, vals, _) in enumerate(chart.series):
        points = [(LEFT + band * (i + 0.5), y(v), v) for i, v in enumerate(vals) if v is not None]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
        out.append(f'<polyline class="line series-{s % 4}" points="{path}"/>')
        for px, py, v in points:
            out.append(
                f'<circle class="series-{s % 4}" cx="{px:.1f}" cy="{py:.1f}" r="4">'
                f"<title>{escape(name)}: {fmt(v)}</title></circle>"
            )
            out.append(f'<text class="value" x="{px:.1f}" y="{py - 8:.1f}" text-anchor="middle">{fmt(v)}</text>')
    return out


def _legend(chart: Chart) -> list[str]:
    out, x = [], LEFT
    for s, (name, _, status) in enumerate(chart.series):
        label = f"{name} ({status})" if status else name
        out.append(f'<rect class="series-{s % 4}" x="{x}" y="{HEIGHT - 20}" width="12" height="12"/>')
        out.append(f'<text class="legend" x="{x + 16}" y="{HEIGHT - 10}">{escape(label)}</text>')
        x += 24 + 7 * len(label)
    return out


def table_rows(chart: Chart) -> list[dict[str, Any]]:
    """The chart's numbers, one row per category, for the table beside the chart."""
    return [
        {"category": cat, "values": [fmt(vals[i]) if i < len(vals) else "–" for _, vals, _ in chart.series]}
        for i, cat in enumerate(chart.categories)
    ]
