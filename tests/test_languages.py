"""Editions in several languages over one fact base (issue 15): the engine on the fixture site, and the proofs on
the real site's English and Simplified Chinese editions."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.build import build
from site_builder.errors import BuildFailed

from .conftest import REPO, edit, make_project, read_tree, run_cli

LANGUAGES = "languages:\n  - {code: en-GB, name: English}\n  - {code: fr, name: Français, prefix: fr}\n"


def _french(project: Path, complete: bool = False) -> Path:
    """The fixture with a French edition that translates one record, the home page and one data file."""
    site = project / "content" / "site.yaml"
    edit(site, "language: en-GB\n", LANGUAGES.replace("prefix: fr}", f"prefix: fr, complete: {str(complete).lower()}}}"))
    (project / "content" / "site.fr.yaml").write_text(
        "title: Explicateur de test\nnavigation: {companies: Entreprises}\ncollections: {companies: {title: Entreprises}}\n",
        encoding="utf-8",
    )
    (project / "content" / "companies" / "alpha.fr.md").write_text(
        "---\ntitle: Alpha Moteurs\nkind: Constructeur automobile\n---\n"
        "## Histoire\n\nAlpha construit des voitures [@src-one].\n",
        encoding="utf-8",
    )
    return project


def test_an_edition_in_another_language_is_published_under_its_prefix(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(_french(project), out, search=False)
    files = read_tree(out)
    english = {n for n in files if n.endswith(".html") and not n.startswith("fr/") and n != "404.html"}
    assert english and all(f"fr/{n}" in files for n in english)  # every page exists in both languages
    page = files["fr/companies/alpha/index.html"].decode()
    assert '<html lang="fr">' in page and "<h1>Alpha Moteurs</h1>" in page
    assert "Constructeur automobile" in page  # a translated text field
    assert "83000" in page  # the facts are the fact file's: a number is never translated
    assert 'hreflang="en-GB" href="https://example.github.io/fixture/companies/alpha/"' in page
    assert 'hreflang="x-default" href="https://example.github.io/fixture/companies/alpha/"' in page
    assert '<a href="/fixture/companies/alpha/" hreflang="en-GB" lang="en-GB"' in page  # the switcher
    assert 'href="/fixture/fr/companies/beta/"' in page  # links stay in the edition
    english_page = files["companies/alpha/index.html"].decode()
    assert 'hreflang="fr" href="https://example.github.io/fixture/fr/companies/alpha/"' in english_page
    untranslated = files["fr/companies/beta/index.html"].decode()
    assert 'class="untranslated"' in untranslated and 'class="untranslated"' not in page
    assert "fr/feed.xml" in files and b"Explicateur de test" in files["fr/feed.xml"]
    sitemap = files["sitemap.xml"].decode()
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in sitemap
    assert '<xhtml:link rel="alternate" hreflang="fr" href="https://example.github.io/fixture/fr/companies/alpha/"/>' in sitemap
    warnings = [str(w) for w in result.warnings]
    assert any("content/companies/beta.md" in w and "no Français translation" in w for w in warnings), warnings


def test_missing_translations_fail_strict_only_when_the_language_is_complete(project: Path, tmp_path: Path) -> None:
    build(_french(project), tmp_path / "a", strict=True, search=False)  # not complete: warnings, even with --strict
    site = project / "content" / "site.yaml"
    edit(site, "complete: false", "complete: true")
    with pytest.raises(BuildFailed) as failed:
        build(project, tmp_path / "b", strict=True, search=False)
    assert any("no Français translation" in e.message for e in failed.value.errors)


def test_only_text_is_translated(project: Path, tmp_path: Path) -> None:
    alpha = _french(project) / "content" / "companies" / "alpha.fr.md"
    alpha.write_text("---\ntitle: Alpha\nfounded: '1999'\nnowhere: x\n---\nTexte.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(project, tmp_path / "out", search=False)
    messages = sorted(e.message for e in failed.value.errors)
    assert any("'founded' is not text in the fact file" in m for m in messages), messages
    assert any("'nowhere' is not in the fact file" in m for m in messages), messages


def test_a_translation_of_an_unknown_entry_is_an_error(project: Path, tmp_path: Path) -> None:
    _french(project)
    (project / "content" / "glossary.fr.yaml").write_text("- {id: no-such-term, term: Rien}\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(project, tmp_path / "out", search=False)
    assert [e.message for e in failed.value.errors] == ["no entry 'no-such-term' to translate"]


def _git(project: Path, *args: str, date: str) -> None:
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "T"}
    env |= {"GIT_COMMITTER_EMAIL": "t@example.org", "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, env=env)


def test_check_lists_a_translation_older_than_its_original(project: Path) -> None:
    _french(project)
    _git(project, "init", "-q", date="2024-01-01T12:00:00+00:00")
    _git(project, "add", "-A", date="2024-01-01T12:00:00+00:00")
    _git(project, "commit", "-qm", "first", date="2024-01-01T12:00:00+00:00")
    edit(project / "content" / "companies" / "alpha.md", "History", "Early history")
    _git(project, "commit", "-qam", "the English changes", date="2024-03-05T12:00:00+00:00")
    done = run_cli("check", cwd=project)
    assert done.returncode == 0, done.stderr
    assert (
        "warning: content/companies/alpha.fr.md: may be out of date: content/companies/alpha.md changed on 2024-03-05, "
        "after this translation (2024-01-01) — update the translation, then commit it"
    ) in done.stderr


# The real site: an English and a Simplified Chinese edition.


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    project = make_project(tmp_path_factory.mktemp("real") / "project", REPO / "content")
    out = project / "_site"
    build(project, out, search=False)
    yield {name: data.decode("utf-8") for name, data in read_tree(out).items() if name.endswith((".html", ".xml"))}


def _main_text(page: str) -> str:
    """The reader's text of a page: without references, the page tools and verbatim quotes ("…", in straight
    quotes: about-the-source quotes the English machine translation as it is)."""
    main = re.search(r"<main.*?</main>", page, re.S)
    assert main is not None
    text = re.sub(r'<aside class="page-tools".*?</aside>|<section class="references".*?</section>', "", main.group(0), flags=re.S)
    return re.sub(r'"[^"\n]*"', " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def _counterpart(path: str) -> str:
    """Where a page's version in the other language is: the same path, but for a part of the glossary, which each
    edition splits in its own order (English letters, pinyin): the glossary's first page."""
    return "glossary/" if path.startswith("glossary/") and path != "glossary/" else path


