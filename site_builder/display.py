"""Turn values into display nodes for templates: formatted dates, numbers, links, citations, flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup

from .schema import BASE_PROPERTIES, resolve, subschema

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(value: str) -> str:
    """'2018-07-28' -> '28 July 2018', '2020-10' -> 'October 2020', '2019' -> '2019'."""
    parts = value.split("-")
    try:
        if len(parts) == 3:
            d = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return value


def format_number(value: int | float) -> str:
    """Numbers as readers write them: 83,000; 26.47; years stay 2011."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or float(value).is_integer():
        n = int(value)
        return str(n) if abs(n) < 10000 else f"{n:,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def node(value: Any, schema: dict[str, Any], root: dict[str, Any], ctx: Any, at: tuple[str | int, ...]) -> dict[str, Any]:
    """A display node for one value: text, link, list, table or nested fields, with its citations."""
    schema = resolve(schema, root)
    marks = ctx.marks(at)
    if isinstance(value, list):
        item_schema = subschema(schema, 0, root)
        if value and all(isinstance(v, dict) for v in value) and item_schema.get("properties"):
            keys = [k for k in item_schema["properties"] if any(k in v for v in value)]
            return {
                "kind": "table",
                "marks": marks,
                "columns": [_label(item_schema, k, root) for k in keys],
                "rows": [
                    [node(v[k], subschema(item_schema, k, root), root, ctx, (*at, i, k)) if k in v else _empty() for k in keys]
                    for i, v in enumerate(value)
                ],
                "row_marks": [ctx.marks((*at, i)) for i in range(len(value))],  # a fact object around a whole row
            }
        return {"kind": "list", "marks": marks, "items": [node(v, item_schema, root, ctx, (*at, i)) for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {
            "kind": "fields",
            "marks": marks,
            "rows": [
                {"label": _label(schema, k, root), "node": node(v, subschema(schema, k, root), root, ctx, (*at, k))}
                for k, v in _ordered(value, schema)
            ],
        }
    text, href = _scalar(value, schema), ""
    if schema.get("x-ref") and isinstance(value, str):
        href, text = ctx.link(value, str(schema["x-ref"]))
    elif schema.get("format") == "uri" and isinstance(value, str):
        href = value
    return {"kind": "text", "text": text, "href": href, "lang": schema.get("x-lang", ""), "marks": marks}


def _empty() -> dict[str, Any]:
    return {"kind": "text", "text": "", "href": "", "lang": "", "marks": Markup("")}


def _scalar(value: Any, schema: dict[str, Any]) -> str:
    if isinstance(value, str):
        return format_date(value) if schema.get("format") == "date" else value
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        unit = str(schema.get("x-unit", ""))
        sep = "" if unit in ("%", "") else " "
        return f"{format_number(value)}{sep}{unit}"
    return str(value)


def _label(schema: dict[str, Any], key: str, root: dict[str, Any]) -> str:
    return str(subschema(schema, key, root).get("title") or key.replace("_", " ").capitalize())


def _ordered(value: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """Fields in schema order, then any others in file order."""
    order = list(schema.get("properties", {}))
    return sorted(value.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))


def infobox(data: dict[str, Any], schema: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    """The rows of a record's infobox: every schema field that has a value, labelled by its title."""
    rows = []
    for key, prop in schema.get("properties", {}).items():
        if key in BASE_PROPERTIES or key not in data:
            continue
        prop = resolve(prop, schema)
        rows.append(
            {
                "key": key,
                "label": prop.get("title") or key.replace("_", " ").capitalize(),
                "description": prop.get("description", ""),
                "node": node(data[key], prop, schema, ctx, (key,)),
            }
        )
    return rows


def prop(schema: dict[str, Any], key: str) -> dict[str, Any]:
    """The schema of a top-level field."""
    return subschema(schema, key, schema)


def node_label(schema: dict[str, Any], key: str) -> str:
    """The label of a top-level field: its schema title, else its name."""
    return _label(schema, key, schema)
