"""`python -m site_builder deploy` against a real local bare repository as origin."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from site_builder.build import build, build_files
from site_builder.deploy import FALLBACK_EMAIL, FALLBACK_NAME, _push, github_pages_url
from site_builder.errors import SiteError
from site_builder.output import MARKER
from site_builder.tree import read_tree

from .conftest import edit, make_project, run_cli
from .conftest import read_tree as files_below

ALPHA_TEXT = "Alpha works with"
GAMMA = "title: Gamma Motors\nkind: car maker\nsources: [src-one]\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No git identity, no user or system git config, and a private temp folder to prove deploy cleans up."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {
        **clean,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "TMPDIR": str(tmp),
        "LC_ALL": "C",
    }


def git(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    ident = ["-c", "user.name=Test Author", "-c", "user.email=author@example.org"]
    return subprocess.run(["git", *ident, *args], cwd=cwd, env=env, capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture
def origin(tmp_path: Path, env: dict[str, str]) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare), env=env)
    return bare


@pytest.fixture
def repo(tmp_path: Path, origin: Path, env: dict[str, str]) -> Path:
    """The fixture project, committed on main and pushed to origin."""
    project = make_project(tmp_path / "project")
    (project / "content" / "companies" / "gamma.yaml").write_text(GAMMA, encoding="utf-8")
    git(project, "init", "--quiet", "--initial-branch=main", env=env)
    commit_all(project, env, "Initial content")
    git(project, "remote", "add", "origin", str(origin), env=env)
    git(project, "push", "--quiet", "origin", "main", env=env)
    return project


def commit_all(project: Path, env: dict[str, str], message: str) -> None:
    git(project, "add", "--all", env=env)
    git(project, "commit", "--quiet", "-m", message, env=env)


def deploy(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("deploy", *args, cwd=project, env=env, timeout=60)


def tip(origin: Path, env: dict[str, str], branch: str = "gh-pages") -> str | None:
    done = git(origin, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", env=env, check=False)
    return done.stdout.strip() or None


def published(origin: Path, env: dict[str, str], branch: str = "gh-pages") -> dict[str, bytes]:
    """Every file of the branch in the bare repository, with its bytes."""
    names = git(origin, "ls-tree", "-r", "-z", "--name-only", branch, env=env).stdout.split("\0")
    return {
        n: subprocess.run(["git", "show", f"{branch}:{n}"], cwd=origin, env=env, capture_output=True, check=True).stdout
        for n in names
        if n
    }


def assert_clean_failure(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.rstrip().endswith("Nothing was published."), done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


def test_publishes_exactly_the_built_site(repo: Path, origin: Path, env: dict[str, str], tmp_path: Path) -> None:
    done = deploy(repo, env)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "reference"
    built = build(repo, out)
    assert f"Published {built.pages} pages to origin/gh-pages" in done.stdout
    assert "Settings → Pages" in done.stdout  # first publish: how to switch Pages on

    files = published(origin, env)
    expected = {name: data for name, data in files_below(out).items() if name != MARKER}
    assert sorted(files) == sorted(expected)  # every page, asset, search file and .nojekyll; no marker, sources, CNAME
    assert {n: d for n, d in files.items() if not n.startswith("pagefind/")} == {
        n: d for n, d in expected.items() if not n.startswith("pagefind/")
    }  # byte for byte (the search index's file names are enough: Pagefind's output is its own business)
    for name in ["index.html", "404.html", "companies/alpha/index.html", "companies/gamma/index.html", "static/style.css"]:
        assert name in files
    assert files[".nojekyll"] == b""
    assert ".site-builder" not in files and "CNAME" not in files

    log = git(origin, "log", "-1", "--format=%cn <%ce>%n%s", "gh-pages", env=env).stdout.splitlines()
    assert log[0] == f"{FALLBACK_NAME} <{FALLBACK_EMAIL}>"  # no identity here: the fallback, for this commit only
    assert log[1].startswith("Deploy site from ")
    config = subprocess.run(["git", "config", "--list", "--show-origin"], cwd=repo, env=env, capture_output=True, text=True)
    assert "user." not in config.stdout  # the user's config is untouched
    assert not (Path(env["HOME"]) / ".gitconfig").exists()
    assert not (repo / "_site").exists()  # built in a temporary folder
    assert list((tmp_path / "tmp").iterdir()) == []  # and that folder is gone (the reference build used tmp_path)


def test_cname_is_written_exactly(repo: Path, origin: Path, env: dict[str, str]) -> None:
    site = repo / "content" / "site.yaml"
    edit(site, "base_url: https://example.github.io/fixture/", "base_url: https://www.example.org/\ncname: www.example.org")
    done = deploy(repo, env)
    assert done.returncode == 0, done.stderr
    assert "with CNAME www.example.org" in done.stdout
    files = published(origin, env)
    assert files["CNAME"] == b"www.example.org"
    assert b'href="/static/style.css"' in files["index.html"]  # a custom domain serves the site at its root


def test_cname_with_a_sub_path_base_url_is_refused(repo: Path, origin: Path, env: dict[str, str]) -> None:
    edit(repo / "content" / "site.yaml", "language: en-GB\n", "language: en-GB\ncname: www.example.org\n")
    done = deploy(repo, env)
    assert_clean_failure(done, "content/site.yaml: cname www.example.org", "set base_url: https://www.example.org/")
    assert tip(origin, env) is None


def test_second_deploy_replaces_the_site_and_keeps_history(repo: Path, origin: Path, env: dict[str, str]) -> None:
    assert deploy(repo, env).returncode == 0
    first = tip(origin, env)
    edit(repo / "content" / "companies" / "alpha.md", ALPHA_TEXT, "Alpha, rewritten for the second deploy, works with")
    (repo / "content" / "companies" / "gamma.yaml").unlink()
    done = deploy(repo, env, "--message", "Second deploy")
    assert done.returncode == 0, done.stderr
    assert f"Published {build_files(read_tree(repo)).pages} pages" in done.stdout
    assert "Settings → Pages" not in done.stdout  # only on the first publish

    files = published(origin, env)
    assert "rewritten for the second deploy" in files["companies/alpha/index.html"].decode()
    assert not any(name.startswith("companies/gamma/") for name in files)
    assert b"gamma" not in files["companies/index.html"]
    parent, subject = git(origin, "log", "-1", "--format=%P%n%s", "gh-pages", env=env).stdout.splitlines()
    assert (parent, subject) == (first, "Second deploy")


def test_failing_build_publishes_nothing(repo: Path, origin: Path, env: dict[str, str]) -> None:
    broken = repo / "content" / "companies" / "beta.yaml"
    good = broken.read_text(encoding="utf-8")
    broken.write_text(good.replace("title: Beta Batteries", "title: Beta: Batteries"), encoding="utf-8")
    done = deploy(repo, env)
    assert_clean_failure(done, "content/companies/beta.yaml:1:", "Build failed: 1 error")
    assert tip(origin, env) is None  # no branch was created

    broken.write_text(good, encoding="utf-8")
    assert deploy(repo, env).returncode == 0
    before = tip(origin, env)
    broken.write_text(good.replace("title: Beta Batteries", "title: Beta: Batteries"), encoding="utf-8")
    assert_clean_failure(deploy(repo, env), "content/companies/beta.yaml:1:")
    assert tip(origin, env) == before  # the published site is untouched


def test_broken_links_are_not_published(repo: Path, origin: Path, env: dict[str, str]) -> None:
    edit(repo / "templates" / "page.html", "{% block main %}", '{% block main %}<a href="/companies/">All companies</a>')
    done = deploy(repo, env)
    assert_clean_failure(done, "about/index.html:", "link '/companies/' leaves the site's base path /fixture/")
    assert tip(origin, env) is None


def test_branch_and_message_are_honoured(repo: Path, origin: Path, env: dict[str, str]) -> None:
    done = deploy(repo, env, "--branch", "site", "--message", "Publish v2 — with ünïcode")
    assert done.returncode == 0, done.stderr
    assert "to origin/site" in done.stdout
    assert tip(origin, env) is None
    assert "index.html" in published(origin, env, "site")
    assert git(origin, "log", "-1", "--format=%B", "site", env=env).stdout.strip() == "Publish v2 — with ünïcode"


def test_remote_option_and_missing_remote(repo: Path, origin: Path, env: dict[str, str], tmp_path: Path) -> None:
    done = deploy(repo, env, "--remote", "upstream")
    assert_clean_failure(done, "upstream: no git remote named 'upstream' (remotes here: origin)", "git remote add upstream URL")

    other = tmp_path / "other.git"
    git(tmp_path, "init", "--quiet", "--bare", str(other), env=env)
    git(repo, "remote", "add", "upstream", str(other), env=env)
    done = deploy(repo, env, "--remote", "upstream")
    assert done.returncode == 0, done.stderr
    assert "to upstream/gh-pages" in done.stdout
    assert tip(other, env) and tip(origin, env) is None


def test_unreachable_remote(repo: Path, origin: Path, env: dict[str, str], tmp_path: Path) -> None:
    git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"), env=env)
    assert_clean_failure(deploy(repo, env), "origin: could not reach", "check the URL (git remote -v)")


def test_not_a_git_repository(tmp_path: Path, env: dict[str, str]) -> None:
    project = make_project(tmp_path / "plain")
    env = {**env, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    assert_clean_failure(deploy(project, env), "not a git repository", "git init")


def test_fresh_single_branch_shallow_clone_keeps_history(repo: Path, origin: Path, env: dict[str, str], tmp_path: Path) -> None:
    """What actions/checkout gives: no origin/gh-pages ref. Deploy fetches it instead of failing non-fast-forward."""
    assert deploy(repo, env).returncode == 0
    first = tip(origin, env)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth=1", "--single-branch", "--branch=main", origin.as_uri(), str(clone), env=env)
    assert git(clone, "rev-parse", "--verify", "--quiet", "origin/gh-pages", env=env, check=False).returncode != 0
    edit(clone / "content" / "companies" / "alpha.md", ALPHA_TEXT, "Alpha, deployed from a clone, works with")
    done = deploy(clone, env)
    assert done.returncode == 0, done.stderr
    assert git(origin, "log", "-1", "--format=%P", "gh-pages", env=env).stdout.strip() == first
    assert "deployed from a clone" in published(origin, env)["companies/alpha/index.html"].decode()


def test_rejected_push_is_one_clear_line(repo: Path, origin: Path, env: dict[str, str]) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'gh-pages is protected' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    done = deploy(repo, env)
    assert_clean_failure(done, "origin/gh-pages: the remote refused the push", "gh-pages is protected")
    assert tip(origin, env) is None


def test_deploys_from_two_clones_keep_one_history(repo: Path, origin: Path, env: dict[str, str], tmp_path: Path) -> None:
    assert deploy(repo, env).returncode == 0
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", "--branch=main", str(origin), str(other), env=env)
    assert deploy(other, env, "--message", "From elsewhere").returncode == 0
    assert deploy(repo, env, "--message", "Third").returncode == 0  # repo's copy of gh-pages is stale: fetched first
    assert git(origin, "log", "--format=%s", "gh-pages", env=env).stdout.splitlines()[:2] == ["Third", "From elsewhere"]


def test_force_replaces_the_history(repo: Path, origin: Path, env: dict[str, str]) -> None:
    assert deploy(repo, env).returncode == 0
    assert deploy(repo, env, "--message", "Second").returncode == 0
    done = deploy(repo, env, "--force", "--message", "Fresh start")
    assert done.returncode == 0, done.stderr
    assert git(origin, "log", "--format=%s", "gh-pages", env=env).stdout.splitlines() == ["Fresh start"]


def test_non_fast_forward_push_is_one_clear_line(
    repo: Path, origin: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish that raced another one: the remote's branch is not an ancestor of ours (a real git rejection)."""
    assert deploy(repo, env).returncode == 0
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        monkeypatch.delenv(key)
    for key in ("HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL"):
        monkeypatch.setenv(key, env[key])
    git(repo, "fetch", "--quiet", "origin", "+gh-pages:gh-pages", env=env)
    unrelated = git(repo, "commit-tree", "gh-pages^{tree}", "-m", "unrelated", env=env).stdout.strip()
    git(repo, "update-ref", "refs/heads/gh-pages", unrelated, env=env)
    with pytest.raises(SiteError) as caught:
        _push(repo, "origin", str(origin), "gh-pages", force=False)
    assert str(caught.value) == (
        "origin/gh-pages: the push was rejected: the branch changed on the remote while publishing"
        " — run deploy again, or pass --force to replace the branch's history"
    )


