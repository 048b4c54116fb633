"""Interface labels, dates and numbers follow the site's language; site.yaml overrides any label; the catalog is
the list of labels the code really uses; sorting and letter groups follow the Unicode Collation Algorithm."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from site_builder.collation import collation_key, letter
from site_builder.config import singular_of
from site_builder.labels import CATALOG, Labels

from .conftest import REPO, edit, run_cli


def _used_labels() -> set[str]:
    found: set[str] = set()
    for folder, method in ((REPO / "site_builder", "python"), (REPO / "templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        keywords = {"_": None, "gettext": None, "pgettext": ((1, "c"), 2)}
        for _, _, message, _, _ in extract_from_dir(folder, [(pattern, method)], keywords=keywords):
            found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_the_catalog_lists_exactly_the_labels_in_use() -> None:
    with CATALOG.open("rb") as f:
        listed = {m.id for m in read_po(f) if m.id}
    used = _used_labels()
    assert used == listed, (
        f"missing from {CATALOG.name}: {sorted(used - listed)}; no longer used: {sorted(listed - used)} — run the "
        "pybabel command in babel.cfg"
    )


def test_dates_and_numbers_follow_the_language() -> None:
    assert Labels("en-GB").date("2018-07-28") == "28 July 2018"
    assert Labels("en").date("2018-07-28") == "July 28, 2018"
    assert Labels("en-GB").date("2020-10") == "October 2020"
    assert Labels("zh-Hans").date("2018-07-28") == "2018年7月28日"
    assert Labels("fr").number(83000) == "83\u202f000"
    assert Labels("en").number(2011) == "2011" and Labels("en").number(25769) == "25,769"


def test_numbers_beyond_28_digits_of_precision_are_written_out_as_given() -> None:
    """Babel rounds in the current decimal context (28 digits): a fact of 1.0e+25 crashed the build (a case the fuzz
    tests found). It shows as written, not as the float stores it."""
    en, zh = Labels("en-GB"), Labels("zh-Hans")
    assert en.number(1.0e25) == "10,000,000,000,000,000,000,000,000"
    assert en.number(10**30) == "1,000,000,000,000,000,000,000,000,000,000"
    assert en.number(-1.5e26) == "-150,000,000,000,000,000,000,000,000"
    assert zh.number(1.0e25) == "10,000,000,000,000,000,000,000,000"
    assert en.number(float("inf")) == "∞" and en.number(2019.0) == "2019"


def test_english_collections_get_real_singulars() -> None:
    assert singular_of("people", "en") == "person"
    assert singular_of("companies", "en-GB") == "company"
    assert singular_of("personnes", "fr") == "personnes"  # no guessing outside English


def test_collation_files_accented_titles_with_their_letter() -> None:
    titles = ["Zebra", "Šafařík's essays", "apple", "“Quoted” title", "Émile", "2019 report", "Tesla"]
    ordered = sorted(titles, key=collation_key)
    assert ordered.index("Šafařík's essays") < ordered.index("Tesla") < ordered.index("Zebra")
    assert ordered.index("Émile") < ordered.index("Šafařík's essays")
    assert [letter(t) for t in ("Šafařík", "émile", "“Quoted”", "2019", "中国")] == ["S", "E", "Q", "#", "中"]


def test_records_are_ordered_as_a_reader_of_the_edition_looks_them_up() -> None:
    from site_builder.content import Record
    from site_builder.views import sort_records

    titles = {"tesla": "特斯拉", "bmw": "宝马", "lg": "LG新能源", "vw": "大众汽车", "huang": "黄河", "hua": "华晨"}
    records = [Record("companies", slug, {"title": t}, {}, f"content/companies/{slug}.yaml") for slug, t in titles.items()]
    chinese = [r.slug for r in sort_records(records, "title", "zh-Hans")]
    assert chinese == ["bmw", "vw", "hua", "huang", "lg", "tesla"]  # bǎo, dà, huá, huáng, L, tè
    assert [r.slug for r in sort_records(records, "-title", "zh-Hans")] == chinese[::-1]
    english = [r.slug for r in sort_records(records, "title", "en-GB")]  # no pinyin: code point order, as before
    assert english == sorted(titles, key=lambda s: titles[s].lower())


def test_labels_can_be_overridden_and_unknown_ones_are_errors(project: Path, tmp_path: Path) -> None:
    site = project / "content" / "site.yaml"
    edit(
        site,
        "language: en-GB\n",
        'language: en-GB\nlabels: {"What links here": "Pages that point here", "Cite this page": "How to cite"}\n',
    )
    done = run_cli("build", "--out", str(tmp_path / "out"), "--no-search", cwd=project)
    assert done.returncode == 0, done.stderr
    html = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").rglob("*.html"))
    assert "How to cite" in html and "Cite this page" not in html
    assert "Pages that point here" in html
    edit(site, '"Cite this page"', '"Cite this pag"')
    done = run_cli("build", "--out", str(tmp_path / "out"), "--no-search", cwd=project)
    assert done.returncode == 1
    assert "unknown label 'Cite this pag' — did you mean 'Cite this page'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_quick_collation_of_ascii_titles_is_pyucas_own() -> None:
    """ASCII titles take a quicker path (each character's elements looked up once); it must give pyuca's keys, as
    strings of their weights, which sort as the weights do."""
    import random
    import string

    import pyuca

    collator = pyuca.Collator()
    rng = random.Random(7)
    titles = ["".join(rng.choice(string.printable[:95]) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    titles += ["'Quoted' title", "2019 report", "A-B c_d", "x" * 200]
    from site_builder.collation import _without_lead

    keys = [tuple(collator.sort_key(_without_lead(t))) for t in titles]
    assert [tuple(map(ord, collation_key(t))) for t in titles] == keys
    non_ascii = ["Émile", "Šafařík", "中国", "Zürich", "ﬁne", "Å", "İstanbul", "ǅ"]  # contractions, expansions, CJK
    assert [tuple(map(ord, collation_key(t))) for t in non_ascii] == [tuple(collator.sort_key(t)) for t in non_ascii]
    both = titles + non_ascii
    assert sorted(both, key=collation_key) == sorted(both, key=lambda t: tuple(collator.sort_key(_without_lead(t))))
