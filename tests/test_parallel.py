"""A parallel build writes exactly the bytes of a serial build."""

from __future__ import annotations

from pathlib import Path

from site_builder.build import build
from site_builder.parallel import MIN_ITEMS

from .conftest import read_tree


def add_records(project: Path, count: int) -> None:
    folder = project / "content/companies"
    for i in range(count):
        partner = f"gen-{(i * 7) % count:04d}"
        (folder / f"gen-{i:04d}.yaml").write_text(
            f"title: Generated {i}\nkind: maker\nfounded: {{value: {1900 + i % 100}, sources: [src-one]}}\n"
            f"stakes:\n  - {{partner: {partner}, percent: {i % 50}}}\n"
        )
        (folder / f"gen-{i:04d}.md").write_text(f"## About\n\nLinked to [[companies/{partner}]] and NEV [@src-two].\n")


def test_parallel_build_is_byte_identical_to_serial(project: Path, tmp_path: Path) -> None:
    add_records(project, MIN_ITEMS + 50)
    build(project, tmp_path / "serial", workers=1)
    build(project, tmp_path / "parallel", workers=2)
    serial, parallel = read_tree(tmp_path / "serial"), read_tree(tmp_path / "parallel")
    assert len(serial) > MIN_ITEMS
    assert serial == parallel
