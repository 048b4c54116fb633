"""Fuzzing: mutated content either builds or fails with `path:line:col` messages; never a traceback, never a hang.

Every case rewrites one file of a single project folder (the fixture site, copied once per module), runs the
pure build in-process under a limit on its CPU time (not the clock: a busy machine must not make a case a hang),
and puts the file back. Any exception other than `BuildFailed` is a
bug, and so is a `BuildFailed` whose messages are not `path:line:col: …`. A bug found and not yet fixed can be
listed in `KNOWN_BUGS` (with an `xfail(strict=True)` regression test): a case that raises it then counts as a
known bug instead of failing the run, so the fuzzing keeps guarding everything else. The bugs found so far are
fixed; each stays below as a regression test.

Reproduce a failing run with the seed hypothesis prints: `pytest tests/test_fuzz.py --hypothesis-seed=N`.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import shutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing.exceptions import Unresolvable

from site_builder import markup
from site_builder.build import build_files
from site_builder.errors import BuildFailed, SiteError
from site_builder.tree import read_tree

from .conftest import FIXTURE, make_project
from .conftest import read_tree as read_out
from .cpu_limits import Hang, cpu_limit, run_cli_cpu

LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: .+")
CASE_SECONDS = 10.0  # CPU seconds: a case that uses more is a hang (the fixture builds in a tenth of a second)
MARKER = Path("/tmp/site-builder-fuzz-pwned")  # a YAML python tag would create this file
MARKER_BYTES = str(MARKER).encode()

YAML_FILES = [
    "site.yaml",
    "sources.yaml",
    "timeline.yaml",
    "glossary.yaml",
    "charts.yaml",
    "companies/alpha.yaml",
    "companies/beta.yaml",
    "policies/cap.yaml",
    "schemas/company.schema.yaml",
    "schemas/policy.schema.yaml",
]
MD_FILES = ["companies/alpha.md", "companies/beta.md", "pages/about.md", "pages/methodology.md"]
ALL_FILES = YAML_FILES + MD_FILES


class BareSiteError(Exception):
    """A SiteError that escaped build_files on its own, not inside BuildFailed."""

    def __init__(self, message: str, at: str) -> None:
        super().__init__(message)
        self.at = at


# Bugs found and not yet fixed: (bug, exception type, where the innermost site_builder frame is, as
# "file.py:function"). A case raising one of these counts as a known bug.
KNOWN_BUGS: list[tuple[str, type[BaseException], str]] = []  # all found so far are fixed; see the regressions below

STATS: Counter[str] = Counter()
SECONDS = [0.0]  # time spent in the fuzz cases themselves
RAN: set[str] = set()
PLANNED = 1000
# SITE_BUILDER_FUZZ_SCALE=10 runs ten times as many cases; SITE_BUILDER_FUZZ_SURVEY=1 lists every kind of
# unexpected exception with an example instead of stopping at the first.
SCALE = float(os.environ.get("SITE_BUILDER_FUZZ_SCALE", "1"))
SURVEY: dict[str, Any] | None = {} if os.environ.get("SITE_BUILDER_FUZZ_SURVEY") else None


class TemplateCrash(Exception):
    """Content made rendering raise; render_pages reported it as an error of the (unchanged) template."""

    def __init__(self, message: str, at: str) -> None:
        super().__init__(message)
        self.at = at


def where(exc: BaseException) -> str:
    """The innermost site_builder frame of a traceback, as 'file.py:function'."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/site_builder/" in f.filename]
    return f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"


def known_bug(exc: BaseException) -> str:
    """The known bug this exception is, or ''."""
    at = exc.at if isinstance(exc, (BareSiteError, TemplateCrash)) else where(exc)
    return next((name for name, kind, place in KNOWN_BUGS if type(exc) is kind and at == place), "")


