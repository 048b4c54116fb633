"""A parallel build writes exactly the bytes of a serial build."""

from __future__ import annotations

import os
import time
from pathlib import Path

from site_builder.build import build
from site_builder.parallel import CHUNK, MIN_ITEMS, _ranges, map_ordered

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


def test_chunks_by_weight_cover_every_item_once_in_order() -> None:
    """Heavy items (data pages) go to workers in smaller chunks, so that a worker never holds a chunk of results
    much larger than CHUNK record pages; every item is in exactly one chunk, in order, and the results come back
    in order."""
    items = ["light"] * 150 + ["heavy"] * 20 + ["light"] * 3
    ranges = _ranges(items, lambda x: 8 if x == "heavy" else 1)
    assert [i for start, end in ranges for i in range(start, end)] == list(range(len(items)))
    assert all(sum(8 if items[i] == "heavy" else 1 for i in range(s, e)) < CHUNK + 8 for s, e in ranges)
    assert max(e - s for s, e in ranges if all(items[i] == "heavy" for i in range(s, e))) == CHUNK // 8
    assert _ranges(items, None) == [(i, min(i + CHUNK, len(items))) for i in range(0, len(items), CHUNK)]
    many = list(range(MIN_ITEMS + 100))
    assert list(map_ordered(str, many, 2, lambda n: 1 + n % 9)) == [str(n) for n in many]


_STARTED = "started"


def _touch(folder: str) -> int:
    Path(folder, _STARTED).touch()
    return os.getpid()


def test_meanwhile_runs_here_while_the_workers_work(tmp_path: Path) -> None:
    """The caller's own work (`meanwhile`) is done once, in this process, after the workers have started: it sees a
    file the workers write. On one core (too few items, or one worker) it is done first, once."""
    seen: list[tuple[int, bool]] = []

    def meanwhile() -> None:
        for _ in range(3000):  # up to 30 s, a loaded machine: the workers write the file as soon as they start
            if (tmp_path / _STARTED).exists():
                break
            time.sleep(0.01)
        seen.append((os.getpid(), (tmp_path / _STARTED).exists()))

    items = [str(tmp_path)] * (MIN_ITEMS + 10)
    pids = list(map_ordered(_touch, items, 2, meanwhile=meanwhile))
    assert seen == [(os.getpid(), True)]
    assert len(pids) == len(items) and os.getpid() not in pids
    for few, workers in ((items[:3], 2), (items, 1)):
        (tmp_path / _STARTED).unlink()
        seen.clear()
        gen = map_ordered(_touch, few, workers, meanwhile=lambda: seen.append((os.getpid(), (tmp_path / _STARTED).exists())))
        assert list(gen) == [os.getpid()] * len(few)
        assert seen == [(os.getpid(), False)]  # first, before any item
