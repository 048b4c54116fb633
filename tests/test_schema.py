"""The quick schema check (fastjsonschema) must never pass a value that jsonschema refuses."""

from __future__ import annotations

import json
import os
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder import schema
from site_builder.content import CHARTS_SCHEMA, SOURCES_SCHEMA

RECORD = schema.record_schema(
    {
        "type": "object",
        "required": ["kind"],
        "$defs": {"stake": {"type": "object", "required": ["partner"], "properties": {"partner": {"type": "string"}}}},
        "properties": {
            "kind": {"enum": ["maker", "supplier", 1, True]},
            "founded": {"type": "integer", "minimum": 1800, "maximum": 2100},
            "share": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "flag": {"const": False},
            "ticker": {"type": "string", "pattern": "^[A-Z]+$", "minLength": 1, "maxLength": 6},
            "site": {"type": "string", "format": "uri"},
            "opened": {"type": "string", "format": "date"},
            "stakes": {"type": "array", "items": {"$ref": "#/$defs/stake"}, "minItems": 1, "uniqueItems": True},
            "either": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 5}]},
            "meta": {"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False},
        },
    }
)
SCHEMAS = [RECORD, SOURCES_SCHEMA, CHARTS_SCHEMA]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2200),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["maker", "ABC", "abc", "ABC\n", "https://x", "2019-13", "2019-10-19", "", "x-a", "partner"]),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["partner", "kind", "title", "id", "name", "values", "x-a", "b", "value"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    ["title", "kind", "founded", "share", "flag", "ticker", "site", "opened", "stakes", "either", "one", "meta", "x"]
)
records = st.dictionaries(keys, values, max_size=8)
entries = st.lists(
    st.dictionaries(
        st.sampled_from(["id", "title", "url", "published", "categories", "series", "description", "kind"]),
        values,
        max_size=6,
    ),
    max_size=3,
)


def agrees(schema_value: dict[str, Any], data: Any) -> None:
    schema_json = json.dumps(schema_value, sort_keys=True)
    quick = schema._quick_check(schema_json)
    assert quick is not None, "the test schemas are all within what the quick check supports"
    slow_ok = not list(schema._validator(schema_json).iter_errors(data))  # the build's own validator
    if quick(data):
        assert slow_ok, f"quick check passed what jsonschema refuses: {data!r}"


QUICK = settings(
    max_examples=400,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)


@QUICK
@given(records)
def test_quick_check_never_passes_a_bad_record(data: dict[str, Any]) -> None:
    agrees(RECORD, data)


@QUICK
@given(entries, st.sampled_from([SOURCES_SCHEMA, CHARTS_SCHEMA]))
def test_quick_check_never_passes_a_bad_data_file(data: list[Any], which: dict[str, Any]) -> None:
    agrees(which, data)


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"title": "T", "kind": "maker"}, True),
        ({"title": "T", "kind": 1}, True),
        ({"title": "T", "kind": True}, True),
        ({"title": "T", "kind": 1.0}, True),  # 1.0 equals 1 in JSON Schema
        ({"title": "T", "kind": False}, False),
        ({"title": "T", "kind": "maker", "founded": 2001.0}, True),
        ({"title": "T", "kind": "maker", "founded": True}, False),
        ({"title": "T", "kind": "maker", "ticker": "ABC\n"}, True),  # Python's $ matches before a final newline
        ({"title": "T", "kind": "maker", "stakes": [{"partner": "A"}, {"partner": "A"}]}, False),
        ({"title": "T", "kind": "maker", "opened": "2019-10"}, True),
        ({"title": "T", "kind": "maker", "opened": "19-10-2019"}, False),
        ({"title": "", "kind": "maker"}, False),
    ],
)
def test_the_two_checks_agree_on_the_edge_cases(data: dict[str, Any], valid: bool) -> None:
    """Where draft 7 and 2020-12 or Python's and JSON's equality differ, both checks say the same."""
    quick = schema._quick_check(json.dumps(RECORD, sort_keys=True))
    assert quick is not None
    slow_ok = not list(jsonschema.Draft202012Validator(RECORD, format_checker=schema.formats()).iter_errors(data))
    assert slow_ok == valid
    assert valid or not quick(data), "a refusal only costs time (jsonschema decides); a pass must be right"


@pytest.mark.parametrize(
    "unsupported",
    [
        {"type": "object", "dependentRequired": {"a": ["b"]}},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/x", "minLength": 3}}, "$defs": {"x": {}}},
        {"type": "string", "format": "email"},
        {"type": "object", "unevaluatedProperties": False},
    ],
)
def test_schemas_outside_the_quick_subset_are_checked_the_slow_way(unsupported: dict[str, Any]) -> None:
    assert schema._quick_check(json.dumps(unsupported, sort_keys=True)) is None