def build_with(project: Path, rel: str, data: bytes, limit: float = CASE_SECONDS) -> str:
    """Build with content/`rel` replaced by `data`; 'ok' or 'failed', or raise what the build raised."""
    path = project / "content" / rel
    original = path.read_bytes()
    path.write_bytes(data)
    try:
        with cpu_limit(limit):
            build_files(read_tree(project))
    except BuildFailed as exc:
        assert exc.errors, "BuildFailed without errors"
        for error in exc.errors:
            assert LOCATED.match(str(error)), f"not a path:line:col message: {error!s}"
        crashed = [e for e in exc.errors if e.path.startswith("templates/")]
        if crashed:  # the templates are never mutated: an error in one is an exception raised while rendering content
            forget_markdown_state()
            raise TemplateCrash(str(crashed[0]), crashed[0].message.split(":", 2)[1].strip()) from None
        return "failed"
    except SiteError as exc:  # frozen: pytest and contextlib cannot set its __traceback__, so re-raise a plain one
        raise BareSiteError(f"{exc} (raised at {where(exc)})", where(exc)) from None
    finally:
        path.write_bytes(original)
    return "ok"


def forget_markdown_state() -> None:
    """Drop site_builder's reused Markdown instances: an exception inside one leaves it broken (a known bug,
    see test_markdown_error_does_not_poison_later_builds), which would skew every later case of this process."""
    renderers = getattr(markup, "_renderers", None)
    if isinstance(renderers, dict):
        renderers.clear()


def check(project: Path, rel: str, data: bytes, limit: float = CASE_SECONDS) -> None:
    """One fuzz case: count its outcome; anything but success or located errors fails the test."""
    started = time.perf_counter()
    try:
        outcome = build_with(project, rel, data, limit)
    except Hang:
        forget_markdown_state()
        raise
    except Exception as exc:
        forget_markdown_state()
        name = known_bug(exc)
        if not name and SURVEY is not None:
            name = f"{type(exc).__name__} at {where(exc)}"
            SURVEY.setdefault(name, (rel, data[:400], str(exc)[:200]))
        if not name:
            raise
        outcome = f"known bug: {name}"
    STATS[outcome] += 1
    STATS["cases"] += 1
    SECONDS[0] += time.perf_counter() - started
    assert not MARKER.exists(), "a YAML python tag was executed"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One project for the whole module; each case rewrites one file and puts it back."""
    MARKER.unlink(missing_ok=True)
    project = make_project(tmp_path_factory.mktemp("fuzz") / "project")
    originals = {rel: (project / "content" / rel).read_bytes() for rel in ALL_FILES}
    build_files(read_tree(project))  # the unmutated project builds
    yield project
    for rel, data in originals.items():
        assert (project / "content" / rel).read_bytes() == data, f"{rel} was not restored"


@pytest.fixture(scope="module")
def originals(site: Path) -> dict[str, bytes]:
    return {rel: (site / "content" / rel).read_bytes() for rel in ALL_FILES}


class _Summary:
    """Prints the case count at the end of the run (pytest_terminal_summary, registered from a fixture)."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(STATS.items()) if k != "cases")
        terminalreporter.write_line(f"fuzz: {STATS['cases']} cases in {SECONDS[0]:.1f} s ({counts or 'none'})")
        for name, example in (SURVEY or {}).items():
            terminalreporter.write_line(f"fuzz survey: {name}: {example!r}")


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> None:
    if not request.config.pluginmanager.has_plugin("site-builder-fuzz-summary"):
        request.config.pluginmanager.register(_Summary(), "site-builder-fuzz-summary")


# Under CI the cases are derandomized (the same 1,010 on every run, so a landing never depends on luck);
# locally each run explores new ones. SITE_BUILDER_FUZZ_SCALE widens either.
DERANDOMIZE = bool(os.environ.get("CI"))
FAST = settings(
    deadline=None,  # Hypothesis' deadline is clock time; cpu_limit is what tells a hang
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    derandomize=DERANDOMIZE,
)

# --- Byte-level mutations --------------------------------------------------------------------------------------------

