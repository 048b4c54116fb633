"""One cause, one error: a bad entry in a list file is reported once, and the rest of the file still loads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .conftest import REPO, edit, make_project, run_cli


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]


def test_a_misspelt_key_in_one_source_is_one_error_on_the_real_site(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", REPO / "content")
    sources = project / "content" / "sources.yaml"
    line = next(
        n for n, text in enumerate(sources.read_text(encoding="utf-8").splitlines(), 1) if text.startswith("  published:")
    )
    edit(sources, "  published:", "  date:")
    done = run_cli("build", "--out", str(tmp_path / "out"), "--no-search", cwd=project)
    assert done.returncode == 1
    errors = _errors(done.stderr)
    assert len(errors) == 1, done.stderr  # not 998 false "unknown source id" errors
    assert errors[0].startswith(f"content/sources.yaml:{line}:3: unknown field 'date' — known fields: "), errors
    assert done.stderr.strip().endswith("Build failed: 1 error")
    assert "Traceback" not in done.stderr


def test_citations_of_a_bad_entry_are_not_blamed_but_unknown_ids_still_are(project: Path, tmp_path: Path) -> None:
    sources = project / "content" / "sources.yaml"
    first_id = re.search(r"- id: (\S+)", sources.read_text(encoding="utf-8"))
    assert first_id is not None
    edit(sources, f"- id: {first_id.group(1)}\n", f"- id: {first_id.group(1)}\n  reliability: shaky\n")
    alpha = project / "content" / "companies" / "alpha.md"
    alpha.write_text(alpha.read_text(encoding="utf-8") + "\nAlso [@no-such-source].\n", encoding="utf-8")
    done = run_cli("build", "--out", str(tmp_path / "out"), "--no-search", cwd=project)
    errors = _errors(done.stderr)
    assert len(errors) == 2, done.stderr
    assert any("content/sources.yaml" in e and "'reliability'" in e for e in errors)
    assert any("content/companies/alpha.md" in e and "unknown source id 'no-such-source'" in e for e in errors)


def test_the_whole_file_being_wrong_is_still_reported(project: Path, tmp_path: Path) -> None:
    shutil.copy(project / "content" / "site.yaml", tmp_path / "site.yaml")
    (project / "content" / "sources.yaml").write_text("title: not a list\n", encoding="utf-8")
    done = run_cli("build", "--out", str(tmp_path / "out"), "--no-search", cwd=project)
    assert done.returncode == 1
    assert "content/sources.yaml:1:1: '(top level)' should be a list" in done.stderr


def test_a_yaml_mistake_in_sources_is_one_error(project: Path, tmp_path: Path) -> None:
    sources = project / "content" / "sources.yaml"
    first = re.search(r"- id: (\S+)\n", sources.read_text(encoding="utf-8"))
    assert first is not None
    edit(sources, first.group(0), first.group(0) + f"  id: {first.group(1)}\n")  # a repeated key
    done = run_cli("build", "--out", str(tmp_path / "out"), "--no-search", cwd=project)
    errors = _errors(done.stderr)
    assert len(errors) == 1 and errors[0].startswith("content/sources.yaml:"), done.stderr
    assert "unknown source id" not in done.stderr
