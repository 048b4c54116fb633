"""Content safety: YAML is only ever safe-loaded; nothing in content, templates or static can read or write outside
the project and the output folder; raw HTML and script URLs in Markdown never reach a page; every value shown
by a template is escaped, in HTML, XML and JSON alike."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import html5lib
import markupsafe
import pytest
import yaml

from site_builder.build import build_files
from site_builder.errors import BuildFailed, SiteError
from site_builder.tree import read_tree

from .conftest import edit, run_cli
from .conftest import read_tree as read_out

SECRET = "SECRET-7f3a9c"  # a string that only files outside the project hold


def files_of(project: Path) -> dict[str, bytes]:
    files = build_files(read_tree(project)).files
    assert_inside(files)
    return files


def errors_of(project: Path) -> list[SiteError]:
    with pytest.raises(BuildFailed) as info:
        build_files(read_tree(project))
    for error in info.value.errors:
        assert re.match(r"^[^:\n]+:\d+:\d+: .+", str(error)), str(error)
    return info.value.errors


def assert_inside(files: dict[str, bytes]) -> None:
    """Every output path stays inside the output folder."""
    for name in files:
        path = PurePosixPath(name)
        assert not path.is_absolute() and ".." not in path.parts and "\\" not in name, f"output path {name!r} leaves the site"


def outside(tmp_path: Path) -> Path:
    """A folder beside the project holding a secret; links and paths in the project point at it."""
    folder = tmp_path / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_text(SECRET)
    (folder / "x.html").write_text(SECRET)
    return folder


def snapshot(folder: Path, skip: tuple[Path, ...]) -> list[str]:
    """Every path below `folder` except inside `skip`."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not any(p == s or s in p.parents for s in skip))


# --- YAML: safe loading only -----------------------------------------------------------------------------------------

MARK = "/tmp/site-builder-content-safety-pwned"
TAGS = [
    f"!!python/object/apply:os.system ['touch {MARK}']",
    f"!!python/object/apply:subprocess.check_call [[touch, {MARK}]]",
    f"!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{MARK}']]",
    f"!!python/object/new:subprocess.Popen [[touch, {MARK}]]",
    "!!python/name:os.system",
    "!!python/module:os",
]
PLACES = {
    "fact file": ("content/companies/beta.yaml", "kind: battery maker", "kind: {tag}"),
    "fact file, careful path": ("content/companies/beta.yaml", "kind: battery maker", "kind: &k {tag}\nsummary: *k"),
    "site.yaml": ("content/site.yaml", "author: Test Author", "author: {tag}"),
    "sources.yaml": ("content/sources.yaml", "publisher: Example News", "publisher: {tag}"),
    "schema": ("content/schemas/company.schema.yaml", "type: object", "type: object\ndescription: {tag}"),
    "front matter": ("content/pages/about.md", "description: What this is.", "description: {tag}"),
}


@pytest.fixture(autouse=True)
def no_marker() -> None:
    Path(MARK).unlink(missing_ok=True)


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("place", sorted(PLACES))
def test_python_tags_never_run(project: Path, place: str, tag: str) -> None:
    path, old, new = PLACES[place]
    edit(project / path, old, new.format(tag=tag))
    errors = errors_of(project)
    assert any(e.path == path and "tag" in str(e) for e in errors), [str(e) for e in errors]
    assert not Path(MARK).exists(), "a python tag ran"


def test_python_tag_through_the_cli(project: Path) -> None:
    edit(project / "content/companies/beta.yaml", "kind: battery maker", f"kind: {TAGS[0]}")
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "content/companies/beta.yaml:2:" in proc.stderr and "tag" in proc.stderr
    assert not Path(MARK).exists()
    assert not (project / "_site").exists()


def test_safe_tags_stay_plain_values(project: Path) -> None:
    """Standard tags that construct plain values are fine: no python object sneaks in through them."""
    edit(project / "content/companies/beta.yaml", "kind: battery maker", "kind: !!str battery maker")
    html_page = files_of(project)["companies/beta/index.html"].decode()
    assert "battery maker" in html_page