TOKENS = [
    b"\t",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",  # an encoded surrogate: invalid UTF-8
    b"\xe2\x80\xa8",
    b"\xc2\x85",
    b"\x1b",
    b"\x7f",
    b"\xf0\x9f\x98\x80",
    b"&a ",
    b"*a",
    b"<<: ",
    b"<<: *a\n",
    b"!!python/object/apply:os.system ['touch " + MARKER_BYTES + b"']",
    b"!!python/object/new:os.system [x]",
    b"!!python/name:os.system",
    b"!!binary aGVsbG8=",
    b"!!set {a}",
    b"!!omap [a: 1]",
    b"!!timestamp 2020-01-01",
    b"!local ",
    b"%TAG ! tag:example.com,2000:\n---\n",
    b"%YAML 1.1\n---\n",
    b"[",
    b"]",
    b"{",
    b"}",
    b"- ",
    b": ",
    b":",
    b"---\n",
    b"...\n",
    b"'",
    b'"',
    b"#",
    b"|\n",
    b">-\n",
    b"? ",
    b",",
    b"\\",
    b"@",
    b"`",
    b"```\n",
    b"[[",
    b"]]",
    b"[[companies/alpha]]",
    b"[[nowhere/x#y|t]]",
    b"[@",
    b"[@src-one]",
    b"[@src-one; @nope]",
    b"[?]",
    b"[[charts/sales]]\n",
    b"<script>alert(1)</script>",
    b"[x](javascript:alert(1))",
    b"null",
    b"~",
    b"1e999",
    b".nan",
    b"-.inf",
    b"0x1F",
    b"0o17",
    b"2020-13-45",
    b"2020-02-30",
    b"yes",
    b"12:30:00",
    b"1_000",
    b"-1",
    b"../../etc/passwd",
    b"/../x/{slug}/",
    b"{slug}",
    b"$ref: '#'\n",
]


def _pos(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: _pos(draw, data)]


def _delete(draw: st.DrawFn, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + data[i + draw(st.integers(1, 40)) :]


def _insert_token(draw: st.DrawFn, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + draw(st.sampled_from(TOKENS)) + data[i:]


def _overwrite_token(draw: st.DrawFn, data: bytes) -> bytes:
    i, token = _pos(draw, data), draw(st.sampled_from(TOKENS))
    return data[:i] + token + data[i + len(token) :]


def _insert_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    i = _pos(draw, data)
    return data[:i] + draw(st.binary(min_size=1, max_size=12)) + data[i:]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _duplicate_line(draw: st.DrawFn, data: bytes) -> bytes:
    """A repeated line: a duplicate key in YAML, a repeated paragraph in Markdown."""
    lines = _lines(data)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines)))
    line = lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n"
    return b"".join([*lines[:j], line, *lines[j:]])


def _swap_lines(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def _indent_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    lines[i] = draw(st.sampled_from([b"\t", b"  ", b" ", b"    \t"])) + lines[i]
    return b"".join(lines)


def _whole_file(draw: st.DrawFn, data: bytes) -> bytes:
    how = draw(st.sampled_from(["crlf", "cr", "bom", "bom+crlf", "latin-1", "utf-16", "no-final-newline", "tabs"]))
    if how == "crlf":
        return data.replace(b"\n", b"\r\n")
    if how == "cr":
        return data.replace(b"\n", b"\r")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "bom+crlf":
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    if how == "latin-1":
        return data.decode("utf-8", errors="replace").encode("latin-1", errors="replace") + "é".encode("latin-1")
    if how == "utf-16":
        return data.decode("utf-8", errors="replace").encode("utf-16")
    if how == "tabs":
        return data.replace(b"  ", b"\t")
    return data.rstrip(b"\n")


BYTE_OPS: list[Callable[[st.DrawFn, bytes], bytes]] = [
    _truncate,
    _delete,
    _insert_token,
    _overwrite_token,
    _insert_bytes,
    _duplicate_line,
    _swap_lines,
    _indent_line,
    _whole_file,
]


@st.composite
def byte_mutation(draw: st.DrawFn, files: list[str]) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(files))
    data = (FIXTURE / "content" / rel).read_bytes()
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(BYTE_OPS))(draw, data)
    return rel, data


@settings(FAST, max_examples=int(350 * SCALE))
@given(case=byte_mutation(YAML_FILES))
def test_yaml_byte_mutations(site: Path, case: tuple[str, bytes]) -> None:
    RAN.add("yaml_bytes")
    check(site, *case)


@settings(FAST, max_examples=int(100 * SCALE))
@given(case=byte_mutation(MD_FILES))
def test_markdown_byte_mutations(site: Path, case: tuple[str, bytes]) -> None:
    RAN.add("markdown_bytes")
    check(site, *case)


# --- Swapped types: parse a valid file, replace one value by a value of another type, write it back ------------------

SPECIAL_TEXT = st.sampled_from(
    [
        "",
        " ",
        "../../outside",
        "/etc/passwd",
        "companies/alpha",
        "companies/nowhere",
        "alpha",
        "src-one",
        "src-two",
        "https://example.com/",
        "javascript:alert(1)",
        "<script>alert(1)</script>",
        "{slug}",
        "/x/{slug}/",
        "/../../{slug}/",
        "record.html",
        "../../x.html",
        "2020",
        "2020-13",
        "unconfirmed",
        "weak",
        "bar",
        "line",
        "x" * 300,
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=15)
    | SPECIAL_TEXT
    | st.dates(min_value=date(1, 1, 1))
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8) | SPECIAL_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*at, i))


