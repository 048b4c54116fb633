"""The quick path of a fresh build (splice.py): an edit to a record's prose alone is rendered and put in place
without the rest of the site; whichever path a build takes, its output is a cold build's, byte for byte."""

from __future__ import annotations

import marshal
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build import build
from site_builder.cache import CACHE_DIR, FORMAT, NOTES, framed, read_records
from site_builder.errors import BuildFailed
from site_builder.output import read_stamp

from .conftest import cold_build, edit, read_tree
from .test_incremental import EDITS

ALPHA, BETA = "content/companies/alpha.md", "content/companies/beta.md"


def _two_records(project: Path) -> None:
    edit(project / BETA, "Beta supplies", "Beta now supplies")
    edit(project / ALPHA, "The [[timeline]] has more.", "The [[timeline]] has more; so does [[home]].")


QUICK: dict[str, Callable[[Path], None]] = {  # the same links, citations and headings: the quick path takes these
    "words": lambda p: edit(p / BETA, "Beta supplies", "Beta now supplies"),
    "beside a marker, a chart and a footnote": lambda p: edit(p / ALPHA, "It is a maker", "It is a large maker"),
    "a footnote's text": lambda p: edit(p / ALPHA, "The footnote text", "The longer footnote text"),
    "a glossary term now named": lambda p: edit(p / BETA, "Beta supplies", "Beta, a joint venture, supplies"),
    "a paragraph and emphasis": lambda p: edit(p / BETA, "Beta supplies", "Beta *mostly* supplies\n\nMore text; then it"),
}
ASIDE: dict[str, Callable[[Path], None]] = {  # prose edits it must leave to the full build
    "a heading renamed": lambda p: edit(p / BETA, "## History", "## Early history"),
    "a heading added": lambda p: edit(p / BETA, "Beta supplies", "## Today\n\nBeta supplies"),
    "a chart added": lambda p: edit(p / BETA, "Beta supplies", "[[charts/sales]]\n\nBeta supplies"),
    "a marker added": lambda p: edit(p / BETA, "[@src-two].", "[@src-two] [?]."),
    "two records' prose, one with a new link": lambda p: _two_records(p),
    "a link in code now": lambda p: edit(p / BETA, "[[companies/alpha]]", "`[[companies/alpha]]`"),
    "a page's prose": lambda p: edit(p / "content/pages/about.md", "About [[home]].", "About [[home]], briefly."),
}
CASES = {**{f"quick: {k}": v for k, v in QUICK.items()}, **{f"aside: {k}": v for k, v in ASIDE.items()}, **EDITS}


@pytest.mark.parametrize("name", list(CASES))
def test_a_fresh_build_after_an_edit_equals_a_cold_build(project: Path, tmp_path: Path, name: str) -> None:
    out = project / "_site"
    assert build(project, out, search=False).quick != "prose"
    CASES[name](project)
    again = build(project, out, search=False)
    assert (again.quick == "prose") == (name.startswith("quick") or name == "record text"), name
    if again.quick == "prose":
        assert again.rendered == 1
    assert read_tree(out) == cold_build(project, tmp_path), name


