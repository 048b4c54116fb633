"""The YAML loader: plain values with positions; every problem located."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.errors import SiteError
from site_builder.yamlfile import decode, load


def error_of(text: str) -> SiteError:
    with pytest.raises(SiteError) as info:
        load(text, "f.yaml")
    return info.value


def test_values_and_positions() -> None:
    doc = load("a: 1\nb:\n  - x\n  - {c: 2020-01-02}\n", "f.yaml")
    assert doc.value == {"a": 1, "b": ["x", {"c": "2020-01-02"}]}
    assert doc.mark(("b", 1, "c")) == (4, 9)
    assert doc.key_mark(("b",)) == (2, 1)
    assert doc.mark(("missing", "deeper")) == (1, 1)


def test_duplicate_key_names_both_lines() -> None:
    err = error_of("title: A\nkind: x\ntitle: B\n")
    assert (err.line, err.col) == (3, 1)
    assert "duplicate key 'title' (first on line 1)" in err.message


def test_duplicate_key_in_nested_mapping() -> None:
    err = error_of("a:\n  b: 1\n  b: 2\n")
    assert (err.line, err.message) == (3, "duplicate key 'b' (first on line 2)")


def test_python_tags_are_refused() -> None:
    err = error_of("a: !!python/object/apply:os.system [echo hi]\n")
    assert err.line == 1 and "!tag" in err.hint


def test_syntax_error_is_located() -> None:
    err = error_of("a: [1, 2\nb: 3\n")
    assert err.message.startswith("YAML syntax error") and err.line == 2


def test_tab_indentation_is_located() -> None:
    err = error_of("a:\n\t- b\n")
    assert err.line == 2


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    err = error_of("\n".join(lines) + "\n")
    assert "alias" in err.message


def test_recursive_alias_is_refused() -> None:
    err = error_of("- &a [*a]\n")
    assert "deeper" in err.message or "alias" in err.message


def test_merge_keys_work() -> None:
    doc = load("base: &b {x: 1}\nthing:\n  <<: *b\n  y: 2\n", "f.yaml")
    assert doc.value["thing"] == {"x": 1, "y": 2}


def test_nul_character_is_refused() -> None:
    err = error_of("a: b\nc: \x00\n")
    assert err.line == 2


def test_decode_bom_crlf_and_bad_bytes() -> None:
    assert load(decode(b"\xef\xbb\xbfa: 1\r\nb: 2\r\n", "f.yaml"), "f.yaml").value == {"a": 1, "b": 2}
    with pytest.raises(SiteError) as info:
        decode(b"a: 1\nb: caf\xe9\n", "f.yaml")
    assert (info.value.line, info.value.col) == (2, 7)
    assert "not UTF-8" in info.value.message


def test_key_must_be_text() -> None:
    assert error_of("[1, 2]: x\n").message == "a key must be plain text"


@pytest.mark.parametrize(
    "text",
    [
        "title: A\nfounded: {value: 2011, sources: [a, b]}\nwhen: 2018-07-28\nat: 2020-01-01 10:00:00\nn: ~\nf: 1.5\nb: yes\n",
        "- id: s1\n  title: 'x: y'\n  published: 2020-10\n- id: s2\n  tags: [1, 2.5, true, null]\n",
        "2019: first\n3.5: second\nkey: |\n  a block\n  of text\n",
    ],
)
def test_quick_and_careful_paths_give_the_same_values(text: str) -> None:
    from site_builder.yamlfile import _load_fast, _load_located

    assert _load_fast(text) == _load_located(text, "f.yaml").value


_PIECES = [
    "a: 1\n", "- x\n", "  b: [1, 2]\n", "c: {d: e}\n", "- {id: s, n: 2.5}\n", "k: 'q: r'\n", '"2019": y\n',
    "t: 2020-01-02\n", "u: !!str 12\n", "v: !!int x\n", "w: |\n  block\n", "x: ~\n", "? complex\n: key\n",
    "[1]: z\n", "a: 2\n", "---\n", "y: &an 1\n", "z: !custom 1\n", "s: !!set {a}\n", "  - nested\n", "b: yes\n",
    "e: \n", "f: .inf\n", "g: 0x1F\n", "h: 1_000\n", "i: '2019'\n", "- - deep\n", "j: [a, {b: c}]\n", "%YAML 1.1\n",
]  # fmt: skip


@settings(max_examples=400, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(st.lists(st.sampled_from(_PIECES), max_size=8))
def test_quick_path_gives_what_the_careful_path_gives_or_steps_aside(pieces: list[str]) -> None:
    """The quick path either returns exactly the careful path's values or raises, leaving the careful path to judge."""
    from site_builder.yamlfile import _load_fast, _load_located

    text = "".join(pieces)
    try:
        quick = _load_fast(text)
    except Exception:  # any refusal is fine: load() then takes the careful path
        return
    try:
        careful = _load_located(text, "f.yaml").value
    except SiteError as exc:
        raise AssertionError(f"quick path accepted what the careful path refuses ({exc.message}): {text!r}") from None
    assert quick == careful
    assert [type(v) for v in _leaves(quick)] == [type(v) for v in _leaves(careful)]


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in [k, *_leaves(v)]]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def test_positions_are_worked_out_lazily_and_correctly() -> None:
    doc = load("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    assert doc._marks is None  # the quick path noted no positions
    assert doc.mark(("b", "c", 1)) == (3, 10)
    assert doc.key_mark(("b", "c")) == (3, 3)