def _replace(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    head, rest = at[0], at[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


def _delete_at(value: Any, at: tuple[Any, ...]) -> Any:
    head, rest = at[0], at[1:]
    if rest:
        inner = value[head]
        copy = dict(value) if isinstance(value, dict) else list(value)
        copy[head] = _delete_at(inner, rest)
        return copy
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != head}
    return [v for i, v in enumerate(value) if i != head]


@st.composite
def swapped_types(draw: st.DrawFn) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(YAML_FILES))
    doc = yaml.safe_load((FIXTURE / "content" / rel).read_bytes())
    for _ in range(draw(st.integers(1, 2))):
        paths = list(_paths(doc))
        at = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "replace", "delete", "wrap", "add", "listify"]))
        if how == "delete" and at:
            doc = _delete_at(doc, at)
        elif how == "wrap":  # a fact object around the value, with random extras
            fact = {"value": _get(doc, at), "sources": draw(VALUES | st.just(["src-one"]))}
            if draw(st.booleans()):
                fact["status"] = draw(VALUES | st.sampled_from(["unconfirmed", "weak", "bogus"]))
            doc = _replace(doc, at, fact)
        elif how == "add" and isinstance(_get(doc, at), dict):
            doc = _replace(doc, at, {**_get(doc, at), draw(st.text(max_size=10) | SPECIAL_TEXT): draw(VALUES)})
        elif how == "listify":
            doc = _replace(doc, at, [_get(doc, at)])
        else:
            doc = _replace(doc, at, draw(VALUES))
    flow = draw(st.sampled_from([False, None, True]))
    text = yaml.safe_dump(doc, allow_unicode=draw(st.booleans()), default_flow_style=flow, sort_keys=False, width=10**6)
    return rel, text.encode("utf-8")


def _get(value: Any, at: tuple[Any, ...]) -> Any:
    for key in at:
        value = value[key]
    return value


@settings(FAST, max_examples=int(250 * SCALE))
@given(case=swapped_types())
def test_swapped_types(site: Path, case: tuple[str, bytes]) -> None:
    RAN.add("swapped_types")
    check(site, *case)


# --- YAML features: duplicate keys, anchors and merge keys, alias bombs, deep nesting, tags ---------------------------

NAMES = st.sampled_from(["title", "kind", "summary", "founded", "sources", "id", "url", "x", "<<", "value", "collections"])


