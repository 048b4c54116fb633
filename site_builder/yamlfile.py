"""Load YAML safely, keeping the line and column of every key and value."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import SiteError

# libyaml parses about six times faster; positions and messages are the same shape.
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]
Mark = tuple[int, int]

MAX_DEPTH = 64
MAX_ALIAS_EXPANSIONS = 10_000
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass
class Located:
    """A YAML document as plain values, with where each value and key starts (worked out when first asked)."""

    value: Any
    text: str = ""
    path: str = ""
    _marks: dict[Path_, Mark] | None = None
    _key_marks: dict[Path_, Mark] = field(default_factory=dict)
    raw: bytes = b""  # the file as read, kept instead of `text` (it is the tree's own bytes: no copy)

    def keep_bytes(self, raw: bytes) -> None:
        """Hold the file's bytes (shared with the tree) instead of a decoded copy; positions decode them."""
        self.raw, self.text = raw, ""

    @property
    def marks(self) -> dict[Path_, Mark]:
        if self._marks is None:  # values came from the fast path: read again, this time noting positions
            try:
                located = _load_located(self.text or self.raw.decode("utf-8-sig"), self.path)
                self._marks, self._key_marks = located.marks, located.key_marks
            except SiteError:  # too deep to walk: errors fall back to the start of the file
                self._marks, self._key_marks = {}, {}
        return self._marks

    @property
    def key_marks(self) -> dict[Path_, Mark]:
        self.marks  # noqa: B018 - works out the positions on first use
        return self._key_marks

    def mark(self, path: Path_) -> Mark:
        """The position of the value at `path`, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.marks:
                return self.marks[path[:end]]
        return (1, 1)

    def key_mark(self, path: Path_) -> Mark:
        """The position of the key that leads to `path`, else of its value."""
        return self.key_marks.get(path) or self.mark(path)


def decode(data: bytes, path: str) -> str:
    """Bytes as text: UTF-8 (a BOM is allowed), else an error at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SiteError(path, f"this file is not UTF-8 (byte 0x{data[exc.start]:02x})", "save it as UTF-8", line, col) from None


def load(text: str, path: str) -> Located:
    """Parse one YAML document; every problem becomes a located `SiteError`."""
    if "*" not in text and "<<" not in text:  # no aliases or merges: the quick way is safe from alias bombs
        try:
            return Located(_load_fast(text), text, path)
        except Exception:  # anything odd: the careful way below explains it with its position
            pass
    return _load_located(text, path)


class _Unusual(Exception):
    """Something the quick path does not handle; the careful path will explain it."""


class _FastLoader(_Loader):  # type: ignore[misc]
    """libyaml's parser and PyYAML's scalar constructors, with timestamps kept as written."""


def _as_written(loader: Any, node: yaml.ScalarNode) -> str:
    return str(node.value)


_FastLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_written)
for _tag in ("binary", "set", "omap", "pairs", "map", "seq"):  # never a scalar here
    _FastLoader.yaml_constructors.pop(f"tag:yaml.org,2002:{_tag}", None)
_SCALARS: dict[str, Any] = _FastLoader.yaml_constructors
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _load_fast(text: str) -> Any:
    """Values straight from libyaml's events: no node tree, which for a large file costs ten times its values."""
    loader = _FastLoader(text)
    try:
        get = loader.get_event
        get()  # stream start
        if isinstance(get(), yaml.StreamEndEvent):
            return None
        value = _from_events(loader, get(), 0)
        get()  # document end
        if not isinstance(get(), yaml.StreamEndEvent):
            raise _Unusual  # a second document: the careful way says where
        return value
    finally:
        loader.dispose()


