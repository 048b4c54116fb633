"""Publish the site to a gh-pages branch with ghp-import, the way `mkdocs gh-deploy` does.

The site is built into a temporary folder (never the project's _site), committed to the branch with
ghp-import's fast-import stream, and pushed. Every failure is one 'where: what — fix' line and exit 1.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import ghp_import
import yaml

from . import __version__
from .build import build
from .check import check_links
from .errors import BuildFailed, SiteError
from .output import MARKER
from .tree import relabel
from .urls import Urls

FALLBACK_NAME = "site_builder"
FALLBACK_EMAIL = "site_builder@localhost"
_GITHUB_REMOTE = re.compile(r"^(?:https://(?:[^@/]+@)?github\.com/|(?:ssh://)?git@github\.com[:/])([^/]+)/([^/]+?)(?:\.git)?/?$")


def _refuse(where: str, message: str, fix: str = "") -> SiteError:
    """Why nothing was published, said of a repository, remote or branch rather than a line of a file."""
    return SiteError(where, message, fix, line=0, col=0)


def deploy(
    project: Path,
    remote: str = "origin",
    branch: str = "gh-pages",
    message: str | None = None,
    force: bool = False,
    base_url: str | None = None,
    content: Path | None = None,
    named: Path | None = None,
) -> int:
    """Build the site and publish it to `remote`/`branch`; 0 when published, 1 (and nothing published) otherwise.
    Problems name the content folder as `named` (the --content the user gave), if given."""
    show = (lambda errors: relabel(errors, named)) if named is not None else list
    try:
        _deploy(project.resolve(), remote, branch, message, force, base_url, (content or project / "content").resolve(), show)
    except BuildFailed as exc:
        _fail(BuildFailed(show(exc.errors)).report())
        return 1
    except SiteError as exc:
        _fail(str(show([exc])[0]))
        return 1
    return 0


def _fail(text: str) -> None:
    print(f"{text}\nNothing was published.", file=sys.stderr)


def _deploy(
    project: Path,
    remote: str,
    branch: str,
    message: str | None,
    force: bool,
    base_url: str | None,
    content: Path,
    show: Callable[[list[SiteError]], list[SiteError]],
) -> None:
    remote_url = _check_repository(project, remote, branch)
    with tempfile.TemporaryDirectory(prefix="site_builder-deploy-") as tmp:
        site = Path(tmp).resolve() / "site"
        result = build(project, site, base_url=base_url, content_dir=content)
        for warning in show(result.warnings):
            print(f"warning: {warning}", file=sys.stderr)
        base, cname = _settings(content, base_url)
        files = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
        broken = check_links(files, Urls(base))  # what `check` does: no broken link or #anchor is published
        if broken:
            raise BuildFailed(broken)
        _check_address(base, cname, remote, remote_url)
        created = _prepare_branch(project, remote, remote_url, branch, cname, force)
        commit = _commit(project, site, remote, branch, message or _default_message(project), cname, parentless=force)
        _push(project, remote, remote_url, branch, force)
    where = f"{remote}/{branch}"
    print(f"Published {result.pages} pages to {where} (commit {commit[:7]}){' with CNAME ' + cname if cname else ''}.")
    if created:
        _first_time_hint(branch, f"https://{cname}/" if cname else base)


def _check_repository(project: Path, remote: str, branch: str) -> str:
    """Fail early, before building, when there is nowhere to publish to; the remote's URL."""
    repo = _git(project, "rev-parse", "--show-toplevel")
    if repo.returncode != 0:
        raise _refuse(
            str(project),
            f"not a git repository ({_git_error(repo)})" if "not a git repository" not in repo.stderr else "not a git repository",
            "run 'git init' and 'git remote add origin URL' first, or publish with the GitHub Actions workflow "
            "(README, Publishing)",
        )
    if _git(project, "check-ref-format", "--branch", branch).returncode != 0 or branch.startswith("-"):
        raise _refuse(branch, "not a valid branch name", "pass --branch NAME, e.g. --branch gh-pages")
    url = _git(project, "remote", "get-url", "--", remote)
    if url.returncode != 0:
        names = _git(project, "remote").stdout.split()
        known = f"remotes here: {', '.join(names)}" if names else "this repository has no remotes"
        raise _refuse(
            remote,
            f"no git remote named '{remote}' ({known})",
            f"add it with 'git remote add {remote} URL', or pass --remote NAME",
        )
    current = _git(project, "symbolic-ref", "--quiet", "--short", "HEAD").stdout.strip()
    if current == branch:
        raise _refuse(
            branch,
            "this branch is checked out here, and publishing replaces its files with the built site",
            "switch to your source branch first, or publish to another --branch (the default is gh-pages)",
        )
    return url.stdout.strip()


