"""Every kind of bad input gives `path:line:col: what — fix`, all at once, and no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from site_builder.build import build_files
from site_builder.errors import BuildFailed, SiteError
from site_builder.tree import read_tree

from .conftest import edit, run_cli


def errors_of(project: Path, strict: bool = False) -> list[SiteError]:
    with pytest.raises(BuildFailed) as info:
        build_files(read_tree(project), strict=strict)
    return info.value.errors


def only_error(project: Path) -> SiteError:
    errors = errors_of(project)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_yaml_syntax_error(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "kind: battery maker", 'kind: "battery maker')
    err = only_error(project)
    assert (err.path, err.line) == ("content/companies/beta.yaml", 5)
    assert "YAML syntax error" in err.message


def test_duplicate_key(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: battery maker\nkind: carmaker")
    err = only_error(project)
    assert (err.path, err.line, err.col) == ("content/companies/beta.yaml", 3, 1)
    assert err.message == "duplicate key 'kind' (first on line 2)"


def test_wrong_type(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "founded: {value: 2011", "founded: {value: two thousand")
    err = only_error(project)
    assert (err.line, err.col) == (3, 18)
    assert err.message == "'founded' should be a whole number, not text"


def test_missing_required_field(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "kind: battery maker\n", "")
    err = only_error(project)
    assert (err.path, err.line) == ("content/companies/beta.yaml", 1)
    assert err.message == "missing required field 'kind'" and err.hint == "add 'kind:'"


def test_unknown_field_with_did_you_mean(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "founded:", "fonded:")
    err = only_error(project)
    assert (err.line, err.col) == (3, 1)
    assert err.message == "unknown field 'fonded'" and err.hint == "did you mean 'founded'?"


def test_unknown_nested_field(project: Path) -> None:
    edit(project / "content/companies/alpha.yaml", "percent:", "precent:")
    err = only_error(project)
    assert err.line == 9 and err.message == "unknown field 'stakes.0.precent'" and err.hint == "did you mean 'percent'?"


def test_bad_fact_object_key(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "founded: {value: 2011, sources:", "founded: {value: 2011, source:")
    err = only_error(project)
    assert err.message == "unknown key 'source' in a fact object" and err.hint == "did you mean 'sources'?"


def test_bad_slug(project: Path) -> None:
    (project / "content/companies/beta.yaml").rename(project / "content/companies/Beta_Co.yaml")
    (project / "content/companies/beta.md").unlink()
    edit(project / "content/companies/alpha.yaml", "partner: beta", "partner: alpha")
    edit(project / "content/companies/alpha.md", "[[companies/beta]]", "[[companies/alpha]]")
    edit(project / "content/companies/alpha.md", "[[companies/beta#history]]", "[[companies/alpha]]")
    edit(project / "content/policies/cap.yaml", "companies/beta", "alpha")
    edit(project / "content/timeline.yaml", "[[companies/beta]]", "Beta")
    errors = errors_of(project, strict=False)
    assert [(e.path, e.message) for e in errors] == [
        ("content/companies/Beta_Co.yaml", "bad slug 'Beta_Co': use lower-case letters, digits and hyphens")
    ]
    assert errors[0].hint == "rename the file to beta-co.yaml"


def test_two_records_with_the_same_url(project: Path) -> None:
    edit(project / "content/site.yaml", "url: /rules/{slug}/", "url: /companies/{slug}/")
    (project / "content/policies/cap.yaml").rename(project / "content/policies/alpha.yaml")
    edit(project / "content/companies/alpha.yaml", "policies: [cap]", "policies: [alpha]")
    edit(project / "content/companies/alpha.md", "[[policies/cap|", "[[policies/alpha|")
    edit(project / "content/timeline.yaml", "links: [policies/cap]", "links: [policies/alpha]")
    errors = errors_of(project)
    assert [str(e) for e in errors] == [
        "content/policies/alpha.yaml:1:1: two pages would be published at /companies/alpha/: this one and "
        "content/companies/alpha.yaml — change one of their slugs or the collection's url pattern"
    ]


def test_unknown_reference_in_data_and_markdown(project: Path) -> None:
    edit(project / "content/policies/cap.yaml", "[alpha, companies/beta]", "[alpha, companies/betta]")
    edit(project / "content/companies/beta.md", "[[companies/alpha]]", "[[companies/alfa]]")
    errors = errors_of(project)
    assert [(e.path, e.line, e.col, e.message, e.hint) for e in errors] == [
        ("content/companies/beta.md", 3, 15, "unknown link target 'companies/alfa'", "did you mean 'companies/alpha'?"),
        ("content/policies/cap.yaml", 6, 29, "unknown reference 'companies/betta'", "did you mean 'companies/beta'?"),
    ]


def test_unknown_source_id(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "\nsources: [src-two]", "\nsources: [src-tw0]")
    err = only_error(project)
    assert (err.path, err.line, err.col) == ("content/companies/beta.yaml", 4, 11)
    assert err.message == "unknown source id 'src-tw0'" and err.hint == "did you mean 'src-two'?"


def test_uncited_source_is_a_warning_and_strict_makes_it_an_error(project: Path) -> None:
    with (project / "content/sources.yaml").open("a") as f:
        f.write("- id: unused\n  title: Nobody cites me\n")
    result = build_files(read_tree(project))
    assert [str(w) for w in result.warnings] == [
        "content/sources.yaml:11:7: source 'unused' is not cited anywhere — cite it with [@unused] or remove it"
    ]
    assert [e.message for e in errors_of(project, strict=True)] == ["source 'unused' is not cited anywhere"]


def test_markdown_without_yaml_twin(project: Path) -> None:
    (project / "content/companies/gamma.md").write_text("## Orphan\n")
    err = only_error(project)
    assert (err.path, err.message) == ("content/companies/gamma.md", "Markdown file without a fact file")


def test_missing_template(project: Path) -> None:
    with (project / "content/site.yaml").open("a") as f:
        f.write("    template: policy.html\n")
    err = only_error(project)
    assert err.message == "template 'policy.html' not found" and "create templates/policy.html" in err.hint


def test_jinja_syntax_error(project: Path) -> None:
    edit(project / "templates/page.html", "{% block main %}", "{% block main %}\n{% if %}")
    err = only_error(project)
    assert (err.path, err.line) == ("templates/page.html", 4)
    assert err.message.startswith("template syntax error")


def test_undefined_variable_names_template_and_line(project: Path) -> None:
    edit(project / "templates/page.html", "<h1>{{ title }}</h1>", "<h1>{{ titel }}</h1>")
    err = only_error(project)
    assert (err.path, err.line) == ("templates/page.html", 6)
    assert err.message == "undefined value: 'titel' is undefined"


def test_undefined_variable_in_included_macro(project: Path) -> None:
    macros = project / "templates/_macros.html"
    edit(macros, "{{ s.title }}</a>", "{{ s.titl }}</a>")
    line = next(n for n, text in enumerate(macros.read_text().splitlines(), 1) if "s.titl }}" in text)
    errors = errors_of(project)
    assert {(e.path, e.line) for e in errors} == {("templates/_macros.html", line)}


def test_file_that_is_not_utf8(project: Path) -> None:
    (project / "content/companies/beta.md").write_bytes(b"## History\n\nBeta caf\xe9 [[companies/alpha]].\n")
    err = only_error(project)
    assert (err.path, err.line, err.col) == ("content/companies/beta.md", 3, 9)
    assert "not UTF-8" in err.message


def test_unknown_navigation_link_and_collection_folder(project: Path) -> None:
    edit(project / "content/site.yaml", "link: timeline}", "link: timelines}")
    (project / "content/compnies").mkdir()
    (project / "content/compnies/x.yaml").write_text("title: X\n")
    errors = errors_of(project)
    assert [(e.path, e.message, e.hint) for e in errors] == [
        ("content/compnies/x.yaml", "folder 'compnies' is not a declared collection", "did you mean 'companies'?"),
        ("content/site.yaml", "unknown navigation link 'timelines'", "did you mean 'timeline'?"),
    ]


def test_bad_site_yaml(project: Path) -> None:
    edit(project / "content/site.yaml", "title: Fixture explainer", "titel: Fixture explainer")
    errors = errors_of(project)
    assert {(e.line, e.message) for e in errors} == {(1, "unknown field 'titel'"), (1, "missing required field 'title'")}


def test_cli_prints_all_errors_without_traceback(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: [x")
    edit(project / "templates/page.html", "<h1>{{ title }}</h1>", "<h1>{{ title }</h1>")
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1] == "Build failed: 1 error"  # content errors stop before templates run
    assert proc.stderr.startswith("content/companies/beta.yaml:")


def test_wrong_types_in_record_sources_are_errors_not_a_crash(project: Path) -> None:
    """Found by the fuzzer: a record with schema errors still reached reference checking."""
    edit(project / "content/companies/beta.yaml", "\nsources: [src-two]", "\nsources: [1, 2.5]")
    errors = errors_of(project)
    assert [(e.line, e.col, e.message) for e in errors] == [
        (4, 11, "'sources.0' should be text, not a whole number"),
        (4, 14, "'sources.1' should be text, not a number"),
    ]


def test_a_base_url_that_is_not_a_web_address(project: Path) -> None:
    """Found by the fuzzer: 'https://[x' passed as a URI, then crashed the URL maker (an unclosed IPv6 address)."""
    site = project / "content/site.yaml"
    site.write_text(re.sub(r"(?m)^base_url: .*$", "base_url: 'https://[x'", site.read_text(encoding="utf-8")))
    error = only_error(project)
    assert (error.path, error.message) == ("content/site.yaml", "'base_url' is not a valid uri: 'https://[x'")
    assert error.line > 1


def test_a_base_url_option_that_is_not_a_web_address(project: Path) -> None:
    proc = run_cli("build", "--base-url", "https://[x", cwd=project)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "--base-url: 'https://[x' is not a web address — give one like https://user.github.io/repo/" in proc.stderr