@st.composite
def yaml_features(draw: st.DrawFn) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(YAML_FILES))
    data = (FIXTURE / "content" / rel).read_bytes()
    lines = _lines(data)
    kind = draw(
        st.sampled_from(["duplicate", "anchor", "merge", "bomb", "merge-bomb", "nesting", "tag", "recursive", "flow-dup"])
    )
    if kind == "duplicate":  # a top-level or nested line repeated later (with another value)
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i].split(b":", 1)[0] + b": " + draw(st.sampled_from([b"1", b"x", b"[a]", b"{value: 1}"])) + b"\n"
        return rel, b"".join([*lines, line])
    if kind == "flow-dup":
        key = draw(NAMES).encode()
        return rel, data.replace(b"{", b"{" + key + b": 1, " + key + b": 2, ", 1)
    if kind == "anchor":  # anchor one value, alias it at another place
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        anchored = re.sub(rb"^(\s*(?:- )?[\w-]+: )", rb"\1&a ", lines[i], count=1)
        aliased = re.sub(rb"^(\s*(?:- )?[\w-]+: ).*", rb"\1*a", lines[j], count=1)
        lines[i], lines[j] = anchored, aliased if aliased.endswith(b"\n") else aliased + b"\n"
        return rel, b"".join(lines)
    if kind == "merge":
        extra = yaml.safe_dump({draw(NAMES): draw(VALUES)}, default_flow_style=True, width=10**6).strip().encode()
        pick = draw(st.sampled_from([b"<<: " + extra + b"\n", b"b: &b " + extra + b"\n<<: *b\n", b"<<: [" + extra + b", {}]\n"]))
        i = draw(st.integers(0, len(lines)))
        return rel, b"".join([*lines[:i], pick, *lines[i:]])
    if kind in ("bomb", "merge-bomb"):
        width, depth = draw(st.integers(2, 10)), draw(st.integers(2, 12))
        out = [b"l0: &l0 [" + b", ".join([b"lol"] * width) + b"]"]
        for n in range(1, depth):
            refs = b", ".join([b"*l%d" % (n - 1)] * width)
            out.append(
                b"l%d: &l%d {<<: [%s], k%d: 1}" % (n, n, refs, n) if kind == "merge-bomb" else b"l%d: &l%d [%s]" % (n, n, refs)
            )
        if kind == "merge-bomb":
            out[0] = b"l0: &l0 {k0: lol}"
        body = b"\n".join(out) + b"\n"
        where = draw(st.sampled_from(["top", "value"]))
        if where == "top" or not data.startswith(b"- "):
            return rel, body + data
        return rel, b"- " + body.replace(b"\n", b"\n  ").rstrip() + b"\n" + data
    if kind == "nesting":
        depth = draw(st.sampled_from([65, 100, 500, 5000]))
        opener = draw(st.sampled_from([b"[", b"{a: ", b"- "]))
        closer = {b"[": b"]", b"{a: ": b"}", b"- ": b""}[opener]
        balanced = draw(st.booleans())
        if opener == b"- ":
            nested = b"".join(b"  " * n + b"- \n" for n in range(min(depth, 500)))
        else:
            nested = opener * depth + b"1" + (closer * depth if balanced else b"")
        i = draw(st.integers(0, len(lines) - 1))
        line = re.sub(rb"^(\s*(?:- )?[\w-]+: ).*", lambda m: m.group(1) + nested, lines[i].rstrip(b"\n"), count=1)
        lines[i] = line + b"\n"
        return rel, b"".join(lines)
    if kind == "recursive":
        return rel, b"a: &a [*a]\n" + data
    tag = draw(
        st.sampled_from(
            [
                b"!!python/object/apply:os.system ['touch " + MARKER_BYTES + b"']",
                b"!!python/object/apply:pathlib.Path.touch [" + MARKER_BYTES + b"]",
                b"!!python/object/new:type [x, [], {}]",
                b"!!python/name:os.system",
                b"!!python/module:os",
                b"!!python/tuple [1, 2]",
                b"!!binary aGVsbG8=",
                b"!!set {a, b}",
                b"!!str 5",
                b"!!int '5'",
                b"!!float x",
                b"!custom {a: 1}",
            ]
        )
    )
    i = draw(st.integers(0, len(lines) - 1))
    lines[i] = re.sub(rb"^(\s*(?:- )?[\w-]+: ).*", lambda m: m.group(1) + tag, lines[i].rstrip(b"\n"), count=1) + b"\n"
    return rel, b"".join(lines)


@settings(FAST, max_examples=int(200 * SCALE))
@given(case=yaml_features())
def test_yaml_features(site: Path, case: tuple[str, bytes]) -> None:
    RAN.add("yaml_features")
    check(site, *case)


# --- Markdown: random constructs inserted into valid narrative -------------------------------------------------------

MD_PIECES = st.sampled_from(
    [
        "## Heading {#custom}\n",
        "### Sub\n",
        "# Top\n",
        "- item\n- item\n",
        "1. one\n2. two\n",
        "*em* **strong** _u_ __b__ ",
        "`code` ",
        "```\n[[not/a-link]] [@nope]\n```\n",
        "    indented [[code/block]]\n",
        "[text](https://example.com/) ",
        "[text](javascript:alert(1)) ",
        "[text](data:text/html,<script>alert(1)</script>) ",
        "![img](x.png) ",
        "<https://example.com> ",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<div markdown=1>*x*</div>\n",
        "&amp; &lt; &#0; &#x110000; &bogus; ",
        "[[companies/alpha]] ",
        "[[companies/beta#history|Beta]] ",
        "[[companies/nowhere]] ",
        "[[glossary/nev]] ",
        "[[sources/src-one]] ",
        "[[timeline]] ",
        "[[pages/about]] ",
        "[[home]] ",
        "[[ ]] ",
        "[[a|b|c]] ",
        "[@src-one] ",
        "[@src-one; @src-two] ",
        "[@nope] ",
        "[@] ",
        "[?] ",
        "\n[[charts/sales]]\n",
        "\n[[charts/nope]]\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "Term\n: Definition\n",
        "*[NEV]: new energy vehicle\n",
        "Note[^n].\n\n[^n]: The note [@src-one].\n",
        "[^missing] ",
        "> quote\n",
        "---\n",
        "\n",
        "\r\n",
        "\t",
        "NEV joint venture NEVs ",
        "\u202e\u200b\ufeff",
        "\x00",
    ]
)


