"""The schemas published for editors (/schemas/<name>.json) are true: a standard validator with format checks on
(check-jsonschema, as pre-commit and CI run it) accepts every record the build accepts, and refuses what the build
refuses."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder import schema

from .conftest import REPO, edit, make_project, need_tool
from .cpu_limits import BACKSTOP, child_cpu_limit
from .cpu_limits import run_cli_cpu as run_cli

SITE = yaml.safe_load((REPO / "content/site.yaml").read_text(encoding="utf-8"))
COLLECTIONS = sorted(SITE["collections"])
RECORD = "content/companies/bmw-brilliance.yaml"  # the record the controls below edit


def published_name(collection: str) -> str:
    """Where the build publishes a collection's schema, below the output folder."""
    stem = Path(SITE["collections"][collection]["schema"]).name.removesuffix(".yaml").removesuffix(".yml")
    return f"schemas/{stem}.json"


def check_jsonschema(schema_file: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its defaults (format checks on, ECMAScript regexes)."""
    need_tool(
        importlib.util.find_spec("check_jsonschema") is not None, "check-jsonschema not installed: pip install -e '.[test]'"
    )
    args = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema_file), *map(str, files)]
    limit = 120  # CPU seconds; it needs about one
    return subprocess.run(args, capture_output=True, text=True, timeout=limit * BACKSTOP, preexec_fn=child_cpu_limit(limit))


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built as a user builds it."""
    out = tmp_path_factory.mktemp("real") / "_site"
    proc = run_cli("build", "--out", str(out), "--no-search", cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_record_validates_against_its_published_schema(real_site: Path, collection: str) -> None:
    records = sorted((REPO / "content" / collection).glob("*.yaml"))
    assert records, f"no records in content/{collection}"
    proc = check_jsonschema(real_site / published_name(collection), *records)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_published_schemas_use_no_format_that_validators_read_otherwise(real_site: Path) -> None:
    """`format: date` means a full date to other validators, `format: uri` any scheme: the build's are patterns."""
    for collection in COLLECTIONS:
        text = (real_site / published_name(collection)).read_text(encoding="utf-8")
        assert '"format"' not in text and '"x-years"' not in text, collection
        assert json.loads(text)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# Each control edits RECORD: (what it replaces, with what, what the build says or None when both accept it).
CONTROLS = {
    "wrong type": ("kind: Sino-foreign car-making joint venture", "kind: [joint venture]", "'kind' should be text, not a list"),
    "unknown field": ("short_name: BBA", "short_name: BBA\nshortname: BBA", "unknown field 'shortname'"),
    "unknown key in a fact": ('value: "2003"', 'value: "2003"\n  source: [s20]', "unknown key 'source' in a fact object"),
    "unknown status": ("status: unconfirmed", "status: doubtful", "unknown status 'doubtful'"),
    "month 13": ('value: "2003"', 'value: "2003-13"', "'founded' is not a valid date: '2003-13'"),
    "a number that is no year": ('value: "2003"', "value: 203", "'founded' should be text, not a whole number"),
    "a bare year": ('value: "2003"', "value: 2003", None),
    "an unquoted full date": ('value: "2003"', "value: 2003-05-01", None),
    "a fact around the title": ("title: BMW Brilliance Automotive (BBA)", "title: {value: BBA, sources: [s20]}", None),
}


@pytest.mark.parametrize("control", sorted(CONTROLS))
def test_the_schema_and_the_build_agree(real_site: Path, tmp_path: Path, control: str) -> None:
    old, new, message = CONTROLS[control]
    project = make_project(tmp_path / "project", REPO / "content")
    edit(project / RECORD, old, new)
    built = run_cli("build", "--out", str(tmp_path / "_site"), "--no-search", cwd=project)
    if message is None:
        assert built.returncode == 0, built.stderr
    else:
        assert built.returncode != 0 and message in built.stderr, built.stderr
    checked = check_jsonschema(real_site / published_name("companies"), project / RECORD)
    assert (checked.returncode == 0) == (message is None), checked.stdout + checked.stderr


# Values where Python's and ECMAScript's regexes differ unless written with care: a final newline, Unicode digits.
DATES = ["2019", "2019-10", "2019-10-19", "2019\n", "\u0662\u0660\u0661\u0669", "2019-13", "2019-1-5", "19", "2019-10-19T00:00"]
URIS = [
    "https://x.org",
    "http://a.b/c?d#e",
    "https://x.org/\u00e9",
    "https://x.org/a b",
    "https://x.org\n",
    "ftp://x.org",
    "https://",
    "https:///a",
    "https://[x",
]


@pytest.mark.parametrize(
    ("pattern", "check", "values"), [(schema.DATE_PATTERN, schema._is_date, DATES), (schema.URI_PATTERN, schema._is_uri, URIS)]
)
def test_the_published_patterns_mean_what_the_build_checks(pattern: str, check: Any, values: list[str]) -> None:
    """The same verdict from the build, from Python's re and from ECMAScript's regexes (JSON Schema's dialect)."""
    regress = pytest.importorskip("regress")
    for value in values:
        want = bool(check(value))
        assert bool(re.search(pattern, value)) == want, value
        for flags in ("u", ""):  # check-jsonschema's default and its 'nonunicode' variant
            assert (regress.Regex(pattern, flags).find(value) is not None) == want, (value, flags)


def test_publishing_leaves_the_build_schema_as_it_was() -> None:
    """The build goes on validating with the schema it was given: publishing works on a copy."""
    record = schema.record_schema(yaml.safe_load((REPO / "content/schemas/company.schema.yaml").read_text(encoding="utf-8")))
    before = json.dumps(record, sort_keys=True)
    schema.editor_schema(record)
    assert json.dumps(record, sort_keys=True) == before
