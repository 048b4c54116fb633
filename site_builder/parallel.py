"""Map a function over items on several cores, results in input order, so output never depends on timing."""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

MIN_ITEMS = 200  # below this, starting workers costs more than it saves
CHUNK = 64

# Set in the parent just before the pool forks; each worker inherits it instead of unpickling the whole site.
_work: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def default_workers() -> int:
    """As many workers as the machine has cores for this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_ordered(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    workers: int,
    weight: Callable[[Any], int] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[Any]:
    """fn(item) for every item, in order; forked workers when there are enough items and cores. A worker sends its
    results a chunk at a time (the chunk's results and their pickled copy are in its memory at once): a chunk holds
    CHUNK items, or fewer heavy ones (`weight`, 1 for most: a chunk holds items up to CHUNK in weight).

    `meanwhile`, the caller's own work that does not need the results, is done in this process once the workers
    have started (before the first result is given), so that it does not leave a core idle; on one core, first."""
    global _work
    if workers < 2 or len(items) < MIN_ITEMS:
        yield from _serial(fn, items, meanwhile)
        return
    import multiprocessing  # here, not at the top: a quick build runs on one core and need not load it

    if "fork" not in multiprocessing.get_all_start_methods():
        yield from _serial(fn, items, meanwhile)
        return
    _work = (fn, items)
    give_back_memory()  # what parsing freed is not copied into, nor counted in, every worker
    gc.freeze()  # the site is shared with the forked workers: keep the collector from touching (and copying) its pages
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunks = pool.imap(_run, _ranges(items, weight))  # the workers start on the first chunks now
            if meanwhile is not None:
                meanwhile()
            for chunk in chunks:
                yield from chunk
    finally:
        _work = None
        gc.unfreeze()


def _serial(fn: Callable[[Any], Any], items: Sequence[Any], meanwhile: Callable[[], object] | None) -> Iterator[Any]:
    if meanwhile is not None:
        meanwhile()
    yield from map(fn, items)


def _ranges(items: Sequence[Any], weight: Callable[[Any], int] | None) -> list[tuple[int, int]]:
    """The chunks, as (start, end) ranges of `items`."""
    if weight is None:
        return [(i, min(i + CHUNK, len(items))) for i in range(0, len(items), CHUNK)]
    ranges, start, load = [], 0, 0
    for i, item in enumerate(items):
        load += weight(item)
        if load >= CHUNK or i == len(items) - 1:
            ranges.append((start, i + 1))
            start, load = i + 1, 0
    return ranges


def give_back_memory() -> None:
    """Return the memory the process has freed to the system (glibc keeps it otherwise); elsewhere, nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes.util  # here: a quick build never gives memory back

    name = ctypes.util.find_library("c") if os.name == "posix" else None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def _run(span: tuple[int, int]) -> list[Any]:
    assert _work is not None
    fn, items = _work
    return [fn(items[i]) for i in range(*span)]