def test_every_page_is_in_both_languages_and_links_to_the_other(real: dict[str, str]) -> None:
    english = sorted(n for n in real if n.endswith("index.html") and not n.startswith("zh/"))
    chinese = sorted(n.removeprefix("zh/") for n in real if n.endswith("index.html") and n.startswith("zh/"))
    assert len(english) > 40
    problems = []
    for name, other, prefix, other_prefix, code, other_code in [
        *((n, "zh", "", "zh/", "en-GB", "zh-Hans") for n in english),
        *((n, "en", "zh/", "", "zh-Hans", "en-GB") for n in chinese),
    ]:
        page = real[prefix + name]
        path = name.removesuffix("index.html")
        there = _counterpart(path)
        if f"{other_prefix}{there}index.html" not in real:
            problems.append(f"{prefix}{name}: no {other} page at {other_prefix}{there}")
            continue
        if f'hreflang="{other_code}" href="https://example.github.io/china-ev-exports/{other_prefix}{there}"' not in page:
            problems.append(f"{prefix}{name}: no hreflang to the {other} page")
        if f'href="/china-ev-exports/{other_prefix}{there}" hreflang="{other_code}"' not in page:
            problems.append(f"{prefix}{name}: the language switcher does not lead to the {other} page")
        if f'<html lang="{code}">' not in page:
            problems.append(f"{prefix}{name}: not marked {code}")
    assert not problems, "\n".join(problems)
    assert {_counterpart(n.removesuffix("index.html")) for n in english} == {
        _counterpart(n.removesuffix("index.html")) for n in chinese
    }


def test_the_chinese_glossary_is_in_pinyin_order_under_its_initials(real: dict[str, str]) -> None:
    from pypinyin import Style, lazy_pinyin

    parts = sorted((n for n in real if n.startswith("zh/glossary/")), key=lambda n: (n != "zh/glossary/index.html", n))
    terms, tabs = [], []
    for name in parts:
        main = re.search(r"<main.*?</main>", real[name], re.S)
        assert main is not None
        found = [html.unescape(t) for t in re.findall(r'<dt[^>]*>([^<]+?) ?<span class="expansion">', main.group(0))]
        label = re.search(r"<h1>术语表：([A-Z#])–([A-Z#])</h1>", main.group(0))
        assert found and label is not None, name
        initials = ["".join(lazy_pinyin(t, style=Style.TONE3))[:1].upper() for t in found]
        assert all(label.group(1) <= i <= label.group(2) for i in initials), (name, label.groups(), initials)
        terms += found
        tabs.append(label.groups())
    spelled = ["".join(lazy_pinyin(t, style=Style.TONE3)).lower() for t in terms]
    assert spelled == sorted(spelled), terms
    assert len(terms) == len(set(terms)) > 30
    assert tabs == sorted(tabs) and terms[0] != "破产重整"  # was first: filed under B, for "bankruptcy restructuring"
    assert '新能源汽车<span class="expansion">（NEV，new energy vehicle）</span>' in real["zh/glossary/s-z/index.html"]
    assert 'NEV <span class="expansion">(new energy vehicle)</span>' in real["glossary/n-r/index.html"]