def test_quick_builds_chain_and_a_full_one_after_them_agrees(project: Path, tmp_path: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    for k in range(3):
        edit(project / BETA, "Beta " if k == 0 else f"Beta{k - 1} ", f"Beta{k} ")
        again = build(project, out, search=False)
        assert again.quick == "prose" and again.rendered == 1, k
        assert f"Beta{k} supplies".encode() in (out / "companies/beta/index.html").read_bytes()
    assert read_tree(out) == cold_build(project, tmp_path)
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    assert build(project, out, search=False).quick != "prose"
    assert read_tree(out) == cold_build(project, tmp_path)
    edit(project / BETA, "Beta2 ", "Beta ")  # back to the first text: quick again, from the full build's notes
    assert build(project, out, search=False).quick == "prose"
    assert read_tree(out) == cold_build(project, tmp_path)


def test_the_notes_are_what_a_quick_build_uses(project: Path) -> None:
    """Proof that the noted answers are used, not worked out again: a link title planted in beta's note shows."""
    out = project / "_site"
    build(project, out, search=False)
    path = project / CACHE_DIR / NOTES
    header = (FORMAT, read_stamp(out).key)  # type: ignore[union-attr]
    notes = list(read_records(path, header))
    for i, (file, md, digest, blob) in enumerate(notes):
        if file == "companies/beta/index.html":
            edition, calls, *rest = marshal.loads(blob)
            calls = [(n, q, (a[0], "Planted Title") if n == "link" else a) for n, q, a in calls]
            notes[i] = (file, md, digest, marshal.dumps((edition, calls, *rest)))
    path.write_bytes(b"".join(framed(marshal.dumps(value)) for value in (header, *notes)))
    edit(project / BETA, "Beta supplies", "Beta now supplies")
    assert build(project, out, search=False).quick == "prose"
    assert b">Planted Title</a>" in (out / "companies/beta/index.html").read_bytes()


def test_a_template_that_reads_the_prose_elsewhere_has_no_quick_path(project: Path, tmp_path: Path) -> None:
    edit(project / "templates/record.html", "{{ body }}", "{{ body }}<p>{{ body|length }} characters</p>")
    out = project / "_site"
    build(project, out, search=False)
    edit(project / BETA, "Beta supplies", "Beta now supplies")
    assert build(project, out, search=False).quick != "prose"
    assert read_tree(out) == cold_build(project, tmp_path)


def test_what_a_template_was_found_to_show_is_asked_again_when_a_template_changes(project: Path, tmp_path: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)  # record.html shows `body` once: kept beside the compiled templates
    assert list((project / CACHE_DIR / "templates").glob("body-once-*"))
    edit(project / "templates/record.html", "{{ body }}", "{{ body }}<p>{{ body|length }} characters</p>")
    build(project, out, search=False)
    edit(project / BETA, "Beta supplies", "Beta now supplies")
    assert build(project, out, search=False).quick != "prose"
    assert read_tree(out) == cold_build(project, tmp_path)


def test_a_page_changed_by_hand_in_the_output_is_made_by_the_full_build(project: Path, tmp_path: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    page = out / "companies/beta/index.html"
    page.write_bytes(page.read_bytes().replace(b"Beta supplies", b"Beta supplied"))
    edit(project / BETA, "Beta supplies", "Beta now supplies")
    assert build(project, out, search=False).quick != "prose"
    assert read_tree(out) == cold_build(project, tmp_path)


def _french_with_a_minor_heading(project: Path) -> None:
    from .test_languages import _french

    _french(project)
    edit(project / ALPHA, "A footnote.", "#### A note\n\nA footnote.")  # below the contents (levels 2-3)
    fr = project / "content/companies/alpha.fr.md"
    fr.write_text(fr.read_text(encoding="utf-8") + "\n#### Une remarque\n\nTexte.\n", encoding="utf-8")


IN_TWO_LANGUAGES: dict[str, tuple[Callable[[Path], None], int]] = {  # edit -> pages rendered quickly (0: full build)
    "untranslated prose (shown in both editions)": (lambda p: edit(p / BETA, "Beta supplies", "Beta now supplies"), 2),
    "translated prose": (lambda p: edit(p / ALPHA, "It is a maker", "It is a large maker"), 1),
    "a heading whose anchor the translation takes": (lambda p: edit(p / ALPHA, "#### A note", "#### A remark"), 0),
    "the translation's prose": (lambda p: edit(p / "content/companies/alpha.fr.md", "construit", "fabrique"), 0),
}


def test_prose_shown_by_a_translation_of_its_fields_alone_is_made_anew_on_both_pages(project: Path, tmp_path: Path) -> None:
    """A French file with front matter and no prose shows alpha's English prose on the French page (with the
    French headings' anchors): an edit to it must reach both pages."""
    from .test_languages import _french

    _french(project)
    (project / "content/companies/alpha.fr.md").write_text("---\ntitle: Alpha Moteurs\n---\n", encoding="utf-8")
    out = project / "_site"
    build(project, out, search=False)
    edit(project / ALPHA, "It is a maker", "It is a large maker")
    build(project, out, search=False)
    assert b"It is a large maker" in (out / "fr/companies/alpha/index.html").read_bytes()
    assert read_tree(out) == cold_build(project, tmp_path)


@pytest.mark.parametrize("name", list(IN_TWO_LANGUAGES))
def test_a_site_in_two_languages_splices_every_page_that_shows_the_prose(project: Path, tmp_path: Path, name: str) -> None:
    _french_with_a_minor_heading(project)
    out = project / "_site"
    build(project, out, search=False)
    change, quick = IN_TWO_LANGUAGES[name]
    change(project)
    again = build(project, out, search=False)
    assert (again.quick == "prose", again.rendered if again.quick else 0) == (bool(quick), quick), name
    assert read_tree(out) == cold_build(project, tmp_path), name


def test_a_quick_edit_that_breaks_the_text_is_reported_and_the_site_kept(project: Path) -> None:
    out = project / "_site"
    build(project, out, search=False)
    before = read_tree(out)
    (project / BETA).write_bytes(b"## History\n\nBeta \xff supplies [[companies/alpha]] [@src-two].\n")
    with pytest.raises(BuildFailed) as failed:
        build(project, out, search=False)
    assert [e.path for e in failed.value.errors] == [BETA]
    assert read_tree(out) == before
    (project / BETA).write_text("## History\n\nBeta supplies at last [[companies/alpha]] [@src-two].\n", encoding="utf-8")
    assert build(project, out, search=False).quick == "prose"
    assert b"Beta supplies at last" in (out / "companies/beta/index.html").read_bytes()


def test_the_search_index_build_never_splices(project: Path) -> None:
    """Pagefind indexes the whole site: with search, every edit takes the full build."""
    out = project / "_site"
    build(project, out)
    edit(project / BETA, "Beta supplies", "Beta now supplies")
    again = build(project, out)
    assert not again.quick and again.rendered == 1


def test_a_content_folder_elsewhere_takes_the_quick_path_too(project: Path, tmp_path: Path) -> None:
    story = tmp_path / "story"
    shutil.move(project / "content", story)
    out = project / "_site"
    build(project, out, search=False, content_dir=story)
    edit(story / "companies/beta.md", "Beta supplies", "Beta now supplies")
    again = build(project, out, search=False, content_dir=story)
    assert again.quick and b"Beta now supplies" in (out / "companies/beta/index.html").read_bytes()
    shutil.move(story, project / "content")
    assert read_tree(out) == cold_build(project, tmp_path)


def test_notes_a_stopped_build_left_half_written_are_deleted(project: Path) -> None:
    """Ctrl-C while pages render leaves the notes being written (notes.bin.<pid>.tmp): the next build's commit
    deletes it when that process is gone, and leaves a running build's own."""
    import os
    import subprocess

    out = project / "_site"
    build(project, out, search=False)
    dead = subprocess.Popen(["true"])
    dead.wait()
    cache = project / CACHE_DIR
    stale, alive = cache / f"{NOTES}.{dead.pid}.tmp", cache / f"{NOTES}.{os.getppid()}.tmp"
    stale.write_bytes(b"half")
    alive.write_bytes(b"another build's")
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    build(project, out, search=False)
    assert not stale.exists() and alive.exists()
