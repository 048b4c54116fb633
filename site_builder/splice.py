"""A fresh build's quick path for the most common edit, a record's prose: the new text is rendered and put where the
old one was in its page, without reading, checking or resolving the rest of the site.

When a build renders a record page, it notes how the page's Markdown was woven in (`note`): what the Markdown asked
of the rest of the site (each link, citation, marker and chart, in order, with the answer), its table of contents,
its links and citations as `markup.scan` sees them (backlinks, "cited by" and unused-source warnings come from
these), and where its HTML sits in the page. The next build takes this path (`splice`) only when it gives the bytes
a full build would:

- nothing but such Markdown files changed: every other input, the engine, the options and the git commit hash to
  what they did (`Pages.rest`), and the output is the one the notes describe;
- each edited text still reads as UTF-8, scans to the same links and citations in the same order, asks the same
  questions and gets the same table of contents: numbering, references and every other page stay as they are;
- the page's template shows `body` only as one bare `{{ body }}` (nothing else on the page reads the prose), and
  the old HTML is where the note says;
- with several languages, every page that shows the text is made anew (another edition shows it until it is
  translated), and the headings keep their anchors (a translation's headings take them from its original); a
  text shown on a page that cannot splice it (a translation's, or the original under a translation's anchors) is
  left to the full build;
- no search index is built (Pagefind indexes the whole site).

Otherwise it steps aside and the full build runs. tests/test_splice.py compares the two, byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import os
import re
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from . import markup
from .cache import PROSE, Fingerprints, Key, NoteWriter, Pages, read_notes
from .errors import SiteError
from .markup import Hooks
from .tree import Layout, read_one
from .yamlfile import decode

Call = tuple[str, Any, Any]  # a hook's name, what it was asked and what it answered, as plain values
Shared = tuple[bool, list[tuple[str, int, str, str, str]]]  # allow_html, and each glossary pattern (as text, flags) and link


@dataclass(frozen=True)
class Prose:
    """A record page's Markdown as it was rendered for the page."""

    path: str  # the Markdown file's logical path
    digest: str  # its content hash, as the build key has it
    edition: str  # the folder of the page's edition ('' for the first language)
    calls: list[Call]
    html: str
    toc: list[dict[str, Any]]
    mentions: list[tuple[str, str]]
    anchors: list[str] | None  # its headings' anchors, which translations of it share (None: no other language)
    spliceable: bool = True  # False: the page's headings take their anchors from another text


class Woven:
    """The notes a build makes while rendering, written to the cache as they come (`NoteWriter`), and what every
    record page shares."""

    def __init__(self, project: Path, key: str) -> None:
        self.writer = NoteWriter(project, key)
        self.noted: set[str] = set()  # Markdown files with a note
        self.refused: list[tuple[str, str]] = []  # (page, Markdown file) it shows but cannot splice
        self.shared: dict[str, Shared] = {}  # edition folder -> what its record pages share

    def add(self, file: str, md: str, digest: str, blob: bytes) -> None:
        """A page that shows the Markdown file `md`, and how (b"": it cannot be spliced, nor can `md` then)."""
        if blob:
            self.writer.add((file, md, digest, blob))
        else:  # its hash is the file's, from the tree (a translation's page has only the text below its front matter)
            self.refused.append((file, md))
        self.noted.add(md)

    def finish(self, project: Path, output_key: str | None, kept: Set[str], files: dict[str, bytes]) -> None:
        """Add the notes of the pages kept from the last build, and the hash of each Markdown file (`files`, the
        input tree) that a page cannot splice or that no page shows; then put them in place."""
        again = [(note, data) for note, data in read_notes(project, output_key) if note[0] in kept]  # not made again
        self.writer.add_blobs(data for _, data in again)
        self.noted.update(note[1] for note, _ in again)
        for file, md in self.refused:
            if md in files:
                self.writer.add((file, md, hashlib.sha256(files[md]).hexdigest(), b""))
        for md in sorted(files):
            if md not in self.noted and PROSE.fullmatch(md):
                self.writer.add(("", md, hashlib.sha256(files[md]).hexdigest(), b""))
        self.writer.commit()

    def everything_shared(self) -> bytes:
        return marshal.dumps(self.shared)