def test_refuses_to_publish_over_sources(repo: Path, origin: Path, env: dict[str, str]) -> None:
    assert_clean_failure(deploy(repo, env, "--branch", "main"), "main: this branch is checked out here")
    git(repo, "switch", "--quiet", "-c", "work", env=env)
    assert_clean_failure(deploy(repo, env, "--branch", "main"), "main: this branch holds the project's sources")
    main = git(origin, "rev-parse", "main", env=env).stdout
    assert git(origin, "ls-tree", "--name-only", "main", env=env).stdout.split() == ["content", "static", "templates"]
    assert git(origin, "rev-parse", "main", env=env).stdout == main


def test_keeps_a_published_custom_domain(repo: Path, origin: Path, env: dict[str, str]) -> None:
    site = repo / "content" / "site.yaml"
    original = site.read_text(encoding="utf-8")
    edit(site, "base_url: https://example.github.io/fixture/", "base_url: https://www.example.org/\ncname: www.example.org")
    assert deploy(repo, env).returncode == 0
    site.write_text(original, encoding="utf-8")
    before = tip(origin, env)
    done = deploy(repo, env)
    assert_clean_failure(done, "origin/gh-pages: the published site has the custom domain www.example.org", "cname: ")
    assert tip(origin, env) == before
    done = deploy(repo, env, "--force")
    assert done.returncode == 0, done.stderr
    assert "CNAME" not in published(origin, env)