def test_chinese_pages_are_mostly_chinese(real: dict[str, str]) -> None:
    shares = {}
    for name, page in real.items():
        if name.startswith("zh/") and name.endswith(".html") and "bibliography" not in name:
            letters = [c for c in _main_text(page) if c.isalpha()]
            shares[name] = sum("\u4e00" <= c <= "\u9fff" for c in letters) / max(1, len(letters))
    assert len(shares) > 40
    low = {n: round(s, 2) for n, s in shares.items() if s < 0.6}
    assert not low, f"pages whose main text is less than 60% Chinese: {low}"
    # The bibliography lists sources by their own (mostly English) titles; its interface is Chinese all the same.
    assert "参考来源" in real["zh/bibliography/index.html"] or "来源" in real["zh/bibliography/index.html"]


def _infobox_facts(page: str) -> list[tuple[str, ...]]:
    box = re.search(r'<aside class="infobox".*?</aside>', page, re.S)
    assert box is not None
    facts = []
    for dd in re.findall(r"<dd>(.*?)</dd>", box.group(0), re.S):
        facts.append(
            tuple(re.findall(r'<time datetime="([^"]+)"', dd))
            + tuple(re.findall(r'<data value="([^"]+)"', dd))
            + tuple(h.replace("/zh/", "/") for h in re.findall(r'<a href="(/[^"#]+)', dd))
            + tuple(re.findall(r'class="mark (mark-\w+)"', dd))
            + (str(len(re.findall(r'<sup class="cite"', dd))),)
        )
    return facts


def test_the_infobox_shows_the_same_facts_in_both_editions(real: dict[str, str]) -> None:
    records = [n for n in real if re.match(r"(companies|policies|places|vehicles)/[a-z0-9-]+/index\.html$", n)]
    assert len(records) >= 20
    different = {n: (_infobox_facts(real[n]), _infobox_facts(real[f"zh/{n}"])) for n in records}
    different = {n: pair for n, pair in different.items() if pair[0] != pair[1]}
    assert not different, different


def test_chinese_names_readers_know(real: dict[str, str]) -> None:
    expected = {
        "zh/companies/catl/index.html": "宁德时代",
        "zh/companies/gotion/index.html": "国轩高科",
        "zh/companies/bmw-brilliance/index.html": "华晨宝马",
        "zh/places/giga-shanghai/index.html": "特斯拉上海超级工厂",
        "zh/policies/dual-credit/index.html": "双积分",
    }
    for name, words in expected.items():
        title = re.search(r"<h1>(.*?)</h1>", real[name])
        assert title is not None and words in title.group(1), (name, title)


def test_data_pages_and_labels_are_chinese(real: dict[str, str]) -> None:
    timeline = real["zh/timeline/index.html"]
    assert "<h1>大事记</h1>" in timeline or re.search(r"<h1>[^<]*[\u4e00-\u9fff]", timeline)
    assert "What links here" not in real["zh/companies/catl/index.html"]
    assert "2020年10月" in timeline  # dates in Chinese (Babel), the same dates as the English
    assert 'datetime="2020-10-19"' in timeline and 'datetime="2020-10-19"' in real["timeline/index.html"]
    assert "</a>、<a" in timeline and "</a>, <a" not in timeline  # a list of links, with the enumeration comma
    assert "<title>中国，2019：1.06百万辆电动汽车</title>" in real["zh/charts/index.html"]  # a chart's point, told in Chinese
    assert "（列于“在华业务、对外持股”）" in real["zh/companies/bmw-brilliance/index.html"]
    assert "</a>, <a" in real["timeline/index.html"]
    downloads = re.search(r"<p>下载数据：.*?</p>", real["zh/policies/index.html"])  # a Chinese sentence, a Chinese stop
    assert downloads is not None and "</a>。可按" in downloads.group(0) and "</a>." not in downloads.group(0)


