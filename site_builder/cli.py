"""The command line: each command parses its options and calls one function."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import BuildFailed, SiteError
from .tree import real_folder, relabel


def run() -> NoReturn:
    """The command line's entry point: `main`, then exit at once. Every file is closed and the output flushed by
    then; what is skipped is freeing the built site object by object (0.4 s after a build of 10,000 records)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`): nothing more can be said there
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; user errors print as path:line:col lines and exit 1."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BuildFailed as exc:
        print(BuildFailed(_shown(exc.errors, args)).report(), file=sys.stderr)
        return 1
    except SiteError as exc:
        print(_shown([exc], args)[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="site_builder", description="Build explainer sites from sourced YAML facts and Markdown."
    )
    parser.add_argument("--version", action="version", version=f"site_builder {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the site into a folder", description="Build the site into --out.")
    _content_options(build)
    build.add_argument("--out", type=Path, default=Path("_site"), help="output folder (default: _site)")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument("--no-search", action="store_true", help="skip the search index (faster; the search page finds nothing)")
    build.set_defaults(run=_build)

    check = commands.add_parser(
        "check",
        help="check content, references and every internal link; write nothing",
        description="Everything build validates, plus every internal link and #anchor.",
    )
    _content_options(check)
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.set_defaults(run=_check)

    serve = commands.add_parser("serve", help="preview with live reload", description="Build, serve and rebuild on every save.")
    _content_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")
    serve.add_argument(
        "--poll", action="store_true", help="notice saves by scanning the files, not from the OS (for network drives)"
    )
    serve.set_defaults(run=_serve)

    deploy = commands.add_parser(
        "deploy",
        help="build and publish to the gh-pages branch",
        description="Build the site and publish it to a gh-pages branch with ghp-import.",
    )
    _content_options(deploy)
    deploy.add_argument("--remote", default="origin", help="git remote to push to (default: origin)")
    deploy.add_argument("--branch", default="gh-pages", help="branch to publish to (default: gh-pages)")
    deploy.add_argument("--message", default=None, help="commit message")
    deploy.add_argument("--force", action="store_true", help="force-push, replacing the branch's history")
    deploy.set_defaults(run=_deploy)

    new = commands.add_parser(
        "new",
        help="start a record: a fact-file skeleton and its Markdown twin",
        description="Write content/<collection>/<slug>.yaml (required fields, commented) and <slug>.md.",
    )
    new.add_argument("collection")
    new.add_argument("slug")
    new.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    new.set_defaults(run=_new)

    init = commands.add_parser("init", help="start a new explainer project", description="Create a project that builds at once.")
    init.add_argument("folder", type=Path)
    init.set_defaults(run=_init)
    return parser


def _content_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--content",
        type=Path,
        default=Path("content"),
        help="content folder; templates/ and static/ are read beside it (default: content)",
    )
    parser.add_argument("--base-url", default=None, help="override site.yaml's base_url (e.g. https://user.github.io/repo/)")


def _content(args: argparse.Namespace) -> Path:
    """The content folder (--content DIR) itself, as an absolute path; a clear error when it is not a folder."""
    content = Path(args.content)
    if not content.is_dir():
        problem = "is not a folder" if content.exists() else "content folder not found"
        hint = "run from the project folder, pass --content DIR, or start a project with `site-builder init FOLDER`"
        raise SiteError(content.as_posix(), problem, hint, line=0)
    return real_folder(content)


def _project(args: argparse.Namespace) -> Path:
    """The project: the content folder's parent, where its own templates/ and static/ (if any) are."""
    return _content(args).parent


def _shown(errors: list[SiteError], args: argparse.Namespace) -> list[SiteError]:
    """Errors as the user should see them: 'content/…' named after the folder given as --content."""
    content = getattr(args, "content", None)
    return errors if content is None else relabel(errors, Path(content))


def _warn(warnings: list[SiteError], args: argparse.Namespace) -> None:
    for w in _shown(warnings, args):
        print(f"warning: {w}", file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    from .build import build
    from .progress import Progress

    progress = Progress(sys.stderr)
    try:
        content = _content(args)
        result = build(
            content.parent,
            args.out,
            base_url=args.base_url,
            strict=args.strict,
            progress=progress,
            search=not args.no_search,
            content_dir=content,
        )
    finally:
        progress.close()
    _warn(result.warnings, args)
    note = " (nothing changed)" if result.unchanged else ""
    if result.quick:
        what = "prose" if result.quick == "prose" else "a few records"
        note = f" (only {what} changed: {result.rendered} page{'s' if result.rendered != 1 else ''} rendered)"
    print(f"Built {result.pages} pages in {result.seconds:.2f} s{note}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .build import build_files
    from .check import check_links
    from .tree import read_tree
    from .urls import Urls, built_base_url

    content = _content(args)
    result = build_files(read_tree(content.parent, content=content), base_url=args.base_url, strict=args.strict)
    _warn(result.warnings, args)
    base = args.base_url or built_base_url(result.files)
    problems = check_links(result.files, Urls(base))
    if problems:
        raise BuildFailed(problems)
    print(f"Checked {result.pages} pages: no problems")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    project = _project(args)
    return serve(
        project, args.host, args.port, open_browser=args.open, base_url=args.base_url, poll=args.poll, content=Path(args.content)
    )


def _deploy(args: argparse.Namespace) -> int:
    from .deploy import deploy

    content = _content(args)
    return deploy(
        content.parent,
        remote=args.remote,
        branch=args.branch,
        message=args.message,
        force=args.force,
        base_url=args.base_url,
        content=content,
        named=Path(args.content),
    )


def _new(args: argparse.Namespace) -> int:
    from .scaffold import new_record

    for path in new_record(_content(args), args.collection, args.slug):
        print(f"Wrote {path}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from .scaffold import init_project

    init_project(args.folder)
    print(
        f"Created a new explainer in {args.folder}: write in its content/ folder (the default theme is built in; files in"
        f" templates/ or static/ beside content/ override it). Next: cd {args.folder} && site-builder serve"
    )
    return 0
