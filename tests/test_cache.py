"""The no-change rebuild: recognised from file stats and content hashes, never stale, safe to delete."""

from __future__ import annotations

import marshal
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from site_builder import cache
from site_builder.build import build
from site_builder.cache import CACHE_DIR, FORMAT, MANIFEST, PARSED, PARSED_DATA, framed, read_blobs
from site_builder.content import Item, LazyItems
from site_builder.record_edits import SNAPSHOT
from site_builder.yamlfile import Located

from .conftest import edit, read_tree, run_cli


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_nothing_changed_means_nothing_rewritten(project: Path) -> None:
    out = project / "_site"
    first = build(project, out)
    before = mtimes(out)
    second = build(project, out)
    assert not first.unchanged and second.unchanged
    assert second.pages == first.pages
    assert mtimes(out) == before


def test_a_cold_build_reads_each_input_file_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build key reads every file to hash it; the tree takes those bytes instead of reading the files again."""
    from site_builder import tree

    reads: list[str] = []
    real = tree.read_file

    def counted(path: str, size: int = 0) -> bytes:
        reads.append(path)
        return real(path, size)

    monkeypatch.setattr(tree, "read_file", counted)
    monkeypatch.setattr(cache, "read_file", counted)
    out = project / "_site"
    build(project, out, search=False)
    inputs = [r for r in reads if Path(r).is_relative_to(project / "content")]
    assert inputs and len(inputs) == len(set(inputs)), sorted(r for r in inputs if inputs.count(r) > 1)[:5]
    assert set(inputs) == {str(p) for p in (project / "content").rglob("*") if p.is_file()}


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 << 20])
def test_a_file_is_read_whole_whatever_size_its_stat_gave(tmp_path: Path, size: int) -> None:
    from site_builder.tree import read_file

    path = tmp_path / "f"
    data = bytes(i % 251 for i in range(size))
    path.write_bytes(data)
    for hint in {0, max(size - 1, 0), size, size + 1, 10 * size + 7}:  # a stale stat, a link's own size, the truth
        assert read_file(str(path), hint) == data, hint


def test_cli_says_nothing_changed(project: Path) -> None:
    assert run_cli("build", cwd=project).returncode == 0
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 0 and proc.stdout.endswith("(nothing changed)\n")


def test_any_input_change_rebuilds(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    for path, old, new in [
        ("content/companies/beta.md", "Beta supplies", "Beta now supplies"),
        ("templates/page.html", "<h1>{{ title }}</h1>", "<h1 class='t'>{{ title }}</h1>"),
        ("content/schemas/company.schema.yaml", "title: Founded", "title: Year founded"),
    ]:
        edit(project / path, old, new)
        result = build(project, out)
        assert not result.unchanged, path
    with (project / "static/style.css").open("a") as css:
        css.write("/* changed */\n")
    assert not build(project, out).unchanged
    files = read_tree(out)
    assert b"Beta now supplies" in files["companies/beta/index.html"]
    assert b"<h1 class='t'>About</h1>" in files["about/index.html"]
    assert files["static/style.css"].endswith(b"/* changed */\n")
    assert b"Year founded" in files["companies/alpha/index.html"]


def test_options_are_part_of_the_key(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    assert not build(project, out, base_url="https://other.example/").unchanged
    assert b"https://other.example/" in (out / "sitemap.xml").read_bytes()
    assert not build(project, out, strict=True).unchanged


def test_touch_without_change_is_still_unchanged(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    path = project / "content/companies/beta.md"
    path.write_bytes(path.read_bytes())  # new mtime, same bytes
    assert build(project, out).unchanged


def test_cache_folder_is_safe_to_delete_or_corrupt(project: Path) -> None:
    out = project / "_site"
    build(project, out)
    (project / CACHE_DIR / MANIFEST).write_text("{not marshal")
    assert build(project, out).unchanged
    every = [str(p) for p in project.rglob("*")]
    for garbage in ({p: 5 for p in every}, {p: [1, 2] for p in every}, {p: [0, 0, 7] for p in every}):
        (project / CACHE_DIR / MANIFEST).write_bytes(marshal.dumps(garbage))
        assert build(project, out).unchanged
    import shutil

    shutil.rmtree(project / CACHE_DIR)
    edit(project / "content/companies/beta.md", "Beta supplies", "Beta still supplies")
    assert not build(project, out).unchanged
    assert b"Beta still supplies" in (out / "companies/beta/index.html").read_bytes()


def test_warnings_are_repeated_when_nothing_changed(project: Path) -> None:
    with (project / "content/sources.yaml").open("a") as f:
        f.write("- id: unused\n  title: Nobody cites me\n")
    out = project / "_site"
    first = build(project, out)
    second = build(project, out)
    assert second.unchanged and [str(w) for w in second.warnings] == [str(w) for w in first.warnings] != []


# --- Parsed content kept between builds (.site-builder-cache/parsed.bin) ----------------------------------------------


def _parsed_cache(project: Path) -> dict[str, Any]:
    """The parsed cache's entries: the data files' and schemas' (one marshal dict; a data file's entry as
    (values, ranks) here) and the records' (a `Records` file: each key, then its entry's marshal data)."""
    version, entries = marshal.loads((project / CACHE_DIR / PARSED_DATA).read_bytes())
    assert version == FORMAT and isinstance(entries, dict)
    for key, entry in entries.items():
        if key.startswith("items:"):
            _, ranks, values = marshal.loads(entry)
            entries[key] = ([marshal.loads(v) for v in values], ranks)
    frames = read_blobs(project / CACHE_DIR / PARSED, FORMAT)
    assert frames and len(frames) % 2 == 0
    return entries | {marshal.loads(k): marshal.loads(v) for k, v in zip(frames[::2], frames[1::2], strict=True)}


def _records_cache(project: Path) -> dict[str, Any]:
    return {k: v for k, v in _parsed_cache(project).items() if not k.startswith(("items:", "schema:"))}


def _write_parsed_cache(project: Path, entries: dict[str, Any]) -> None:
    def layout(entry: Any) -> Any:  # (values, ranks) as the cache keeps a data file's entries; anything else as it is
        if not (isinstance(entry, tuple) and len(entry) == 2):
            return entry
        values, ranks = entry
        ids = [str(v.get("id", "")) if isinstance(v, dict) else "" for v in values]
        return marshal.dumps((ids, ranks, [marshal.dumps(v) for v in values]))

    data = {k: layout(v) if k.startswith("items:") else v for k, v in entries.items() if k.startswith(("items:", "schema:"))}
    (project / CACHE_DIR / PARSED_DATA).write_bytes(marshal.dumps((FORMAT, data)))
    records = [marshal.dumps(x) for k, v in entries.items() if k not in data for x in (k, v)]
    (project / CACHE_DIR / PARSED).write_bytes(b"".join(map(framed, [marshal.dumps(FORMAT), *records])))


def _no_snapshot(project: Path) -> None:
    """Without the snapshot of the last full build, a fact edit is the full build's to make."""
    (project / CACHE_DIR / SNAPSHOT).unlink(missing_ok=True)