def recording(hooks: Hooks, calls: list[Call]) -> Hooks:
    """`hooks` that note every question and answer in `calls`."""

    def noted(name: str, ask: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def hook(question: Any) -> Any:
            answer = ask(question)
            calls.append((name, _plain(question), _plain(answer)))
            return answer

        return hook

    return dataclasses.replace(
        hooks,
        link=noted("link", hooks.link),
        cite=noted("cite", hooks.cite),
        flag=noted("flag", hooks.flag),
        charts=noted("charts", hooks.charts),
    )


def mentions(text: str) -> list[tuple[str, str]]:
    """What a text links to and cites, in order, without where (positions only matter for errors)."""
    return [(m.kind, m.target) for m in markup.scan(text)]


def shared(allow_html: bool, glossary: list[tuple[re.Pattern[str], str, str, str]]) -> Shared:
    """What renders every record's Markdown of an edition alike: the HTML setting and the glossary's links."""
    return allow_html, [(p.pattern, p.flags, ident, href, title) for p, ident, href, title in glossary]


def note(page: bytes, prose: Prose) -> bytes | None:
    """How `prose` sits in its rendered page, or None when its HTML is not found there exactly once."""
    body = prose.html.encode()
    start = page.find(body)
    if not body or start < 0 or page.find(body, start + 1) >= 0:
        return None
    anchors = b"" if prose.anchors is None else _digest_of(prose.anchors)
    try:
        return _blob(prose.edition, prose.calls, (_digest_of(prose.toc), _digest_of(prose.mentions), anchors), start, body)
    except ValueError:  # a value marshal cannot write: no quick path for this page
        return None


def _blob(edition: str, calls: list[Call], said: tuple[bytes, bytes, bytes], start: int, body: bytes) -> bytes:
    """A note's record of how a text sits in its page: its edition, the questions it asked and their answers, the
    hashes of its contents, mentions and anchors, and where its HTML is, with that HTML's hash."""
    return marshal.dumps((edition, calls, said, start, len(body), _digest(body)))


def shows_body_once(env: jinja2.Environment, name: str) -> bool:
    """Whether template `name`, with all it extends, includes and imports, uses `body` once, as a bare `{{ body }}`."""
    seen: set[str] = set()
    todo, names, bare = [name], 0, 0
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            assert env.loader is not None
            source, _, _ = env.loader.get_source(env, current)
            tree = env.parse(source)
        except (jinja2.TemplateError, SiteError):
            return False
        for referenced in meta.find_referenced_templates(tree):
            if referenced is None:  # a template chosen while rendering: anything could read `body`
                return False
            todo.append(referenced)
        names += sum(n.name == "body" for n in tree.find_all(nodes.Name))
        bare += sum(isinstance(n, nodes.Name) and n.name == "body" for out in tree.find_all(nodes.Output) for n in out.nodes)
    return names == bare == 1


class _Differs(Exception):
    """The text asks something the page's last rendering did not."""


def splice(
    project: Path, where: Layout, out: Path, key: Key, pages: Pages, output_key: str
) -> tuple[dict[str, bytes], Fingerprints, list[bytes | memoryview]] | None:
    """The record pages whose prose alone changed, made anew; their fingerprints and every note (as marshal data),
    for the next build. None when anything else changed or the quick path cannot promise a full build's bytes."""
    if not pages.shared or key.rest != pages.rest:
        return None
    kept = read_notes(project, output_key)
    notes = [note for note, _ in kept]
    if {md for _, md, _, _ in notes} != key.prose.keys():
        return None
    edited = [i for i, (_, md, digest, _) in enumerate(notes) if key.prose[md] != digest]
    if not edited:
        return None
    shared = {
        edition: (allow_html, [(re.compile(p, flags), ident, href, title) for p, flags, ident, href, title in patterns])
        for edition, (allow_html, patterns) in marshal.loads(pages.shared).items()
    }
    files: dict[str, bytes] = {}
    blobs: list[bytes | memoryview] = [data for _, data in kept]
    for i in edited:
        file, md, _, blob = notes[i]
        made = _page(where, out, file, key.prose[md], md, blob, shared) if blob else None
        if made is None:
            return None
        files[file], blobs[i] = made[0], marshal.dumps((file, md, key.prose[md], made[1]))
    fp = pages.fingerprints
    fingerprints = Fingerprints(  # "": a spliced page is rendered again by the next full build
        {**fp.files, **dict.fromkeys(files, "")}, fp.sitewide, {f: h for f, h in fp.own.items() if f not in files}
    )
    return files, fingerprints, blobs


def _page(
    where: Layout,
    out: Path,
    file: str,
    content_hash: str,
    md: str,
    blob: bytes,
    shared: dict[str, tuple[bool, list[tuple[re.Pattern[str], str, str, str]]]],
) -> tuple[bytes, bytes] | None:
    """One edited record page and its new note, or None."""
    data = read_one(where, md)
    if data is None or hashlib.sha256(data).hexdigest() != content_hash:
        return None  # gone, not a plain file, or changed again since the key was made
    try:
        text = decode(data, md)
        edition, calls, (toc, said, anchors), start, length, digest = marshal.loads(blob)
        allow_html, glossary = shared[edition]
        with open(os.path.join(out, file), "rb") as f:
            old = f.read()
    except (SiteError, OSError, ValueError, EOFError, TypeError, KeyError):
        return None
    if _digest_of(mentions(text)) != said or _digest(old[start : start + length]) != digest:
        return None
    if anchors and _digest_of(markup.heading_ids(text)) != anchors:  # what its translations' headings are named
        return None
    replay = _Replay(calls)
    try:
        rendered = markup.render(text, replay.hooks(glossary), allow_html)
    except (_Differs, ValueError):  # ValueError: too complex to render, which a full build reports
        return None
    if not replay.finished() or _digest_of(rendered.toc) != toc or not rendered.html:
        return None
    body = rendered.html.encode()
    page = old[:start] + body + old[start + length :]
    return page, _blob(edition, calls, (toc, said, anchors), start, body)


class _Replay:
    """Hooks that give the noted answers to the noted questions, in order; any other question raises `_Differs`."""

    def __init__(self, calls: list[Call]) -> None:
        self.calls, self.asked = calls, 0

    def hooks(self, glossary: list[tuple[re.Pattern[str], str, str, str]]) -> Hooks:
        return Hooks(
            self._answering("link"), self._answering("cite"), self._answering("flag"), self._answering("charts"), glossary
        )

    def finished(self) -> bool:
        """Whether every noted question was asked again."""
        return self.asked == len(self.calls)

    def _answering(self, name: str) -> Callable[[Any], Any]:
        def hook(question: Any) -> Any:
            if self.asked == len(self.calls):
                raise _Differs
            asked, said, answer = self.calls[self.asked]
            if asked != name or said != _plain(question):
                raise _Differs
            self.asked += 1
            return answer

        return hook


def _plain(value: Any) -> Any:
    """A hook's question or answer as marshal keeps it: text as str (not Markup), sequences as tuples."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    return tuple(_plain(v) for v in value)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _digest_of(value: Any) -> bytes:
    """A short hash of plain values (a table of contents, a list of mentions): notes compare, they need not keep."""
    return _digest(marshal.dumps(value))