def test_chinese_indexes_are_in_pinyin_order(real: dict[str, str]) -> None:
    """A Chinese reader looks names up by pinyin, as in a dictionary: 宝马 (bǎo) before 大众 (dà) before 国轩 (guó),
    Latin names filed among them by their letters; not in the order of the characters' code points."""
    from pypinyin import Style, lazy_pinyin

    for collection in ["companies", "places", "policies", "vehicles"]:
        rows = re.search(r"<tbody.*?</tbody>", real[f"zh/{collection}/index.html"], re.S)
        assert rows is not None
        names = [html.unescape(n) for n in re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', rows.group(0))]
        assert len(names) >= 2, collection
        spelled = ["".join(lazy_pinyin(n, style=Style.TONE3)).lower() for n in names]
        assert spelled == sorted(spelled), (collection, names)
    companies = real["zh/companies/index.html"]
    assert companies.index(">宝马<") < companies.index(">大众汽车<") < companies.index(">国轩高科<") < companies.index(">特斯拉<")


def test_content_keeps_facts_out_of_translations() -> None:
    """No translation file carries a fact: no dates, numbers, sources or statuses of its own."""
    problems: list[str] = []

    def walk(name: str, value: Any, at: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(name, v, f"{at}.{k}" if at else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(name, v, f"{at}.{i}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            problems.append(f"{name}: {at} = {value}")

    for path in sorted((REPO / "content").rglob("*.zh.md")):
        text = path.read_text(encoding="utf-8")
        front = yaml.safe_load(text.split("---", 2)[1]) if text.startswith("---") else {}
        problems += [f"{path.name}: {key}" for key in ("sources", "updated") if key in (front or {})]
        walk(path.name, front, "")
    assert not problems, problems


def test_search_finds_catl_in_each_language(browser: Any, server: str) -> None:
    """Pagefind keeps one index per language (by <html lang>): 宁德时代 on the Chinese site and CATL on the English
    site each find the CATL page of that language."""
    tab = browser.new_page()
    try:
        found = {}
        for prefix, query in (("", "CATL"), ("zh/", "宁德时代")):
            tab.goto(f"{server}{prefix}search/")
            found[prefix] = tab.evaluate(
                """async ([bundle, query]) => {
                    const pagefind = await import(bundle + "pagefind.js");
                    await pagefind.init();
                    const search = await pagefind.search(query);
                    const data = await Promise.all(search.results.slice(0, 5).map((r) => r.data()));
                    return data.map((d) => d.url);
                }""",
                [server + "pagefind/", query],
            )
    finally:
        tab.close()
    assert found[""] and found[""][0].endswith("/china-ev-exports/companies/catl/"), found
    assert found["zh/"] and found["zh/"][0].endswith("/china-ev-exports/zh/companies/catl/"), found


def test_a_translation_of_nothing_is_an_error_and_fields_alone_keep_the_prose(project: Path, tmp_path: Path) -> None:
    _french(project)
    (project / "content" / "companies" / "alfa.fr.md").write_text("---\ntitle: Alfa\n---\nTexte.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(project, tmp_path / "a", search=False)
    assert [(e.path, e.message) for e in failed.value.errors] == [
        ("content/companies/alfa.fr.md", "there is no record companies/alfa to translate")
    ]
    (project / "content" / "companies" / "alfa.fr.md").unlink()
    (project / "content" / "companies" / "alpha.fr.md").write_text("---\ntitle: Alpha Moteurs\n---\n", encoding="utf-8")
    result = build(project, tmp_path / "b", search=False)
    page = (tmp_path / "b" / "fr" / "companies" / "alpha" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Alpha Moteurs</h1>" in page and 'id="history"' in page  # the English prose, not an empty page
    assert 'class="untranslated"' in page
    assert any("the prose is not translated into Français" in w.message for w in result.warnings)


def test_each_edition_has_its_own_feed(project: Path, tmp_path: Path) -> None:
    build(_french(project), tmp_path / "out", search=False)
    feed = (tmp_path / "out" / "fr" / "feed.xml").read_text(encoding="utf-8")
    assert '<link href="https://example.github.io/fixture/fr/feed.xml" rel="self"/>' in feed
    assert 'xml:lang="fr"' in feed and "<id>https://example.github.io/fixture/fr/</id>" in feed
    english = (tmp_path / "out" / "feed.xml").read_text(encoding="utf-8")
    assert '<link href="https://example.github.io/fixture/feed.xml" rel="self"/>' in english and 'xml:lang="en-GB"' in english
