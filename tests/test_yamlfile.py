"""The YAML loader: plain values with positions; every problem located."""

from __future__ import annotations

import pytest

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


def test_positions_are_worked_out_lazily_and_correctly() -> None:
    doc = load("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    assert doc._marks is None  # the quick path noted no positions
    assert doc.mark(("b", "c", 1)) == (3, 10)
    assert doc.key_mark(("b", "c")) == (3, 3)