def test_base_url_must_match_the_github_pages_address(repo: Path, origin: Path, env: dict[str, str]) -> None:
    """A GitHub remote tells where Pages serves the site; a base_url for another path breaks every link. No network."""
    git(repo, "remote", "set-url", "origin", "git@github.com:acme/china-ev-exports.git", env=env)
    done = deploy(repo, env)
    assert_clean_failure(
        done,
        "base_url https://example.github.io/fixture/ is not where GitHub Pages serves origin",
        "https://acme.github.io/china-ev-exports/",
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Acme/china-ev-exports.git", "https://acme.github.io/china-ev-exports/"),
        ("https://github.com/acme/china-ev-exports", "https://acme.github.io/china-ev-exports/"),
        ("git@github.com:acme/china-ev-exports.git", "https://acme.github.io/china-ev-exports/"),
        ("ssh://git@github.com/acme/acme.github.io.git", "https://acme.github.io/"),
        ("https://token@github.com/Acme/Acme.github.io", "https://acme.github.io/"),
        ("https://gitlab.com/acme/site.git", ""),
        ("/srv/git/site.git", ""),
    ],
)
def test_github_pages_url(url: str, expected: str) -> None:
    assert github_pages_url(url) == expected


def test_a_content_folder_given_with_content_is_named_in_problems(repo: Path, origin: Path, env: dict[str, str]) -> None:
    """`deploy --content story`: a problem names story/…, the folder the user gave, as `build` does."""
    (repo / "content").rename(repo / "story")
    broken = repo / "story" / "companies" / "beta.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("title: Beta Batteries", "title: Beta: Batteries"))
    done = deploy(repo, env, "--content", "story")
    assert_clean_failure(done, "story/companies/beta.yaml:1:", "Build failed: 1 error")
    assert "content/companies" not in done.stderr
    assert tip(origin, env) is None
