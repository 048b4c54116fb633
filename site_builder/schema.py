"""JSON Schema validation with located, human messages; schema look-ups for display."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

try:  # an accelerator: without it, jsonschema checks everything (slower, same results)
    import fastjsonschema
except ImportError:  # pragma: no cover - installed with site_builder
    fastjsonschema = None  # type: ignore[assignment]

if TYPE_CHECKING:  # jsonschema is imported when first needed: 60 ms that a build of edited prose alone does not need
    from jsonschema import Draft202012Validator, FormatChecker

from .errors import SiteError, did_you_mean
from .yamlfile import Mark, Path_

# Fields every record has, whatever its collection's schema says.
BASE_PROPERTIES: dict[str, Any] = {
    "title": {"type": "string", "minLength": 1, "title": "Title"},
    "summary": {"type": "string", "title": "Summary"},
    "sources": {"type": "array", "items": {"type": "string"}, "title": "Sources"},
    "updated": {"type": "string", "format": "date", "title": "Last updated"},
}
# The formats as patterns that mean the same in Python and in ECMAScript (the dialect of JSON Schema's `pattern`):
# [0-9], not \d (Unicode digits in Python); (?![\s\S]) for the very end, where Python's $ also allows a final newline.
_END = r"(?![\s\S])"
DATE_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?" + _END
URI_PATTERN = r"^https?://[^\x00-\x20\x7f/?#\[\]]+([/?#][^\x00-\x20\x7f]*)?" + _END
DATE = re.compile(DATE_PATTERN)
URI = re.compile(URI_PATTERN)
YEARS = "x-years"  # marks a date field of a record schema where a bare year (a whole number) is read as the year
FIRST_YEAR, LAST_YEAR = 1000, 9999


@functools.cache
def formats() -> FormatChecker:
    """JSON Schema's format checks, with this site's dates and web addresses."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("date")(_is_date)
    checker.checks("uri")(_is_uri)
    return checker


def _is_date(value: object) -> bool:
    """Dates may be partial: 2019, 2019-10 or 2019-10-19."""
    return not isinstance(value, str) or bool(DATE.match(value))


def _is_uri(value: object) -> bool:
    """An http(s) address with a host, and nothing urlsplit refuses."""
    if not isinstance(value, str):
        return True
    try:
        return bool(URI.match(value)) and bool(urlsplit(value).netloc)
    except ValueError:  # e.g. a host that Unicode normalisation turns into '/'
        return False


def is_year(value: object) -> bool:
    """A bare year, 1000 to 9999, written as a whole number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return float(value).is_integer() and FIRST_YEAR <= value <= LAST_YEAR


@functools.cache
def _validator_type() -> Any:
    """Draft 2020-12, but a bare year passes `type` for text in a date field of a record (marked `x-years`)."""
    from jsonschema import Draft202012Validator, validators

    draft_type = Draft202012Validator.VALIDATORS["type"]

    def type_or_year(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
        if schema.get(YEARS) and "string" in ([types] if isinstance(types, str) else types) and is_year(instance):
            return
        yield from draft_type(validator, types, instance, schema)

    return validators.extend(Draft202012Validator, {"type": type_or_year})  # type: ignore[no-untyped-call]


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of fields",
    "null": "empty",
}


def record_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A collection schema with the base fields added; unknown fields are errors unless it says otherwise."""
    full = copy.deepcopy(schema)
    full.setdefault("type", "object")
    full["properties"] = {**copy.deepcopy(BASE_PROPERTIES), **full.get("properties", {})}
    full["required"] = sorted({"title", *full.get("required", [])})
    full.setdefault("additionalProperties", False)
    _mark_years(full)
    return full


def _mark_years(schema: Any) -> None:
    """Mark every text field with `format: date`: there a bare year, `founded: 2017`, means the text "2017"."""
    if isinstance(schema, list):
        for part in schema:
            _mark_years(part)
    if not isinstance(schema, dict):
        return
    if schema.get("format") == "date" and _allows_text(schema):
        schema[YEARS] = True
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs", "dependentSchemas") and isinstance(value, dict):
            _mark_years(list(value.values()))
        elif key not in ("enum", "const", "default", "examples", "required") and not key.startswith("x-"):
            _mark_years(value)