def _from_events(loader: Any, event: Any, depth: int) -> Any:
    """The value that starts with `event`; _Unusual for anything the careful way must judge."""
    kind = type(event)
    if kind is yaml.ScalarEvent:
        tag = event.tag if event.tag not in (None, "!") else loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        construct = _SCALARS.get(tag)
        if construct is None:
            raise _Unusual
        return construct(loader, yaml.ScalarNode(tag, event.value, style=event.style))
    if depth > MAX_DEPTH:
        raise _Unusual
    get = loader.get_event
    if kind is yaml.MappingStartEvent and event.tag in (None, "!", _MAP):
        result: dict[str, Any] = {}
        while not isinstance(event := get(), yaml.MappingEndEvent):
            key = _from_events(loader, event, depth + 1)
            if isinstance(key, (int, float)) and not isinstance(key, bool):
                key = str(key)
            if not isinstance(key, str) or key in result or len(result) >= 100_000:
                raise _Unusual
            # Interned: thousands of records repeat the same few keys, and each would be its own string.
            result[sys.intern(key)] = _from_events(loader, get(), depth + 1)
        return result
    if kind is yaml.SequenceStartEvent and event.tag in (None, "!", _SEQ):
        items = []
        while not isinstance(event := get(), yaml.SequenceEndEvent):
            items.append(_from_events(loader, event, depth + 1))
        return items
    raise _Unusual  # an alias, or a tag on a mapping or list


def _load_located(text: str, path: str) -> Located:
    """The careful way: build values from nodes, noting every position and refusing what is unsafe."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        doc = Located(None, text, path, {}, {})
        if node is not None:
            doc.value = _Walker(loader, path, doc).walk(node, (), 0)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SiteError(path, f"YAML syntax error: {problem}", _yaml_hint(problem), line, col) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SiteError(path, f"YAML cannot contain character {exc.character!r}", "remove it", line, col) from None
    except yaml.YAMLError as exc:
        raise SiteError(path, f"YAML error: {exc}", "check the file's syntax") from None
    finally:
        loader.dispose()


def _yaml_hint(problem: str) -> str:
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "constructor" in problem or "tag" in problem:
        return "only plain YAML values are allowed: remove the !tag"
    return "check indentation, colons and quotes near this place"


class _Walker:
    """Turns composed nodes into plain values, refusing what a fact file must not hold."""

    def __init__(self, loader: Any, path: str, doc: Located) -> None:
        self.loader, self.path, self.doc = loader, path, doc
        self.marks: dict[Path_, Mark] = doc._marks if doc._marks is not None else {}
        self.key_marks: dict[Path_, Mark] = doc._key_marks
        self.seen: set[int] = set()
        self.expansions = 0

    def error(self, node: yaml.Node, message: str, hint: str) -> SiteError:
        return SiteError(self.path, message, hint, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(self, node: yaml.Node, at: Path_, depth: int) -> Any:
        if id(node) in self.seen:
            self.expansions += 1
            if self.expansions > MAX_ALIAS_EXPANSIONS:
                raise self.error(node, "too many alias expansions", "write the values out instead of aliasing")
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise self.error(node, f"nested deeper than {MAX_DEPTH} levels", "flatten the structure")
        self.marks[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, at, depth)
        if isinstance(node, yaml.SequenceNode):
            self.check_tag(node)
            return [self.walk(item, (*at, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def check_tag(self, node: yaml.Node) -> None:
        if node.tag not in _PLAIN_TAGS:
            raise self.error(node, f"unsupported YAML tag {node.tag}", "remove the !tag")

    def mapping(self, node: yaml.MappingNode, at: Path_, depth: int) -> dict[str, Any]:
        self.check_tag(node)
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, (int, float)) and not isinstance(key, bool):
                key = str(key)
            if not isinstance(key, str):
                raise self.error(key_node, "a key must be plain text", "write the key as a word")
            if key in result:
                first = self.key_marks[(*at, key)][0]
                raise self.error(key_node, f"duplicate key '{key}' (first on line {first})", "keep only one")
            self.key_marks[(*at, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.walk(value_node, (*at, key), depth + 1)
        return result

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay as written: 2018-07-28
        try:
            value = self.loader.construct_object(node)
        except (ValueError, KeyError, TypeError, OverflowError):  # e.g. `!!float x`, `!!bool maybe`
            tag = node.tag.rsplit(":", 1)[-1]
            raise self.error(node, f"{node.value!r} is not a valid {tag}", "remove the !!tag or fix the value") from None
        if isinstance(value, bytes):
            raise self.error(node, "binary values are not allowed", "write text")
        return value