# --- Paths: nothing read from or written outside ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a..yaml", "UP.yaml", "-x.yaml", "x y.yaml", "ü.yaml", "%2e%2e.yaml", "x\\y.yaml", "a.b.yaml"])
def test_record_file_names_that_are_not_slugs(project: Path, name: str) -> None:
    (project / "content/companies" / name).write_text("title: T\nkind: k\n")
    errors = errors_of(project)
    assert [e.path for e in errors] == [f"content/companies/{name}"], [str(e) for e in errors]
    assert "bad slug" in errors[0].message


@pytest.mark.parametrize("name", ["..yaml", ".hidden.yaml", "..md"])
def test_dot_files_are_ignored(project: Path, name: str) -> None:
    """Hidden files (editor and OS droppings) are skipped; in particular '..yaml' makes no page at '../'."""
    (project / "content/companies" / name).write_text("title: T\nkind: k\n")
    files = files_of(project)
    assert not any(n.startswith(("companies/./", "companies/../", "./", "../")) for n in files)


@pytest.mark.parametrize("name", ["..md", "a..md", "UP.md", "x y.md"])
def test_page_file_names(project: Path, name: str) -> None:
    (project / "content/pages" / name).write_text("---\ntitle: T\n---\nx\n")
    if name.startswith("."):
        files_of(project)
        return
    errors = errors_of(project)
    assert [e.path for e in errors] == [f"content/pages/{name}"]


@pytest.mark.parametrize("template", ["../x.html", "../../outside/x.html", "/etc/passwd", "..", "record.html/../../x.html"])
def test_collection_template_outside_templates(project: Path, tmp_path: Path, template: str) -> None:
    outside(tmp_path)
    (project / "x.html").write_text(SECRET)
    edit(
        project / "content/site.yaml",
        "    schema: schemas/company.schema.yaml",
        f"    schema: schemas/company.schema.yaml\n    template: '{template}'",
    )
    errors = errors_of(project)
    assert any(e.path == "content/site.yaml" and "not found" in e.message for e in errors), [str(e) for e in errors]


@pytest.mark.parametrize(
    "statement", ['{% include "../x.html" %}', '{% include "/SECRET" %}', '{% extends "../../outside/x.html" %}']
)
def test_template_include_outside_templates(project: Path, tmp_path: Path, statement: str) -> None:
    folder = outside(tmp_path)
    (project / "x.html").write_text(SECRET)
    statement = statement.replace("/SECRET", str(folder / "secret.txt"))
    (project / "templates/page.html").write_text(statement + "\n" + (project / "templates/page.html").read_text())
    errors = errors_of(project)
    assert any(e.path == "templates/page.html" and "not found" in e.message for e in errors), [str(e) for e in errors]


def test_schema_path_outside_content(project: Path, tmp_path: Path) -> None:
    folder = outside(tmp_path)
    (folder / "evil.schema.yaml").write_text(f"type: object\ndescription: {SECRET}\n")
    edit(project / "content/site.yaml", "schema: schemas/company.schema.yaml", "schema: ../../outside/evil.schema.yaml")
    errors = errors_of(project)
    assert any(e.path == "content/site.yaml" and "missing" in e.message for e in errors), [str(e) for e in errors]


def test_symlinked_static_file_pointing_outside(project: Path, tmp_path: Path) -> None:
    folder = outside(tmp_path)
    (project / "static/secret.txt").symlink_to(folder / "secret.txt")
    errors = errors_of(project)
    assert [e.path for e in errors] == ["static/secret.txt"] and "outside the project" in errors[0].message
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 1 and "static/secret.txt:1:1: this link points outside the project" in proc.stderr
    assert not (project / "_site").exists()


def test_symlinked_template_pointing_outside(project: Path, tmp_path: Path) -> None:
    folder = outside(tmp_path)
    (project / "templates/extra.html").symlink_to(folder / "x.html")
    errors = errors_of(project)
    assert [e.path for e in errors] == ["templates/extra.html"]