def _settings(content: Path, base_url: str | None) -> tuple[str, str]:
    """The base URL the site was built for and its custom domain ('' when none), from a site.yaml the build accepted."""
    data = yaml.safe_load((content / "site.yaml").read_text(encoding="utf-8"))
    base = str(base_url or data["base_url"])
    return (base if base.endswith("/") else base + "/"), str(data.get("cname") or "")


def github_pages_url(remote_url: str) -> str:
    """Where GitHub Pages serves a repository's site without a custom domain, or '' for a non-GitHub remote."""
    match = _GITHUB_REMOTE.match(remote_url)
    if not match:
        return ""
    owner, name = match.group(1).lower(), match.group(2)
    host = f"{owner}.github.io"
    return f"https://{host}/" if name.lower() == host else f"https://{host}/{name}/"


def _check_address(base: str, cname: str, remote: str, remote_url: str) -> None:
    """Refuse a site whose links would all break where GitHub Pages serves it (anchors.md §2)."""
    parts = urlsplit(base)
    if cname:
        if (parts.path or "/") != "/":
            raise _refuse(
                "content/site.yaml",
                f"cname {cname} serves the site at the root of that domain, but base_url {base} puts every link under "
                f"{parts.path}",
                f"set base_url: https://{cname}/ (or pass --base-url https://{cname}/)",
            )
        if parts.hostname != cname:
            print(
                f"warning: content/site.yaml: base_url {base} names another host than cname {cname}; canonical links and "
                f"the sitemap will point there — set base_url: https://{cname}/",
                file=sys.stderr,
            )
        return
    expected = github_pages_url(remote_url)
    if expected and (parts.hostname or "").endswith(".github.io") and base.lower() != expected.lower():
        raise _refuse(
            "content/site.yaml",
            f"base_url {base} is not where GitHub Pages serves {remote} ({remote_url}): {expected}; every link would break there",
            f"set base_url: {expected} (or pass --base-url {expected})",
        )


def _prepare_branch(project: Path, remote: str, remote_url: str, branch: str, cname: str, force: bool) -> bool:
    """Make the local branch the remote's tip (fetched first: fresh and shallow clones lack it); True if it is new."""
    listed = _git(project, "ls-remote", "--heads", "--", remote, f"refs/heads/{branch}")
    if listed.returncode != 0:
        raise _refuse(
            remote,
            f"could not reach {remote_url} ({_git_error(listed)})",
            "check the URL (git remote -v), your network and your credentials",
        )
    exists = bool(listed.stdout.strip())
    tracking = f"refs/remotes/{remote}/{branch}"
    if exists:
        fetched = _git(project, "fetch", "--quiet", "--no-tags", "--", remote, f"+refs/heads/{branch}:{tracking}")
        if fetched.returncode != 0:
            raise _refuse(f"{remote}/{branch}", f"could not fetch the published branch ({_git_error(fetched)})", "retry")
    else:
        _git(project, "update-ref", "-d", tracking)  # a stale copy of a branch the remote no longer has
    for ref in (f"refs/heads/{branch}", tracking):
        if _holds_sources(project, ref):
            raise _refuse(
                branch,
                "this branch holds the project's sources (content/site.yaml), and publishing would replace them",
                "publish to another branch: --branch gh-pages",
            )
    if exists and not force:
        published = _git(project, "show", f"{tracking}:CNAME")
        old = published.stdout.strip() if published.returncode == 0 else ""
        if old and not cname:
            raise _refuse(
                f"{remote}/{branch}",
                f"the published site has the custom domain {old} (a CNAME file) but content/site.yaml names none, "
                "so publishing would remove it",
                f"add 'cname: {old}' to content/site.yaml, or pass --force to publish without it",
            )
    return not exists


def _holds_sources(project: Path, ref: str) -> bool:
    if _git(project, "rev-parse", "--verify", "--quiet", ref).returncode != 0:
        return False
    prefix = _git(project, "rev-parse", "--show-prefix").stdout.strip()
    return _git(project, "cat-file", "-e", f"{ref}:{prefix}content/site.yaml").returncode == 0