def _allows_text(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


# Where a record's bare years can stand: (is it a marked date field, its fields' plans, its items' plan).
_Plan = tuple[bool, dict[str, "_Plan"], "_Plan | None"]


def years_as_text(data: Any, schema: dict[str, Any]) -> Any:
    """`data` with each bare year in a marked date field (see `record_schema`) as its text: 2017 -> "2017".

    Follows properties, items and $ref; parts without a year are returned as they are, not copied."""
    plan = _years_plan(schema, schema, 0)
    return data if plan is None else _years_as_text(data, plan)


def read_years(data: Any, schema_json: str) -> Any:
    """`years_as_text` for a record and its schema as validated (serialised, sorted keys)."""
    plan = _cached_plan(schema_json)
    return data if plan is None else _years_as_text(data, plan)


@functools.lru_cache(maxsize=64)
def _cached_plan(schema_json: str) -> _Plan | None:
    root = json.loads(schema_json)
    return _years_plan(root, root, 0)


def _years_plan(schema: dict[str, Any], root: dict[str, Any], depth: int) -> _Plan | None:
    """The parts of `schema` that hold marked date fields; None if none does (a $ref is followed 16 deep)."""
    if depth > 16:
        return None
    schema = resolve(schema, root)
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    fields = {k: p for k, sub in props.items() if isinstance(sub, dict) and (p := _years_plan(sub, root, depth + 1))}
    items = schema.get("items")
    inside = _years_plan(items, root, depth + 1) if isinstance(items, dict) else None
    date = bool(schema.get(YEARS))
    return (date, fields, inside) if date or fields or inside else None


def _years_as_text(data: Any, plan: _Plan) -> Any:
    date, fields, inside = plan
    if date and is_year(data):
        return str(int(data))
    if fields and isinstance(data, dict):
        new = {k: _years_as_text(data[k], p) for k, p in fields.items() if k in data}
        changed = {k: v for k, v in new.items() if v is not data[k]}
        return {**data, **changed} if changed else data
    if inside and isinstance(data, list):
        items = [_years_as_text(v, inside) for v in data]
        return data if all(a is b for a, b in zip(items, data, strict=True)) else items
    return data


def schema_problems(schema: Any) -> list[str]:
    """What is wrong with a schema itself, as messages."""
    return list(_schema_problems(json.dumps(schema, sort_keys=True)))


@functools.lru_cache(maxsize=64)  # checking against the metaschema costs more than validating every record
def _schema_problems(schema_json: str) -> tuple[str, ...]:
    schema = json.loads(schema_json)
    refs = [r for r in _refs(schema) if not re.match(r"^#/\$defs/[^/]+$", r)]
    if refs:
        return (f"unsupported $ref {refs[0]!r}: only '#/$defs/<name>' is supported",)
    from jsonschema import Draft202012Validator, SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "the top level"
        return (f"invalid schema at {where}: {exc.message}",)
    return ()


def _refs(schema: Any) -> list[str]:
    """Every $ref in a schema."""
    if isinstance(schema, dict):
        own = [str(schema["$ref"])] if "$ref" in schema else []
        return own + [r for v in schema.values() for r in _refs(v)]
    if isinstance(schema, list):
        return [r for v in schema for r in _refs(v)]
    return []


def validate(
    data: Any,
    schema: dict[str, Any],
    path: str,
    mark: Callable[[Path_], Mark],
    key_mark: Callable[[Path_], Mark],
) -> list[SiteError]:
    """Every way `data` breaks `schema`, each located at the value (or key) at fault."""
    return validate_json(data, json.dumps(schema, sort_keys=True), path, mark, key_mark)


def validate_json(
    data: Any,
    schema_json: str,
    path: str,
    mark: Callable[[Path_], Mark],
    key_mark: Callable[[Path_], Mark],
) -> list[SiteError]:
    """`validate`, for a schema already serialised (sorted keys): its validator is built once per schema."""
    quick = _quick_check(schema_json)
    if quick is not None and quick(data):
        return []
    validator = _validator(schema_json)
    errors: list[SiteError] = []
    try:
        found = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    except RecursionError:
        return [SiteError(path, "the schema refers to itself without end", "check the $defs that $ref points to")]
    for error in found:
        errors.extend(_explain(error, path, mark, key_mark))
    return errors


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    """One validator per distinct schema: building one for every record costs more than validating."""
    validator: Draft202012Validator = _validator_type()(json.loads(schema_json), format_checker=formats())
    return validator


# Keywords whose meaning is the same in fastjsonschema's draft 7 and in JSON Schema 2020-12. A schema that uses
# anything else is only checked the slow way: the quick check must never pass what jsonschema would refuse.
_QUICK_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "patternProperties", "items", "minItems", "maxItems",
    "uniqueItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "enum", "const", "anyOf", "allOf", "oneOf", "not", "minProperties", "maxProperties", "format", "$defs", "$ref",
    "title", "description", "default", "examples", "$schema", "$comment",
}  # fmt: skip
_ANNOTATIONS = {"title", "description", "default", "examples", "$comment"}