@st.composite
def markdown_mutation(draw: st.DrawFn) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(MD_FILES))
    text = (FIXTURE / "content" / rel).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 5))):
        piece = draw(MD_PIECES | st.text(alphabet="ab #*_`[]()!<>&|\\-:.@?^=~\n\t", max_size=30))
        i = draw(st.integers(0, len(text)))
        text = text[:i] + piece + text[i:]
    return rel, text.encode("utf-8")


@settings(FAST, max_examples=int(100 * SCALE))
@given(case=markdown_mutation())
def test_markdown_constructs(site: Path, case: tuple[str, bytes]) -> None:
    RAN.add("markdown_constructs")
    check(site, *case)


# --- Big inputs: 1 MB lines and 10 MB files --------------------------------------------------------------------------


@st.composite
def big_input(draw: st.DrawFn) -> tuple[str, bytes]:
    mb = 1024 * 1024
    kind = draw(st.sampled_from(["yaml-line", "yaml-comment", "yaml-10mb", "yaml-10mb-broken", "md-line", "md-10mb-broken"]))
    if kind.startswith("yaml"):
        rel = draw(st.sampled_from(["companies/beta.yaml", "site.yaml", "sources.yaml", "schemas/company.schema.yaml"]))
    else:
        rel = draw(st.sampled_from(MD_FILES))
    data = (FIXTURE / "content" / rel).read_bytes()
    unit = draw(st.sampled_from([b"a", b"word ", "汽车".encode(), b"x y z ", b"\\u00e9"]))
    if kind == "yaml-line":  # a 1 MB value in place of the first value
        return rel, re.sub(rb": .*", lambda m: b": " + unit * (mb // len(unit)), data, count=1)
    if kind == "yaml-comment":
        return rel, data + b"# " + unit * (mb // len(unit)) + b"\n"
    if kind == "yaml-10mb":
        return rel, data + b"# " + unit * (10 * mb // len(unit)) + b"\n"
    if kind == "yaml-10mb-broken":
        return rel, data + b"x: '" + unit * (10 * mb // len(unit))  # an unclosed quote, 10 MB long
    if kind == "md-line":
        return rel, data + b"\n" + b"plain words " * (mb // 12) + b"\n"
    return rel, data + b"\n" + b"plain words " * (mb // 12) + b"\xff" + b"more " * (9 * mb // 5)


@settings(
    max_examples=int(10 * SCALE), deadline=None, suppress_health_check=list(HealthCheck), print_blob=True, derandomize=DERANDOMIZE
)
@given(case=big_input())
def test_big_inputs(site: Path, case: tuple[str, bytes]) -> None:
    RAN.add("big_inputs")
    check(site, *case, limit=30)


def test_ran_at_least_1000_cases() -> None:
    """The fuzz tests above (run in file order) tried at least PLANNED cases; skipped when only some of them ran."""
    everything = {"yaml_bytes", "markdown_bytes", "swapped_types", "yaml_features", "markdown_constructs", "big_inputs"}
    if everything != RAN:
        pytest.skip(f"only {sorted(RAN)} ran")
    assert STATS["cases"] >= PLANNED, STATS


# --- Regressions: bugs the fuzzing found, now fixed; each must build or fail cleanly -------------------------------

Data = bytes | Callable[[bytes], bytes]

# name: (file, its new bytes (or a function of the original bytes), the exception it raises today, why).
REGRESSIONS: dict[str, tuple[str, Data, type[BaseException], str]] = {
    "chart-values": (
        "charts.yaml",
        lambda d: d.replace(b"values: [25.77]", b"values: [25.77, 3]"),
        IndexError,
        "charts._bars indexes categories by value: a series longer than its categories raises IndexError",
    ),
    "indented-citation": (
        "companies/beta.md",
        b"Text\n    [@nope]\n",
        KeyError,
        "scan() masks an indented line as code, Markdown joins it to the paragraph: the unchecked [@nope] "
        "raises KeyError in citations.cite",
    ),
    "indented-link": (
        "companies/beta.md",
        b"- item\n\n    [[companies/nowhere]]\n",
        KeyError,
        "scan() masks a list item's indented paragraph as code: the unchecked link raises KeyError in views.href",
    ),
    "tilde-fence": (
        "companies/beta.md",
        b"~~~\n[@nope]\n~~~\n",
        KeyError,
        "scan() masks ~~~ fences, but fenced_code is not enabled: Markdown renders the unchecked [@nope]",
    ),
    "float-tag": (
        "companies/beta.yaml",
        b"title: Beta\nkind: k\nfounded: !!float x\n",
        ValueError,
        "yamlfile's quick path lets float('x') escape as ValueError",
    ),
    "bool-tag": (
        "companies/beta.yaml",
        b"title: Beta\nkind: k\nfounded: !!bool x\n",
        KeyError,
        "yamlfile's quick path lets PyYAML's bool table KeyError escape",
    ),
    "late-positions": (
        "companies/beta.yaml",
        b"title: Beta\nkind: k\nfounded: " + b"{a: " * 100 + b"1" + b"}" * 100 + b"\n",
        BareSiteError,
        "100 levels load on the quick path; the positions for the schema error are then read the careful way, "
        "whose depth limit raises a bare SiteError out of build_files (not BuildFailed)",
    ),
    "escape-in-link": (
        "companies/beta.md",
        b"[[\\[]]\n",
        KeyError,
        "scan() does not see [[\\[]] as a link, Markdown then links its escape placeholder: KeyError in views.href",
    ),
    "circular-schema-ref": (
        "schemas/company.schema.yaml",
        lambda d: b"$ref: '#'\n" + d,
        RecursionError,
        "a schema that refers to itself recurses without end in jsonschema",
    ),
    "remote-schema-ref": (
        "schemas/company.schema.yaml",
        lambda d: d.replace(b"kind: {", b"kind: {$ref: 'https://example.com/s.json', "),
        Unresolvable,
        "a $ref to a URL raises jsonschema's referencing error",
    ),
}

# Hangs: each input is at most 150 kB, yet took from half a minute to many minutes before its fix (measured: 10 kB of
# backticks took 9 s, 30 kB several minutes; 50,000 paragraphs 33 s). The limits are CPU seconds.
HANG_SECONDS = 1.5
HANGS: dict[str, tuple[str, bytes, str]] = {
    "backticks": ("companies/beta.md", b"`" * 30_000, "markup.scan's code-span regex is quadratic in a run of backticks"),
    "brackets": ("companies/beta.md", b"[" * 30_000, "Python-Markdown's link pattern is quadratic in a run of ["),
    "paragraphs": (
        "companies/beta.md",
        b"a\n\n" * 30_000,  # linear: about 0.9 s of CPU; the quadratic glossary walk this guards against took 12 s
        "markup._GlossaryLinks._walk called list.index for every child: quadratic in paragraphs (or inline elements)",
    ),
}


@pytest.fixture
def fresh_markdown() -> Iterator[None]:
    yield
    forget_markdown_state()


@pytest.mark.usefixtures("fresh_markdown")
@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(site: Path, originals: dict[str, bytes], name: str, request: pytest.FixtureRequest) -> None:
    rel, data, _before_the_fix, why = REGRESSIONS[name]
    assert build_with(site, rel, data if isinstance(data, bytes) else data(originals[rel])) in ("ok", "failed"), why


@pytest.mark.usefixtures("fresh_markdown")
@pytest.mark.parametrize("name", sorted(HANGS))
def test_hang(site: Path, name: str, request: pytest.FixtureRequest) -> None:
    rel, data, why = HANGS[name]
    limit = 5.0 if name == "paragraphs" else HANG_SECONDS  # Python-Markdown itself needs ~0.9 s for 30,000 paragraphs
    assert build_with(site, rel, data, limit=limit) in ("ok", "failed"), why


def test_the_hang_detector_counts_cpu_time_not_the_clock() -> None:
    """Waiting (as on a busy machine, where the build waits its turn) is no hang; computing past the limit is."""
    with cpu_limit(0.2):
        time.sleep(0.5)
    started = time.process_time()
    with pytest.raises(Hang, match="CPU time"), cpu_limit(0.2):
        while time.process_time() - started < 30:
            pass
    assert time.process_time() - started < 5


def test_a_child_is_stopped_by_its_cpu_time(tmp_path: Path) -> None:
    with pytest.raises(Hang, match="CPU time"):
        run_cli_cpu("-c", "while True: pass", cwd=tmp_path, cpu_seconds=1, module=False)


NESTED_LISTS = b"".join(b"    " * n + b"- x\n" for n in range(500))


def test_deeply_nested_markdown_lists(built: Path, tmp_path: Path) -> None:
    """Through the CLI, in its own process: the RecursionError also breaks the process's Markdown renderer."""
    project = tmp_path / "project"
    shutil.copytree(built, project, symlinks=True)
    (project / "content/companies/beta.md").write_bytes(NESTED_LISTS)
    proc = run_cli_cpu("build", cwd=project, cpu_seconds=60)
    assert "Traceback" not in proc.stderr, proc.stderr[-300:]
    assert proc.returncode in (0, 1)


@pytest.mark.usefixtures("fresh_markdown")
def test_markdown_error_does_not_poison_later_builds() -> None:
    """A RecursionError at each of 20 stack depths (a lowered recursion limit puts it at a different place of
    Python-Markdown each time); after each, the same Markdown must convert as it did before."""
    forget_markdown_state()
    hooks = markup.Hooks(link=lambda address: ("/x/", "X"), cite=lambda source: "")
    text = "Some *text* with [[companies/alpha]].\n\n- a\n- b\n"
    reference = markup.render(text, hooks).html
    nested = "".join("    " * n + "- x\n" for n in range(30))
    depth, limit = len(inspect.stack()), sys.getrecursionlimit()
    broken = []
    try:
        for extra in range(40, 60):
            sys.setrecursionlimit(depth + extra)
            with contextlib.suppress(RecursionError, ValueError):  # render reports deep nesting as ValueError
                markup.render(nested, hooks)
            sys.setrecursionlimit(limit)
            if markup.render(text, hooks).html != reference:
                broken.append(extra)
                forget_markdown_state()
    finally:
        sys.setrecursionlimit(limit)
    assert not broken, f"broken after a RecursionError {depth}+{broken} frames deep"


# --- The command line: exit 1, 'Build failed' last, no traceback, previous output untouched --------------------------

CLI_CASES: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "truncated": ("companies/beta.yaml", lambda d: d[: len(d) // 2] + b"[\n"),
    "nul": ("site.yaml", lambda d: d.replace(b"title:", b"ti\x00tle:", 1)),
    "invalid-utf8": ("companies/alpha.md", lambda d: d + b"\xc3\x28"),
    "python-tag": (
        "policies/cap.yaml",
        lambda d: d + b"x: !!python/object/apply:os.system ['touch " + MARKER_BYTES + b"']\n",
    ),
    "alias-bomb": (
        "sources.yaml",
        lambda d: b"".join([b"- &a [x, x, x, x, x, x, x, x, x]\n", *[b"- &a [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"] * 9]) + d,
    ),
    "deep-nesting": ("companies/beta.yaml", lambda d: d + b"x: " + b"[" * 500 + b"]" * 500 + b"\n"),
    "swapped-type": ("site.yaml", lambda d: d.replace(b"collections:", b"collections: 5\nx:", 1)),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a complete site in _site/, made once by the real CLI."""
    project = make_project(tmp_path_factory.mktemp("cli") / "project")
    proc = run_cli_cpu("build", cwd=project, cpu_seconds=120)
    assert proc.returncode == 0, proc.stderr
    return project


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_cli_failing_build(built: Path, tmp_path: Path, name: str) -> None:
    project = tmp_path / "project"
    shutil.copytree(built, project, symlinks=True)
    before = read_out(project / "_site")
    rel, mutate = CLI_CASES[name]
    path = project / "content" / rel
    path.write_bytes(mutate(path.read_bytes()))
    proc = run_cli_cpu("build", cwd=project, cpu_seconds=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert re.fullmatch(r"Build failed: \d+ errors?", lines[-1]), proc.stderr
    assert all(LOCATED.match(line) for line in lines[:-1] if not line.startswith("warning: ")), proc.stderr
    assert read_out(project / "_site") == before, "the previous site changed"
    assert not [p.name for p in project.iterdir() if p.name.startswith("._site.")], "staging folder left behind"
    assert not MARKER.exists()
