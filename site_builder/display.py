"""Turn values into display nodes for templates: formatted dates, numbers, links, citations, flags."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from . import schema as schemas
from .labels import Labels
from .schema import BASE_PROPERTIES, resolve, subschema


def node(value: Any, schema: dict[str, Any], root: dict[str, Any], ctx: Any, at: tuple[str | int, ...]) -> dict[str, Any]:
    """A display node for one value: text, link, list, table or nested fields, with its citations."""
    schema = resolve(schema, root)
    marks = ctx.marks(at)
    if isinstance(value, list):
        item_schema = subschema(schema, 0, root)
        if value and all(isinstance(v, dict) for v in value) and item_schema.get("properties"):
            keys = [k for k in item_schema["properties"] if any(k in v for v in value)]
            rows, row_marks = [], []
            for i, v in enumerate(value):
                shared = _shared_facts(ctx, [(*at, i, k) for k in keys if k in v])  # cited alike: cited once, at the end
                quiet = _Quiet(ctx, {path for paths in shared.values() for path in paths})
                rows.append(
                    [node(v[k], subschema(item_schema, k, root), root, quiet, (*at, i, k)) if k in v else _empty() for k in keys]
                )
                row_marks.append(ctx.marks((*at, i)) + Markup("").join(ctx.fact_marks(f) for f in shared))
            return {
                "kind": "table",
                "marks": marks,
                "columns": [_label(item_schema, k, root) for k in keys],
                "rows": rows,
                "row_marks": row_marks,  # a fact object around a whole row, and the facts its cells share
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
    text, href = _scalar(value, schema, ctx.labels), ""
    if schema.get("x-ref") and isinstance(value, str):
        href, text = ctx.link(value, str(schema["x-ref"]))
    elif schema.get("format") == "uri" and isinstance(value, str):
        href = value
    return {
        "kind": "text",
        "text": text,
        "href": href,
        "lang": schema.get("x-lang", ""),
        "marks": marks,
        **_machine(value, schema),
    }


def _machine(value: Any, schema: dict[str, Any]) -> dict[str, str]:
    """The value as machines read it, the same in every language: a date for <time datetime>, a number for <data>."""
    if isinstance(value, str) and schema.get("format") == "date" and schemas.DATE.match(value):
        return {"datetime": value, "value": ""}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"datetime": "", "value": str(value)}
    return {"datetime": "", "value": ""}


def _empty() -> dict[str, Any]:
    return {"kind": "text", "text": "", "href": "", "lang": "", "marks": Markup(""), "datetime": "", "value": ""}


def _scalar(value: Any, schema: dict[str, Any], labels: Labels) -> str:
    if isinstance(value, str):
        return labels.date(value) if schema.get("format") == "date" else value
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        unit = str(schema.get("x-unit", ""))
        sep = "" if unit in ("%", "") else " "
        return f"{labels.number(value, grouped=bool(unit))}{sep}{unit}"
    return str(value)


Provenance = tuple[tuple[str, ...], str]  # a fact's sources and status


def _shared_facts(ctx: Any, paths: list[tuple[str | int, ...]]) -> dict[Provenance, list[tuple[str | int, ...]]]:
    """The provenance that two or more of a row's cells share, with the cells that carry it."""
    found: dict[Provenance, list[tuple[str | int, ...]]] = {}
    for path in paths:
        fact = ctx.fact(path)
        if fact is not None:
            found.setdefault(fact, []).append(path)
    return {fact: where for fact, where in found.items() if len(where) > 1}


class _Quiet:
    """A display context that leaves out the marks of some cells (their row shows them once)."""

    def __init__(self, ctx: Any, hushed: set[tuple[str | int, ...]]) -> None:
        self.ctx, self.hushed, self.labels = ctx, hushed, ctx.labels

    def link(self, value: str, kind: str) -> tuple[str, str]:
        return self.ctx.link(value, kind)  # type: ignore[no-any-return]

    def marks(self, at: tuple[str | int, ...]) -> Markup:
        return Markup(self.ctx.note(at) if at in self.hushed else self.ctx.marks(at))  # a note stays with its own value

    def fact(self, at: tuple[str | int, ...]) -> Provenance | None:
        return None if at in self.hushed else self.ctx.fact(at)

    def note(self, at: tuple[str | int, ...]) -> Markup:
        return Markup(self.ctx.note(at))

    def fact_marks(self, fact: Provenance) -> Markup:
        return self.ctx.fact_marks(fact)  # type: ignore[no-any-return]


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