def test_a_refused_record_still_gets_every_located_message() -> None:
    data = {"title": "T", "kind": "makr", "founded": "1990"}
    found = schema.validate(data, RECORD, "content/x.yaml", lambda at: (1, 1), lambda at: (1, 1))
    assert sorted(e.message for e in found) == [
        "'founded' should be a whole number, not text",
        "'kind' is 'makr', not one of maker, supplier, 1, True",
    ]


def errors(data: dict[str, Any], against: dict[str, Any] = RECORD) -> list[tuple[str, str]]:
    """The build's (message, hint) for each way `data` breaks `against`."""
    found = schema.validate(data, against, "content/x.yaml", lambda at: (1, 1), lambda at: (1, 1))
    return [(e.message, e.hint) for e in found]


@pytest.mark.parametrize("year", [2017, 1000, 9999, 2017.0])
def test_a_bare_year_in_a_date_field_of_a_record_is_the_year(year: int | float) -> None:
    data = {"title": "T", "kind": "maker", "opened": year, "stakes": [{"partner": "A", "since": year}]}
    stake = {"type": "object", "properties": {"partner": {"type": "string"}, "since": {"type": "string", "format": "date"}}}
    stakes = {"type": "array", "items": {"$ref": "#/$defs/stake"}}
    with_since = schema.record_schema({"properties": {**RECORD["properties"], "stakes": stakes}, "$defs": {"stake": stake}})
    assert errors(data, with_since) == []
    written = str(int(year))
    assert schema.years_as_text(data, with_since) == {
        "title": "T", "kind": "maker", "opened": written, "stakes": [{"partner": "A", "since": written}]
    }  # fmt: skip
    assert schema.years_as_text({"title": "T", "opened": "2019-10"}, with_since) == {"title": "T", "opened": "2019-10"}


def test_a_bare_year_counts_as_updated_too() -> None:
    assert errors({"title": "T", "kind": "maker", "updated": 2020}) == []


@pytest.mark.parametrize("value", [17, 20171019, 999, 10000, 2017.5, True])
def test_a_number_that_is_no_year_is_refused_with_how_to_write_a_date(value: object) -> None:
    found = errors({"title": "T", "kind": "maker", "opened": value})
    assert len(found) == 1 and found[0][0].startswith("'opened' should be text, not ")
    if not isinstance(value, bool):
        assert found[0][1] == "write a date as YYYY, YYYY-MM or YYYY-MM-DD"


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("ticker", 2017, 'quote it: ticker: "2017"'),
        ("ticker", 1.5, 'quote it: ticker: "1.5"'),
    ],
)
def test_a_number_in_a_text_field_is_refused_with_how_to_quote_it(field: str, value: object, hint: str) -> None:
    assert errors({"title": "T", "kind": "maker", field: value}) == [
        (f"'{field}' should be text, not {'a whole number' if isinstance(value, int) else 'a number'}", hint)
    ]


def test_a_number_in_a_list_of_text_is_quoted_as_a_list_item() -> None:
    assert errors({"title": "T", "kind": "maker", "sources": ["a", 2017]}) == [
        ("'sources.1' should be text, not a whole number", 'quote it: - "2017"')
    ]


def test_a_bare_year_is_only_a_year_in_records_not_in_data_files() -> None:
    """Data files (sources, timeline) are read as written: their dates stay text, and the hint says to quote."""
    found = errors([{"id": "s1", "title": "T", "published": 2017}], SOURCES_SCHEMA)  # type: ignore[arg-type]
    assert found == [("'0.published' should be text, not a whole number", 'quote it: published: "2017"')]


def test_the_quick_check_never_passes_a_year_it_cannot_judge() -> None:
    """fastjsonschema knows no bare years: it refuses them, and jsonschema (the build's validator) decides."""
    quick = schema._quick_check(json.dumps(RECORD, sort_keys=True))
    assert quick is not None and not quick({"title": "T", "kind": "maker", "opened": 2017})


def test_read_years_turns_the_years_of_a_record_into_text() -> None:
    schema_json = json.dumps(RECORD, sort_keys=True)
    plain = {"title": "T", "kind": "maker", "opened": "2019"}
    assert schema.read_years(plain, schema_json) is plain
    assert schema.read_years({**plain, "opened": 2019}, schema_json) == plain