@functools.lru_cache(maxsize=64)
def _quick_check(schema_json: str) -> Callable[[Any], bool] | None:
    """A compiled yes/no check, about 20 times faster than jsonschema; None when the schema is outside what it
    provably agrees on. Only a "no" needs jsonschema, which then explains every error."""
    schema = json.loads(schema_json)
    if fastjsonschema is None or not _quick_safe(schema, at_top=True):
        return None
    schema.pop("$schema", None)
    formats = {"date": lambda v: _is_date(v), "uri": lambda v: _is_uri(v)}
    try:
        compiled = fastjsonschema.compile(schema, formats=formats, use_default=False)
    except Exception:  # a schema fastjsonschema cannot compile is simply checked the slow way
        return None

    def check(data: Any) -> bool:
        try:
            compiled(data)
        except fastjsonschema.JsonSchemaValueException:
            return False
        except RecursionError:
            return False
        return True

    return check


def _quick_safe(schema: Any, at_top: bool = False) -> bool:
    """Whether every part of `schema` uses only keywords (and formats) the quick check handles alike."""
    if isinstance(schema, bool):  # true or false as a whole schema
        return True
    if not isinstance(schema, dict):
        return False
    for key, value in schema.items():
        if key.startswith("x-") or key in _ANNOTATIONS:
            continue
        if key not in _QUICK_KEYWORDS or (key == "$schema" and not at_top):
            return False
        if key == "$ref" and set(schema) - _ANNOTATIONS - {"$ref"}:
            return False  # draft 7 ignores the keywords beside a $ref; 2020-12 applies them
        if key == "format" and value not in ("date", "uri"):
            return False
        if key in ("properties", "patternProperties", "$defs"):
            parts = list(value.values()) if isinstance(value, dict) else [None]
        elif key in ("items", "additionalProperties", "not"):
            parts = [value]
        elif key in ("anyOf", "allOf", "oneOf"):
            parts = value if isinstance(value, list) else [None]
        else:
            parts = []
        if not all(_quick_safe(part) for part in parts):
            return False
    return True


def _explain(error: Any, path: str, mark: Callable[[Path_], Mark], key_mark: Callable[[Path_], Mark]) -> Iterator[SiteError]:
    at: Path_ = tuple(error.absolute_path)
    name = _field_name(at)
    kind = error.validator
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - known):
            hint = did_you_mean(key, known) or f"known fields: {', '.join(sorted(known))}"
            yield SiteError(path, f"unknown field '{_field_name((*at, key))}'", hint, *key_mark((*at, key)))
        return
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        yield SiteError(path, f"missing required field '{_field_name((*at, missing))}'", f"add '{missing}:'", *mark(at))
        return
    if kind == "type":
        wanted = error.validator_value
        wanted_names = " or ".join(_TYPE_NAMES.get(w, w) for w in ([wanted] if isinstance(wanted, str) else wanted))
        got = _TYPE_NAMES.get(_json_type(error.instance), "something else")
        hint = _type_hint(error.schema, error.instance, at) or f"write {wanted_names} here"
        yield SiteError(path, f"'{name}' should be {wanted_names}, not {got}", hint, *mark(at))
        return
    if kind == "enum":
        options = ", ".join(map(str, error.validator_value))
        hint = did_you_mean(str(error.instance), map(str, error.validator_value)) or f"use one of: {options}"
        yield SiteError(path, f"'{name}' is {error.instance!r}, not one of {options}", hint, *mark(at))
        return
    if kind == "format":
        fmt = error.validator_value
        want = {"date": "a date as YYYY, YYYY-MM or YYYY-MM-DD", "uri": "an address starting with https://"}
        yield SiteError(path, f"'{name}' is not a valid {fmt}: {error.instance!r}", f"write {want.get(fmt, fmt)}", *mark(at))
        return
    yield SiteError(path, f"'{name}': {error.message}", "see the collection's schema", *mark(at))


def _type_hint(schema: dict[str, Any], value: Any, at: Path_) -> str:
    """For a number where text is wanted: how to write it as text, with the field's own name and value."""
    if not _allows_text(schema) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    key = f"{at[-1]}: " if at and isinstance(at[-1], str) else "- " if at else ""
    if schema.get("format") == "date" and not is_year(value):
        return "write a date as YYYY, YYYY-MM or YYYY-MM-DD"
    return f'quote it: {key}"{value}"'