def _commit(project: Path, site: Path, remote: str, branch: str, message: str, cname: str, parentless: bool) -> str:
    """Commit the built site as the branch's whole tree with ghp-import; the new commit's id."""
    with contextlib.chdir(project), _committer(project):
        git = ghp_import.Git()
        if parentless:
            _git(project, "update-ref", "-d", f"refs/heads/{branch}")  # --force: one commit replaces the history
        elif not git.try_rebase(remote, branch):  # pragma: no cover - ghp-import's own failure
            raise _refuse(branch, "could not move the local branch to the published one", "retry")
        with tempfile.TemporaryFile() as errors:
            pipe = git.open("fast-import", "--date-format=rfc2822", "--quiet", stdout=subprocess.DEVNULL, stderr=errors)
            ghp_import.start_commit(pipe, git, branch, message)
            for path in sorted(p for p in site.rglob("*") if p.is_file()):
                name = path.relative_to(site).as_posix()
                if name != MARKER:
                    ghp_import.add_file(pipe, str(path), name)
            if not (site / ".nojekyll").exists():
                ghp_import.add_nojekyll(pipe)
            if cname:
                ghp_import.add_cname(pipe, cname)
            ghp_import.write(pipe, b"\n")
            pipe.stdin.close()
            status = pipe.wait()
            errors.seek(0)
            text = errors.read().decode("utf-8", "replace")
    if status != 0:
        raise _refuse(branch, f"git could not commit the site ({_last_lines(text) or f'exit {status}'})", "check the repository")
    return _git(project, "rev-parse", f"refs/heads/{branch}").stdout.strip()


@contextlib.contextmanager
def _committer(project: Path) -> Iterator[None]:
    """A fallback committer, set in this process's environment for the commit only; the user's config is not changed."""
    saved = {key: os.environ.get(key) for key in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")}
    for key, config, fallback in (
        ("GIT_COMMITTER_NAME", "user.name", FALLBACK_NAME),
        ("GIT_COMMITTER_EMAIL", "user.email", FALLBACK_EMAIL),
    ):
        if not saved[key] and not _git(project, "config", config).stdout.strip():
            os.environ[key] = fallback
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _push(project: Path, remote: str, remote_url: str, branch: str, force: bool) -> None:
    pushed = _git(
        project, "push", "--porcelain", *(["--force"] if force else []), "--", remote, f"refs/heads/{branch}:refs/heads/{branch}"
    )
    if pushed.returncode == 0:
        return
    where, said = f"{remote}/{branch}", pushed.stdout + pushed.stderr
    if "[rejected]" in said:  # the remote's branch is not an ancestor of ours: someone published meanwhile
        raise _refuse(
            where,
            "the push was rejected: the branch changed on the remote while publishing",
            "run deploy again, or pass --force to replace the branch's history",
        )
    refused = re.search(r"\[remote rejected\] \(([^)]*)\)", said)
    if refused:
        said_by_hooks = _hook_lines(said)
        raise _refuse(
            where,
            f"the remote refused the push ({refused.group(1)}{'; ' + said_by_hooks if said_by_hooks else ''})",
            f"check the branch protection rules and your access to {remote_url}",
        )
    raise _refuse(where, f"git push failed ({_last_lines(said)})", f"check that you can push to {remote_url}")


def _hook_lines(said: str) -> str:
    return "; ".join(
        line[len("remote:") :].strip() for line in said.splitlines() if line.startswith("remote:") and line[7:].strip()
    )


def _default_message(project: Path) -> str:
    head = _git(project, "rev-parse", "--short", "HEAD")
    source = f" from {head.stdout.strip()}" if head.returncode == 0 else ""
    dirty = _git(project, "status", "--porcelain", "--", "content", "templates", "static").stdout.strip()
    return f"Deploy site{source}{' with uncommitted changes' if dirty else ''} (site_builder {__version__})"


def _first_time_hint(branch: str, url: str) -> None:
    print(
        f"First publish to {branch}: in the repository's Settings → Pages, set Source to 'Deploy from a branch' and pick "
        f"{branch} / (root). The site will then be served at {url}"
    )


def _git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in the project, capturing everything; nothing git says reaches the terminal unless we print it."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=project,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            env={**os.environ, "LC_ALL": "C"},  # English messages, which _push reads
        )
    except FileNotFoundError:
        raise _refuse("git", "git is not installed (or not on PATH)", "install git, then run deploy again") from None


def _git_error(done: subprocess.CompletedProcess[str]) -> str:
    return _last_lines(done.stderr) or f"git exit {done.returncode}"


def _last_lines(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith(("hint:", "To "))]
    important = [line for line in lines if line.startswith(("fatal:", "error:", "!"))] or lines
    return "; ".join(line.removeprefix("fatal: ").removeprefix("error: ") for line in important[-2:])