def _fresh_build_equals_a_cold_one(project: Path, tmp_path: Path) -> None:
    """Build with the CLI (a fresh process: no in-memory memo) and compare with a cold build of a copy."""
    proc = run_cli("build", "--no-search", cwd=project)
    assert proc.returncode == 0, proc.stderr
    cold = tmp_path / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", CACHE_DIR))
    assert run_cli("build", "--no-search", cwd=cold).returncode == 0
    assert read_tree(project / "_site") == read_tree(cold / "_site")


def test_a_fresh_build_takes_unchanged_records_from_the_cache_and_parses_the_edited_one(project: Path, tmp_path: Path) -> None:
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    first = _records_cache(project)
    records = [p for p in (project / "content").glob("*/*.yaml") if p.parent.name != "schemas"]
    assert len(first) == len(records) == 3  # every record parsed cleanly
    _no_snapshot(project)  # the full build, not record_edits.py's quick path
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    _fresh_build_equals_a_cold_one(project, tmp_path)
    second = _records_cache(project)
    assert len(set(first) - set(second)) == 1 and len(set(second) - set(first)) == 1  # only beta's entry is new
    assert b"cell maker" in (project / "_site/companies/beta/index.html").read_bytes()


def test_a_wrong_or_foreign_records_cache_is_never_used(project: Path, tmp_path: Path) -> None:
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    entries = _parsed_cache(project)
    md = project / "content/companies/beta.md"
    records, data = project / CACHE_DIR / PARSED, project / CACHE_DIR / PARSED_DATA
    whole = records.read_bytes()
    for n, write in enumerate(
        [
            lambda: (records.write_bytes(b"not marshal"), data.write_bytes(b"not marshal")),
            lambda: (
                records.write_bytes(framed(marshal.dumps(FORMAT)) + framed(b"\xff")),
                data.write_bytes(marshal.dumps([1, 2])),
            ),
            lambda: records.write_bytes(whole[: len(whole) // 2]),  # cut short
            lambda: records.write_bytes(b"".join(map(framed, [marshal.dumps(FORMAT), marshal.dumps(7), marshal.dumps({})]))),
            lambda: records.write_bytes(framed(marshal.dumps(FORMAT - 1)) + whole[len(framed(marshal.dumps(FORMAT))) :]),
            lambda: _write_parsed_cache(project, {key: {"data": 1} for key in entries}),
            lambda: _write_parsed_cache(project, dict.fromkeys(entries, 7)),
            lambda: _write_parsed_cache(project, {k: ([7], [0]) if k.startswith("items:") else v for k, v in entries.items()}),
            lambda: _write_parsed_cache(
                project, {k: (v[0], [0] * len(v[0])) if k.startswith("items:") else v for k, v in entries.items()}
            ),
        ]
    ):
        write()
        md.write_text(
            md.read_text(encoding="utf-8") + f"\nSee [[companies/alpha]] ({n}).\n", encoding="utf-8"
        )  # a new link: the full build runs
        _no_snapshot(project)  # (and not record_edits.py's quick path, which reads no records' cache)
        _fresh_build_equals_a_cold_one(project, tmp_path)


def test_a_record_with_a_problem_is_not_kept(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: [not, text]")
    proc = run_cli("build", "--no-search", cwd=project)
    assert proc.returncode == 1 and "content/companies/beta.yaml" in proc.stderr
    proc = run_cli("build", "--no-search", cwd=project)  # the same problem is reported again, not skipped
    assert proc.returncode == 1 and "content/companies/beta.yaml" in proc.stderr


def test_the_records_cache_is_what_a_fresh_build_reads(project: Path) -> None:
    """Proof that entries are used, not only written: a planted change to alpha's entry shows where beta's edited
    page links to alpha (alpha's own page is kept: its files did not change)."""
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    entries = _parsed_cache(project)
    (alpha,) = [e for e in entries.values() if isinstance(e, dict) and e["data"].get("title") == "Alpha Motors"]
    alpha["data"]["title"] = "Alpha From The Cache"
    _write_parsed_cache(project, entries)
    _no_snapshot(project)  # the full build, not record_edits.py's quick path
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")  # a fact: the full build runs
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    assert b"Alpha From The Cache" in (project / "_site/companies/beta/index.html").read_bytes()


def test_the_data_files_cache_is_what_a_fresh_build_reads(project: Path) -> None:
    """The same proof for sources.yaml: a source's title planted in the cache shows on the bibliography after an edit
    elsewhere, so its entries were taken from the cache, not parsed again."""
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    entries = _parsed_cache(project)
    sources = [k for k in entries if k.startswith("items:") and any(e.get("id") == "src-one" for e in entries[k][0])]
    assert len(sources) == 1, "sources.yaml is kept"
    for entry in entries[sources[0]][0]:
        if entry["id"] == "src-one":
            entry["title"] = "A Title From The Cache"
    _write_parsed_cache(project, entries)
    md = project / "content/companies/beta.md"
    md.write_text(md.read_text(encoding="utf-8") + "\nSee [[companies/alpha]].\n", encoding="utf-8")  # a new link: full build
    _no_snapshot(project)
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    site = read_tree(project / "_site")
    assert any(b"A Title From The Cache" in data for name, data in site.items() if name.startswith("bibliography/"))


def _engine_copy(tmp_path: Path) -> Path:
    package = tmp_path / "engine"
    shutil.copytree(Path(cache.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    return package


def test_the_engine_digest_covers_the_label_catalogs(tmp_path: Path) -> None:
    package = _engine_copy(tmp_path)
    before = cache.package_digest(package)
    assert cache.package_digest(package) == before
    for catalog in ["locale/zh_Hans/LC_MESSAGES/messages.po", "locale/messages.pot"]:
        with (package / catalog).open("a", encoding="utf-8") as f:
            f.write("\n# edited\n")
        after = cache.package_digest(package)
        assert after != before, catalog
        before = after


def test_a_catalog_edit_is_not_nothing_changed(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _engine_copy(tmp_path)
    monkeypatch.setattr(cache, "engine_digest", lambda: cache.package_digest(package))
    out = project / "_site"
    build(project, out)
    assert build(project, out).unchanged
    po = package / "locale/zh_Hans/LC_MESSAGES/messages.po"
    po.write_bytes(po.read_bytes() + b'\nmsgid "Nothing"\nmsgstr "Nothing"\n')
    assert not build(project, out).unchanged


def _pieces(project: Path) -> dict[str, cache.Piece]:
    return cache._load_pieces(project / CACHE_DIR / cache.PIECES)


def _framed(*records: object) -> bytes:
    """A cache file of records (cache.Records), the header first."""
    return b"".join(cache.framed(marshal.dumps(r)) for r in records)


def _write_pieces(project: Path, pieces: dict[str, cache.Piece]) -> None:
    (project / CACHE_DIR / cache.PIECES).write_bytes(_framed(FORMAT, *((key, text, row) for key, (text, row) in pieces.items())))


def test_after_a_fact_edit_only_that_records_download_piece_is_made_again(project: Path, tmp_path: Path) -> None:
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    first = _pieces(project)
    records = [p for p in (project / "content").glob("*/*.yaml") if p.parent.name != "schemas"]
    assert len(first) == len(records) == 3
    _no_snapshot(project)  # the full build, not record_edits.py's quick path
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    _fresh_build_equals_a_cold_one(project, tmp_path)
    second = _pieces(project)
    assert len(set(first) - set(second)) == 1 and len(set(second) - set(first)) == 1
    (new,) = set(second) - set(first)
    assert b"cell maker" in second[new][0] and b"cell maker" in second[new][1]


def test_the_download_pieces_are_what_a_fresh_build_reads(project: Path) -> None:
    """Proof that pieces are used, not only written: alpha's piece, planted with a new title, is what the collection's
    JSON and CSV and the dataset show after an edit to beta (alpha's fact file did not change)."""
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    pieces = _pieces(project)
    (alpha,) = [k for k, (text, _) in pieces.items() if b"Alpha Motors" in text]
    pieces[alpha] = tuple(part.replace(b"Alpha Motors", b"Alpha From The Cache") for part in pieces[alpha])  # type: ignore[assignment]
    _write_pieces(project, pieces)
    _no_snapshot(project)  # the full build, not record_edits.py's quick path
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    site = read_tree(project / "_site")
    for name in ["companies/index.json", "companies/index.csv", "data/dataset.json"]:
        assert b"Alpha From The Cache" in site[name], name
    assert b"Alpha From The Cache" not in site["companies/alpha/index.json"]  # kept: its inputs did not change


def test_a_wrong_or_foreign_pieces_cache_is_never_used(project: Path, tmp_path: Path) -> None:
    assert run_cli("build", "--no-search", cwd=project).returncode == 0
    pieces = _pieces(project)
    path = project / CACHE_DIR / cache.PIECES
    yaml = project / "content/companies/beta.yaml"
    for n, garbage in enumerate(
        [
            b"not marshal",
            _framed(FORMAT - 1, *((k, *p) for k, p in pieces.items())),
            _framed(FORMAT, *((k, 7, p[1]) for k, p in pieces.items())),
            _framed(FORMAT, *((k, *p) for k, p in pieces.items()))[:-9],  # cut short
            _framed(FORMAT, [1, 2]),
            marshal.dumps(FORMAT) + b"".join(marshal.dumps((k, *p)) for k, p in pieces.items()),  # an older layout
            b"\xff" * 16,  # a length no file has
        ]
    ):
        path.write_bytes(garbage)
        edit(yaml, "kind: battery maker" if n == 0 else f"kind: maker {n - 1}", f"kind: maker {n}")
        _no_snapshot(project)  # the full build, which reads the pieces
        _fresh_build_equals_a_cold_one(project, tmp_path)


def test_pieces_follow_the_base_url_and_the_schema(project: Path, tmp_path: Path) -> None:
    out = project / "_site"
    build(project, out, base_url="https://one.example/")
    build(project, out, base_url="https://two.example/")
    edit(project / "content/schemas/company.schema.yaml", "title: Founded", "title: Year founded")
    build(project, out, base_url="https://two.example/")
    cold = tmp_path / "cold"
    shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", CACHE_DIR))
    build(cold, cold / "_site", base_url="https://two.example/")
    assert read_tree(out) == read_tree(cold / "_site")
    assert b"https://two.example/companies/alpha/" in read_tree(out)["companies/index.csv"]


def test_a_cache_that_cannot_be_written_still_gives_every_download(project: Path, tmp_path: Path) -> None:
    """The pieces are written to the cache as they come and read back for the dataset: when that file cannot be
    made, the dataset is made from the records instead."""
    (project / CACHE_DIR).mkdir()
    (project / CACHE_DIR / f"{cache.PIECES}.{os.getpid()}.tmp").mkdir()  # in the way of this process's file
    build(project, project / "_site", search=False)
    cold = tmp_path / "cold"
    shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", CACHE_DIR))
    build(cold, cold / "_site", search=False)
    assert read_tree(project / "_site") == read_tree(cold / "_site")
    assert not (project / CACHE_DIR / cache.PIECES).exists()


def test_entries_made_when_first_read_are_the_entries_a_full_build_makes() -> None:
    """The quick path's sources (`LazyItems`) against the full build's: the same items in the same places, found by
    id alike (the last of a repeated id wins, an entry without one is under ''), and indexing as a tuple does."""
    values = [{"id": "a", "title": "A"}, {"title": "no id"}, {"id": "b"}, {"id": "a", "title": "A again"}]
    ranks = [2, 0, 3, 1]
    doc = Located(values, "", "content/sources.yaml")
    eager = tuple(Item(v, doc.path, doc, i, rank=r) for i, (v, r) in enumerate(zip(values, ranks, strict=True)))
    lazy = LazyItems([marshal.dumps(v) for v in values], ranks, doc, [str(v.get("id", "")) for v in values])
    assert list(lazy) == list(eager) and len(lazy) == len(eager) and lazy[-1] == eager[-1] and lazy[1:3] == list(eager[1:3])
    assert lazy[0] is lazy[0]  # made once
    by_id = lazy.by_id()
    assert dict(by_id) == {str(s.get("id")): s for s in eager} and "a" in by_id and "c" not in by_id
    with pytest.raises(IndexError):
        lazy[4]