def test_symlink_inside_the_project_is_fine(project: Path) -> None:
    (project / "static/copy.css").symlink_to(project / "static/style.css")
    files = files_of(project)
    assert files["static/copy.css"] == (project / "static/style.css").read_bytes()


def test_symlinked_content_folder(project: Path, tmp_path: Path) -> None:
    """content/ itself a link to a folder outside the project: every file is refused, by name."""
    real = outside(tmp_path) / "content"
    shutil.move(project / "content", real)
    (project / "content").symlink_to(real, target_is_directory=True)
    errors = errors_of(project)
    assert {e.path for e in errors} >= {"content/site.yaml", "content/companies/alpha.yaml"}
    assert all("outside the project" in e.message for e in errors)
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_symlinked_static_folder_pointing_outside(project: Path, tmp_path: Path) -> None:
    folder = outside(tmp_path)
    (project / "static/assets").symlink_to(folder, target_is_directory=True)
    errors = errors_of(project)
    assert any(e.path.startswith("static/assets") and "outside the project" in e.message for e in errors)


def test_symlinked_collection_folder_pointing_outside(project: Path, tmp_path: Path) -> None:
    real = outside(tmp_path) / "companies"
    shutil.move(project / "content/companies", real)
    (project / "content/companies").symlink_to(real, target_is_directory=True)
    errors = errors_of(project)
    assert any(e.path.startswith("content/companies") and "outside the project" in e.message for e in errors), [
        str(e) for e in errors
    ]


@pytest.mark.parametrize("url", ["/../{slug}/", "/../../{slug}/", "/x/../../../{slug}/"])
def test_collection_url_cannot_leave_the_site(project: Path, tmp_path: Path, url: str) -> None:
    out = tmp_path / "deep" / "er" / "_site"
    edit(project / "content/site.yaml", "url: /rules/{slug}/", f"url: '{url}'")
    before = snapshot(tmp_path, (out, project))
    proc = run_cli("build", "--out", str(out), cwd=project)
    assert snapshot(tmp_path, (out, project)) == before, "files were written outside the output folder"
    assert proc.returncode == 1 and "content/site.yaml:" in proc.stderr, proc.stderr


@pytest.mark.parametrize("url", ["/{slug}/", "/a/b/{slug}/", "/%2e%2e/{slug}/"])
def test_collection_url_patterns_that_stay_inside(project: Path, url: str) -> None:
    edit(project / "content/site.yaml", "url: /rules/{slug}/", f"url: '{url}'")
    files = files_of(project)
    assert any(name.endswith("cap/index.html") for name in files)