def _field_name(at: Path_) -> str:
    return ".".join(str(p) for p in at) or "(top level)"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def subschema(schema: dict[str, Any], step: str | int, root: dict[str, Any]) -> dict[str, Any]:
    """The schema of `step` (a property name or a list index) inside `schema`."""
    schema = resolve(schema, root)
    if isinstance(step, int):
        items = schema.get("items", {})
        return resolve(items, root) if isinstance(items, dict) else {}
    props = schema.get("properties", {})
    return resolve(props.get(step, {}), root)


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` ('#/$defs/stake') to the schema it names."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 16:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema if isinstance(schema, dict) else {}


def editor_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A record schema (see `record_schema`) as published for editors: it accepts what the build accepts.

    Wherever a value may stand, a fact object may stand too; site_builder's formats become patterns, so that any
    validator, with format checks on or off, reads them as the build does."""
    out: dict[str, Any] = _published(schema)
    return {**out, "$schema": "https://json-schema.org/draft/2020-12/schema"}  # as the build reads every schema


# Keywords whose schemas describe values inside the value (a fact object may stand there), and those whose schemas
# describe the same value (it is wrapped once, where it stands).
_INSIDE_MAPS = ("properties", "patternProperties")
_INSIDE = ("additionalProperties", "items", "contains", "unevaluatedProperties", "unevaluatedItems")
_SAME_MAPS = ("$defs", "dependentSchemas")
_SAME_LISTS = ("anyOf", "oneOf", "allOf")
_SAME = ("not", "if", "then", "else", "propertyNames")
_DATE_TEXT = "Partial dates are allowed: YYYY, YYYY-MM or YYYY-MM-DD."
_YEAR = {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR, "$comment": "a bare year, read as its text"}


def _published(schema: Any) -> Any:
    """One schema and everything under it, as published."""
    if not isinstance(schema, dict):
        return schema
    out = _formats_as_patterns({k: v for k, v in schema.items() if k != YEARS}, bool(schema.get(YEARS)))
    for key, value in out.items():
        if key in _INSIDE_MAPS and isinstance(value, dict):
            out[key] = {name: _fact_or(_published(sub)) for name, sub in value.items()}
        elif key in _INSIDE and isinstance(value, dict):
            out[key] = _fact_or(_published(value))
        elif key == "prefixItems" and isinstance(value, list):
            out[key] = [_fact_or(_published(sub)) for sub in value]
        elif key in _SAME_MAPS and isinstance(value, dict):
            out[key] = {name: _published(sub) for name, sub in value.items()}
        elif key in _SAME_LISTS and isinstance(value, list):
            out[key] = [_published(sub) for sub in value]
        elif key in _SAME:
            out[key] = _published(value)
    return out


def _formats_as_patterns(schema: dict[str, Any], years: bool) -> dict[str, Any]:
    """`format: date` and `format: uri` as the patterns the build checks; a marked date field also takes a year."""
    fmt = schema.get("format")
    if fmt not in ("date", "uri"):
        return schema
    out = {k: v for k, v in schema.items() if k != "format"}
    if fmt == "uri":
        return {"$comment": "An http:// or https:// address with a host."} | _also(out, "pattern", URI_PATTERN)
    if not years:
        return {"$comment": _DATE_TEXT} | _also(out, "pattern", DATE_PATTERN)
    text = {"type": out.pop("type"), "pattern": DATE_PATTERN}
    return {"$comment": f"{_DATE_TEXT} A bare year may be a whole number."} | _also(out, "anyOf", [text, _YEAR])


def _also(schema: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """`schema` with one more keyword; if it already has that one, the new one is added under allOf."""
    if key not in schema:
        return {**schema, key: value}
    return {**schema, "allOf": [*schema.get("allOf", []), {key: value}]}


def _fact_or(sub: Any) -> Any:
    """The schema of a value, or of a fact object holding such a value (see content.is_fact)."""
    fact = {
        "type": "object",
        "required": ["value"],
        "additionalProperties": False,
        "properties": {
            "value": sub,
            "sources": {"type": "array", "items": {"type": "string"}},
            "status": {"enum": ["unconfirmed", "weak", ""]},
            "note": {"type": "string"},
        },
    }
    if not isinstance(sub, dict):  # true or false as a whole schema
        return {"anyOf": [sub, fact]}
    return {"anyOf": [sub, fact], **{k: sub[k] for k in ("title", "description") if k in sub}}
