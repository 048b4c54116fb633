"""Where a cold build's time goes: each stage of site_builder.build.build() timed on its own, and a cProfile of
rendering record pages on one core, split by the module that spent the time.

    python benchmarks/gen_corpus.py 10000 /tmp/corp10k
    python benchmarks/profile_build.py /tmp/corp10k              # stages, then 200 pages under cProfile
    python benchmarks/profile_build.py /tmp/corp10k --pages 0    # stages only
    printf '\nOne more sentence.\n' >> /tmp/corp10k/content/entities/entity-05000.md
    python benchmarks/profile_build.py /tmp/corp10k --pages 0 --warm   # the stages of a one-edit build
    printf '\nOne more sentence.\n' >> /tmp/corp10k/content/entities/entity-05000.md
    python benchmarks/profile_build.py /tmp/corp10k --quick --out /tmp/corp10k/_profile_site  # its quick path

The stages are called in the order build() calls them, with the same arguments, as a cold build (no cache, no
output), or with --warm from the cache and output the previous run left, as a fresh `build` process after an edit.
Unlike build(), the rendered files are first collected in a list, so that rendering and writing are timed apart
(a cold run holds every page in memory: its peak is higher than a real build's). CPU includes the worker
processes of the stages that fork them (parsing records, rendering pages).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def cpu() -> float:
    """User + system seconds of this process and its reaped children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def rss_mib() -> int:
    """This process's resident memory now, in MiB (0 where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


class Stages:
    """Times each stage (wall and CPU), notes the memory after it, and prints a table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, int]] = []

    def run(self, name: str, fn: Callable[[], T]) -> T:
        wall, used = time.perf_counter(), cpu()
        result = fn()
        self.rows.append((name, time.perf_counter() - wall, cpu() - used, rss_mib()))
        print(f"  {name}: {self.rows[-1][1]:.2f} s", file=sys.stderr)
        return result

    def table(self, pages: int) -> str:
        total = sum(r[1] for r in self.rows)
        lines = [
            "| stage | wall s | share | CPU s | µs per page (wall) | RSS after, MiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, wall, used, rss in self.rows:
            lines.append(f"| {name} | {wall:.2f} | {100 * wall / total:.0f}% | {used:.2f} | {1e6 * wall / pages:.0f} | {rss} |")
        used = sum(r[2] for r in self.rows)
        lines.append(f"| **total** | **{total:.2f}** | | **{used:.2f}** | {1e6 * total / pages:.0f} | |")
        return "\n".join(lines)


def stages(project: Path, out: Path, workers: int | None, warm: bool = False) -> tuple[Stages, list[Any], list[Any]]:
    """A build, stage by stage, as build() does it (strict, no search index): cold, or with `warm` from the cache and
    output the last build left (pages whose fingerprint is unchanged are linked, not rendered)."""
    from site_builder.build import resolve_references, same_pages, validate
    from site_builder.cache import CACHE_DIR, Pages, build_key, previous_pages, save_pages
    from site_builder.fingerprint import fingerprints as make_fingerprints
    from site_builder.output import Stamp, check_output, read_stamp, write_site
    from site_builder.pages import plan_pages
    from site_builder.parallel import default_workers
    from site_builder.render import extra_files, render_pages
    from site_builder.splice import Woven
    from site_builder.tree import read_tree
    from site_builder.urls import Urls, output_file

    if not warm:
        shutil.rmtree(project / CACHE_DIR, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    workers = default_workers() if workers is None else workers
    options: dict[str, object] = {"base_url": None, "strict": True, "search": False}
    s = Stages()
    check_output(out, project)
    key = s.run("build key (stat and hash every input)", lambda: build_key(project, options))
    stamp = read_stamp(out)
    if stamp is not None and stamp.key == key.value:
        raise SystemExit("nothing changed since the last build: edit an input first")
    tree = s.run("read the input tree", lambda: read_tree(project))
    content, problems = s.run(
        f"validate (parse + schema check, {workers} workers; load and save the parsed-content cache)",
        lambda: validate(tree, None, workers, project),
    )
    sites, warnings = s.run("resolve references", lambda: resolve_references(content, problems, True))
    pages = s.run("plan pages", lambda: plan_pages(sites))
    stamp_key = stamp.key if stamp else None
    before = previous_pages(project, stamp_key)
    fps = s.run("fingerprints", lambda: make_fingerprints(sites, pages, tree, options, before.fingerprints))
    unchanged = s.run("compare with previous", lambda: same_pages(lambda: fps, before.fingerprints.files, out))
    woven = Woven(project, key.value)
    urls = Urls(sites[0].content.config.base_url)

    def pages_of(site: Any) -> list[Any]:
        mine = [p for p in pages if p.language == site.language.prefix and output_file(p.path) not in unchanged]
        return [f for f in render_pages(site, mine, tree.under("templates"), urls, workers, woven)]

    files: list[Any] = s.run(f"render pages ({workers} workers)", lambda: [f for site in sites for f in pages_of(site)])
    files += [(name, None) for name in sorted(unchanged)]  # kept: linked from the previous output
    extras = s.run(
        "extra files (static, sitemap, downloads, feed)",
        lambda: list(extra_files(sites, pages, urls, tree.under("static"), unchanged)),
    )
    stamp = Stamp(key.value, len(pages), tuple((w.path, w.message, w.hint, w.line, w.col) for w in warnings))
    s.run(
        "write site (journal, or staging folder and swap)",
        lambda: write_site(iter(files + extras), out, project, stamp, search=False),
    )
    s.run("save page fingerprints", lambda: save_pages(project, key.value, Pages(fps, key.rest, woven.everything_shared())))
    s.run("save prose notes", lambda: woven.finish(project, stamp_key, unchanged, tree.files))
    return s, sites, pages


def quick_stages(project: Path, out: Path) -> tuple[Stages, int]:
    """The stages of build()'s quick path (splice.py) after an edit to a record's prose alone, with the cache and
    output the last build left."""
    from dataclasses import replace

    from site_builder.cache import NoteWriter, build_key, previous_pages, save_pages
    from site_builder.output import read_stamp, recover, write_site
    from site_builder.splice import splice
    from site_builder.tree import layout

    options: dict[str, object] = {"base_url": None, "strict": True, "search": False}
    s = Stages()
    s.run("recover the output (a killed build's journal)", lambda: recover(out))
    key = s.run("build key (stat and hash every input)", lambda: build_key(project, options))
    stamp = read_stamp(out)
    if stamp is None or stamp.key == key.value or stamp.files is None:
        raise SystemExit("edit a record's prose after a build without search first")
    previous = s.run("read page fingerprints", lambda: previous_pages(project, stamp.key))
    spliced = s.run(
        "splice: read notes, render the edited prose", lambda: splice(project, layout(project), out, key, previous, stamp.key)
    )
    if spliced is None:
        raise SystemExit("the quick path stepped aside: not a prose-only edit")
    files, fingerprints, notes = spliced
    kept = [(f, None) for f in stamp.files if f not in files]
    s.run(
        "write site (journal)",
        lambda: write_site([*files.items(), *kept], out, project, replace(stamp, key=key.value), search=False),
    )
    s.run("save page fingerprints", lambda: save_pages(project, key.value, replace(previous, fingerprints=fingerprints)))

    def save_notes() -> None:
        writer = NoteWriter(project, key.value)
        for note in notes:
            writer.add(note)
        writer.commit()

    s.run("save notes", save_notes)
    return s, stamp.pages


def by_module(stats: pstats.Stats, roots: tuple[str, ...]) -> list[tuple[str, float]]:
    """Own time (tottime) summed by package or site_builder module; C functions count as 'builtins'."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        totals[bucket(filename, roots)] = totals.get(bucket(filename, roots), 0.0) + row[2]
    return sorted(totals.items(), key=lambda kv: -kv[1])


def bucket(filename: str, roots: tuple[str, ...]) -> str:
    """'markdown', 'jinja2', 'site_builder/views.py', 'templates (compiled)', 'builtins', …"""
    if filename == "~":
        return "builtins (C)"
    if filename.startswith(("templates/", "<template>")) or filename.endswith(".html"):
        return "templates (compiled Jinja code)"
    for root in sorted(roots, key=len, reverse=True):  # site-packages may lie inside the checkout (.venv)
        if filename.startswith(root):
            rel = filename[len(root) :].lstrip(os.sep).split(os.sep)
            return f"site_builder/{rel[-1]}" if rel[0] == "site_builder" else rel[0].removesuffix(".py")
    return "other: " + Path(filename).name


def profile_pages(sites: list[Any], pages: list[Any], project: Path, count: int, top: int) -> str:
    """cProfile of rendering `count` record pages (spread over the corpus) on one core."""
    import site_builder
    from site_builder.render import render_pages
    from site_builder.tree import read_tree
    from site_builder.urls import Urls

    records = [p for p in pages if p.kind == "record" and p.language == sites[0].language.prefix]
    chosen = records[:: max(1, len(records) // count)][:count]
    templates = read_tree(project).under("templates")
    urls = Urls(sites[0].content.config.base_url)

    def go() -> Iterator[Any]:
        return render_pages(sites[0], chosen, templates, urls, 1)

    list(go())  # warm: templates compiled, caches filled, as in the middle of a build
    prof = cProfile.Profile()
    wall = time.perf_counter()
    prof.enable()
    list(go())
    prof.disable()
    wall = time.perf_counter() - wall
    stats = pstats.Stats(prof)
    roots = tuple({str(Path(site_builder.__file__).parent.parent), *(p for p in sys.path if p.endswith("site-packages"))})
    total = sum(t for _, t in by_module(stats, roots))
    lines = [
        f"{len(chosen)} record pages, 1 core: {1e3 * wall / len(chosen):.2f} ms per page under cProfile "
        f"(own time {1e3 * total / len(chosen):.2f} ms)",
        "",
        "| where (own time) | ms per page | share |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {1e3 * t / len(chosen):.3f} | {100 * t / total:.1f}% |" for name, t in by_module(stats, roots)[:top]]
    stats.sort_stats("cumulative")
    lines += ["", "Top functions by cumulative time:", "", "| function | cum ms per page | own ms per page | calls per page |"]
    lines += ["| --- | ---: | ---: | ---: |"]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])  # type: ignore[attr-defined]
    for (filename, line, name), (_cc, nc, tt, ct, _callers) in rows[: top * 2]:
        where = f"{bucket(filename, roots)}:{line} {name}" if filename != "~" else name
        lines.append(f"| `{where}` | {1e3 * ct / len(chosen):.3f} | {1e3 * tt / len(chosen):.3f} | {nc / len(chosen):.1f} |")
    return "\n".join(lines)


def split_pages(sites: list[Any], pages: list[Any], project: Path, count: int) -> str:
    """Without a profiler: per record page, the time in Markdown, the rest of the context, and Jinja."""
    from site_builder import markup
    from site_builder.render import _PageRenderer
    from site_builder.tree import read_tree
    from site_builder.urls import Urls

    records = [p for p in pages if p.kind == "record" and p.language == sites[0].language.prefix]
    chosen = records[:: max(1, len(records) // count)][:count]
    renderer = _PageRenderer(sites[0], read_tree(project).under("templates"), Urls(sites[0].content.config.base_url))
    spent = {"markdown": 0.0, "context": 0.0, "jinja": 0.0}
    plain = markup.render

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return plain(*args, **kwargs)
        finally:
            spent["markdown"] += time.perf_counter() - start

    markup.render = timed
    try:
        for _ in range(2):  # the first round warms up (templates compiled, caches filled); the second counts
            spent = dict.fromkeys(spent, 0.0)
            for page in chosen:
                template = renderer.env.get_template(page.template)
                start = time.perf_counter()
                context, _ = renderer.views.context(page)
                middle = time.perf_counter()
                template.render(context)
                spent["context"] += middle - start
                spent["jinja"] += time.perf_counter() - middle
    finally:
        markup.render = plain
    spent["context"] -= spent["markdown"]
    total = sum(spent.values())
    lines = [
        f"{len(chosen)} record pages, 1 core, no profiler: {1e3 * total / len(chosen):.2f} ms per page",
        "",
        "| part of a record page | ms per page | share |",
        "| --- | ---: | ---: |",
    ]
    names = {
        "markdown": "Markdown (markup.render: Python-Markdown + our extensions)",
        "context": "context building without Markdown (views.py, display.py, citations)",
        "jinja": "Jinja (template.render)",
    }
    lines += [f"| {names[k]} | {1e3 * v / len(chosen):.2f} | {100 * v / total:.0f}% |" for k, v in spent.items()]
    return "\n".join(lines)


def floor(sites: list[Any], pages: list[Any], project: Path, count: int) -> str:
    """The CPU time of the three libraries the project is built on, alone, for a whole cold build: PyYAML (libyaml's
    parser and PyYAML's constructors) reading every content file, Python-Markdown (with the site's extensions) converting
    every record's prose, and Jinja rendering every record page from a context made beforehand. Measured on one core
    over `count` record pages spread over the corpus (best of two passes) and scaled to all of them; the data files
    are read whole. No build can take less CPU than their sum, whatever the rest costs."""
    from site_builder import markup, yamlfile
    from site_builder.render import _PageRenderer
    from site_builder.tree import read_tree
    from site_builder.urls import Urls

    tree = read_tree(project)
    files = tree.under("content")
    records = [p for p in pages if p.kind == "record" and p.language == sites[0].language.prefix]
    chosen = records[:: max(1, len(records) // count)][:count]
    by_address = sites[0].content.records_by_address
    renderer = _PageRenderer(sites[0], tree.under("templates"), Urls(sites[0].content.config.base_url))
    contexts = [(renderer.env.get_template(p.template), renderer.views.context(p)[0]) for p in chosen]
    hooks = markup.Hooks(link=lambda a: (f"/{a}/", a), cite=lambda ids: "<sup>1</sup>", flag=lambda s: "")
    texts = [by_address[p.address].md_text for p in chosen]
    facts = [files[by_address[p.address].yaml_path.removeprefix("content/")] for p in chosen]
    data = [name for name in files if name.endswith(".yaml") and "/" not in name]

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(2):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        return min(times)

    def read(blobs: list[bytes]) -> None:
        for blob in blobs:
            yamlfile.load(yamlfile.decode(blob, "x.yaml"), "x.yaml")

    scale = len(records) / len(chosen)
    spent = {
        "PyYAML: every record's fact file": best(lambda: read(facts)) * scale,
        f"PyYAML: the data files ({', '.join(sorted(data))})": best(lambda: read([files[n] for n in data])),
        "Python-Markdown: every record's prose": best(lambda: [markup.render(t, hooks) for t in texts]) * scale,
        "Jinja: every record page, from its context": best(lambda: [t.render(c) for t, c in contexts]) * scale,
    }
    total = sum(spent.values())
    import markdown
    from markdown.extensions.toc import TocExtension

    bare = markdown.Markdown()
    stock = markdown.Markdown(extensions=[*markup.standard_extensions(), TocExtension(**markup.TOC_OPTIONS)])
    compared = {
        "Python-Markdown with no extension at all": best(lambda: [bare.reset().convert(t) for t in texts]) * scale,
        "Python-Markdown with the site's standard extensions, its own inline pass and contents": best(
            lambda: [stock.reset().convert(t) for t in texts]
        )
        * scale,
    }
    lines = [
        f"The libraries alone, for {len(records):,} record pages (measured on {len(chosen)} of them, one core, best of 2):",
        "",
        "| what | CPU s |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {t:.2f} |" for name, t in spent.items()]
    lines.append(f"| **sum: the least CPU a cold build can take** | **{total:.2f}** (≥ {total / 2:.2f} s on 2 cores) |")
    lines += [f"| for comparison: {name} | {t:.2f} |" for name, t in compared.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a project written by gen_corpus.py")
    parser.add_argument("--out", type=Path, help="output folder (default: PROJECT/_profile_site, deleted first)")
    parser.add_argument("--workers", type=int, help="workers for parsing and rendering (default: the build's)")
    parser.add_argument("--pages", type=int, default=200, help="record pages to render under cProfile (0: none)")
    parser.add_argument("--warm", action="store_true", help="keep the cache and output of the last build (time an edit)")
    parser.add_argument("--quick", action="store_true", help="time the quick path of a prose-only edit (splice.py)")
    parser.add_argument("--top", type=int, default=15, help="rows of the per-page tables")
    parser.add_argument("--floor", type=int, default=0, help="time the libraries alone on this many record pages")
    args = parser.parse_args()
    project = args.project.resolve()
    out = (args.out or project / "_profile_site").resolve()
    load = os.getloadavg()
    from site_builder.build import few_collections

    if args.quick:
        with few_collections():
            quick, count = quick_stages(project, out)
        print(f"## {project.name}, quick prose path: {count} pages, load average before {' / '.join(f'{x:.2f}' for x in load)}\n")
        print(quick.table(count))
        return
    with few_collections():  # the cycle collector's pace of a real build
        s, sites, pages = stages(project, out, args.workers, args.warm)
    kind = "warm" if args.warm else "cold"
    print(f"## {project.name}, {kind}: {len(pages)} pages, load average before {' / '.join(f'{x:.2f}' for x in load)}\n")
    print(s.table(len(pages)))
    if args.floor:
        print()
        print(floor(sites, pages, project, args.floor))
    if args.pages:
        print()
        print(split_pages(sites, pages, project, args.pages))
        print()
        print(profile_pages(sites, pages, project, args.pages, args.top))


if __name__ == "__main__":
    main()