# --- Raw HTML and script URLs in Markdown ----------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag with its attributes (entities decoded, as a browser sees them) and each script's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag == "script":
            self._script = values
            self.scripts.append((values, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


def injected(files: dict[str, bytes]) -> list[str]:
    """Every place in the site where injected markup became live: a script, a handler, a script URL."""
    found = []
    for name, data in sorted(files.items()):
        if not name.endswith(".html"):
            continue
        parser = Elements()
        parser.feed(data.decode("utf-8"))
        for tag, attrs in parser.tags:
            if tag in ("iframe", "object", "embed") or (tag == "img" and attrs.get("src") == "x"):
                found.append(f"{name}: <{tag}>")
            for key, value in attrs.items():
                if key.startswith("on"):
                    found.append(f"{name}: <{tag} {key}=…>")
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if key in ("href", "src", "action", "formaction", "xlink:href") and squeezed.startswith(SCRIPT_SCHEMES):
                    found.append(f"{name}: <{tag} {key}={value!r}>")
        for attrs, text in parser.scripts:
            if "alert(" in text:
                if attrs.get("type") != "application/ld+json":
                    found.append(f"{name}: <script>{text[:60]}")
                else:
                    json.loads(text)  # the payload stayed a JSON string
    return found


def test_the_checker_sees_injections(project: Path) -> None:
    """With allow_html the author opts in to raw HTML: the same checks then find the script (so they can fail)."""
    edit(project / "content/site.yaml", "language: en-GB\n", "language: en-GB\nallow_html: true\n")
    (project / "content/companies/beta.md").write_text("<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> y\n")
    found = injected(files_of(project))
    assert any("<script>alert(1)" in f for f in found) and any("onerror" in f for f in found), found


def test_clean_site_has_no_injection(project: Path) -> None:
    assert injected(files_of(project)) == []


RAW_HTML = """\
<script>alert(1)</script>

Text with <img src=x onerror=alert(1)> inline and <b onmouseover=alert(1)>bold</b>.

<iframe src="javascript:alert(1)"></iframe>

<a href="javascript:alert(1)">raw link</a> <svg onload=alert(1)></svg>

<div markdown="1">*x* <script>alert(1)</script></div>
"""


def test_raw_html_in_markdown_is_shown_as_text(project: Path) -> None:
    (project / "content/companies/beta.md").write_text(RAW_HTML)
    files = files_of(project)
    assert injected(files) == []
    page = files["companies/beta/index.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_raw_html_in_other_markdown_fields(project: Path) -> None:
    """Timeline titles, glossary definitions, chart notes and page bodies are Markdown too."""
    payload = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    edit(project / "content/timeline.yaml", "title: The cap ends for NEV makers", f"title: 'The cap {payload}'")
    edit(project / "content/glossary.yaml", "definition: A company owned by two or more partners.", f"definition: '{payload}'")
    edit(project / "content/charts.yaml", "sources: [src-one]", f"sources: [src-one]\n  note: '{payload}'")
    edit(project / "content/pages/about.md", "About [[home]].", f"About [[home]]. {payload}")
    files = files_of(project)
    assert injected(files) == []
    for name in ("timeline/index.html", "glossary/index.html", "charts/index.html", "about/index.html"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in files[name].decode(), name


PLAIN_SCRIPT_LINKS = [
    "[a](javascript:alert(1))",
    "[b](JaVaScRiPt:alert(1))",
    "[c]( javascript:alert(1))",
    "[d](<java\tscript:alert(1)>)",
    "[e](vbscript:msgbox(1))",
    "[f](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![g](javascript:alert(1))",
    "[h][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
]
ENTITY_SCRIPT_LINKS = [
    "[a](javascript&colon;alert(1))",
    "[b](javascript&#58;alert(1))",
    "[c](java&#115;cript:alert(1))",
    "[d](&#106;avascript:alert(1))",
    "[e](&#x6A;avascript:alert(1))",
]


@pytest.mark.parametrize("link", PLAIN_SCRIPT_LINKS)
def test_script_links_are_dropped(project: Path, link: str) -> None:
    (project / "content/companies/beta.md").write_text(f"Click {link} here.\n")
    files = files_of(project)
    assert injected(files) == []
    assert "Click" in files["companies/beta/index.html"].decode()


@pytest.mark.parametrize("link", ENTITY_SCRIPT_LINKS)
def test_entity_obfuscated_script_links_are_dropped(project: Path, link: str) -> None:
    (project / "content/companies/beta.md").write_text(f"Click {link} here.\n")
    assert injected(files_of(project)) == []


def test_ordinary_links_survive(project: Path) -> None:
    """The URL filter is not a filter of everything: ordinary links stay."""
    (project / "content/companies/beta.md").write_text(
        "[a](https://example.com/x?y=1#z) [b](mailto:a@example.com) [c](#history) [d](/x/) [e](other/page/)\n"
    )
    page = files_of(project)["companies/beta/index.html"].decode()
    for href in ("https://example.com/x?y=1#z", "mailto:a@example.com", "#history", "/x/", "other/page/"):
        assert f'href="{html.escape(href)}"' in page, href


# --- Autoescaping: hostile text in every field -----------------------------------------------------------------------

PAYLOAD = """<script>alert(1)</script><img src=x onerror=alert(1)>"'&amp;</title></textarea>"""


def hostile(project: Path, payload: str = PAYLOAD) -> None:
    """Put `payload` in the titles and texts of records, sources, site settings, navigation, charts and pages."""
    q = payload.replace("'", "''")

    def put(path: str, old: str, new: str) -> None:
        edit(project / "content" / path, old, new.replace("P", f"'{q}'"))

    put("companies/beta.yaml", "title: Beta Batteries", "title: P\nsummary: P")
    put("companies/alpha.yaml", "kind: carmaker", "kind: P")
    put("site.yaml", "title: Fixture explainer", "title: P")
    put("site.yaml", "description: A small site that exercises every feature of site_builder.", "description: P")
    put("site.yaml", "author: Test Author", "author: P")
    put("site.yaml", "{title: Companies, link: companies}", "{title: P, link: companies}")
    put("site.yaml", "    title: Companies\n", "    title: P\n")
    put("sources.yaml", "title: The first source", "title: P")
    put("sources.yaml", "publisher: Example News", "publisher: P")
    put("charts.yaml", "title: Sales against exports", "title: P")
    put("charts.yaml", "unit: million vehicles", "unit: P")
    put("charts.yaml", "{name: Sales,", "{name: P,")
    put("charts.yaml", 'categories: ["2019"]', "categories: [P]")
    put("glossary.yaml", "expansion: new energy vehicle", "expansion: P")
    put("pages/about.md", "title: About", "title: P")
    put("pages/about.md", "description: What this is.", "description: P")


def test_hostile_text_is_escaped_everywhere(project: Path) -> None:
    hostile(project)
    files = files_of(project)
    assert injected(files) == []
    beta = files["companies/beta/index.html"].decode()
    assert str(markupsafe.escape(PAYLOAD)) in beta.split("<h1", 1)[1].split("</h1>", 1)[0]  # shown as text
    for name in ("companies/index.html", "companies/alpha/index.html", "index.html"):  # index, backlinks, home
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in files[name].decode(), name
    assert_whole_documents(files)
    feed = ET.fromstring(files["feed.xml"])
    assert PAYLOAD in "".join(feed.itertext())
    ET.fromstring(files["sitemap.xml"])
    for name, data in files.items():
        if name.endswith(".json"):
            json.loads(data)


def assert_whole_documents(files: dict[str, bytes]) -> None:
    """Parsed as a browser does (html5lib), every page still has its main content and its footer: no injected
    text opened a comment, a raw-text element or a script that swallowed the rest of the page."""
    for name, data in files.items():
        if name.endswith(".html"):
            tree = html5lib.parse(data, namespaceHTMLElements=False)
            assert tree.find(".//main") is not None and tree.find(".//footer") is not None, f"{name} ends early"


def test_comment_opener_in_titles(project: Path) -> None:
    hostile(project, "A <!--<script> B")
    files = files_of(project)
    assert injected(files) == []
    assert_whole_documents(files)


def test_hostile_text_in_the_cli_build(project: Path) -> None:
    """The written site too: the sitemap is valid XML and no page carries a live script."""
    hostile(project)
    proc = run_cli("build", cwd=project)
    assert proc.returncode == 0, proc.stderr
    files = read_out(project / "_site")
    assert injected(files) == []
    ET.fromstring(files["sitemap.xml"])
    assert not [n for n in files if ".." in n.split("/")]


def test_quotes_in_attributes(project: Path) -> None:
    """A title that tries to close an attribute stays inside it (meta description, og:title, aria-labels)."""
    edit(project / "content/companies/beta.yaml", "title: Beta Batteries", """title: 'x" onmouseover="alert(1)'""")
    edit(
        project / "content/companies/beta.yaml",
        "kind: battery maker",
        """kind: battery maker\nsummary: "y' onfocus='alert(1)" """,
    )
    files = files_of(project)
    assert injected(files) == []


def test_yaml_loader_is_the_safe_one() -> None:
    """The loader site_builder uses refuses python tags on its own (no reliance on the walker alone)."""
    from site_builder import yamlfile

    loader_class = yamlfile._Loader
    assert issubclass(loader_class, (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    with pytest.raises(SiteError):
        yamlfile.load(f"a: !!python/object/apply:os.system ['touch {MARK}']\n", "f.yaml")
    assert not os.path.exists(MARK)
