#!/usr/bin/env python3
"""Write a deterministic synthetic corpus of N entity records for the build-speed benchmark.

    python benchmarks/gen_corpus.py N OUTDIR                      # a site_builder project in OUTDIR
    python benchmarks/gen_corpus.py N OUTDIR --layout hugo        # the same entities as a Hugo site
    python benchmarks/gen_corpus.py N OUTDIR --layout all         # OUTDIR/<layout>/ for every layout

Layouts: site_builder (default), hugo, eleventy, pelican, mkdocs. Every layout holds the same entities:
the same facts and the same Markdown body, word for word; only the file layout, the front-matter syntax
and the syntax of the five cross-links differ (each tool's own). Each entity has

* 17 facts: 15 scalars (name, legal name, kind, founded, headquarters, country, sector, employees,
  revenue, three ownership percentages, chief executive, ticker, last reviewed), a `stakes` list of
  3-5 {partner, percent, year} and a `sources` list of 2-4 source ids; plus its title;
* about 640 words of Markdown (`wc -w`): an intro, three `##` sections, one table (the stakes), one
  footnote and five links to other entity pages.

The site_builder layout is a whole project: content/site.yaml (one collection, `entities`),
content/schemas/entity.schema.yaml, content/entities/<slug>.yaml + .md, content/sources.yaml (every
source id that a record cites, so `build --strict` passes) and a copy of templates/ and static/ taken
from the theme folder (default: this checkout) when the corpus is written.

Output is the same bytes for the same N and layout: every random choice comes from a generator seeded
with a string (seeding with a string does not depend on PYTHONHASHSEED).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LAYOUTS = ("site_builder", "hugo", "eleventy", "pelican", "mkdocs")
SEED = "site-builder-bench-1"
SOURCE_POOL = 100_000  # source ids are drawn from this many, so a large corpus shares some
THEME = Path(__file__).resolve().parent.parent  # templates/ and static/ of this checkout
COLLECTION = "entities"
SITE_TITLE = "Build benchmark: synthetic entities"

# ------------------------------------------------------------------------------------------- vocabulary

ONSETS = (
    "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kl", "l",
    "m", "n", "p", "pr", "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z",
)  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y")
CODAS = ["", "", "n", "r", "l", "s", "th", "x", "nd", "rk", "m", "st"]
NAME_TAILS = [
    "Holdings",
    "Group",
    "Power",
    "Bancorp",
    "Logistics",
    "Minerals",
    "Agency",
    "Trust",
    "Networks",
    "Foundry",
    "Commission",
    "Partners",
    "Railways",
    "Chemicals",
]
LEGAL_FORMS = ["plc", "AG", "S.p.A.", "Oy", "SE", "Inc.", "Pty Ltd", "B.V.", "AB", "K.K."]
KINDS = ["company", "state agency", "investment fund", "cooperative", "public body"]
SECTORS = [
    "Electricity",
    "Rail freight",
    "Copper mining",
    "Retail banking",
    "Broadband",
    "Port operations",
    "Fertiliser",
    "Reinsurance",
    "Steel",
    "Water supply",
    "Aviation",
    "Biotech",
    "Publishing",
]
PLACES = [
    ("Tromsø", "Norway"),
    ("Kumasi", "Ghana"),
    ("Arequipa", "Peru"),
    ("Da Nang", "Vietnam"),
    ("Cuenca", "Ecuador"),
    ("Daugavpils", "Latvia"),
    ("Sfax", "Tunisia"),
    ("Ganja", "Azerbaijan"),
    ("Salalah", "Oman"),
    ("Geelong", "Australia"),
    ("Bilbao", "Spain"),
    ("Nantes", "France"),
    ("Braga", "Portugal"),
    ("Galway", "Ireland"),
    ("Linz", "Austria"),
    ("Leuven", "Belgium"),
    ("Aarhus", "Denmark"),
    ("Tampere", "Finland"),
    ("Brno", "Czechia"),
    ("Plovdiv", "Bulgaria"),
    ("Cluj-Napoca", "Romania"),
    ("Kaunas", "Lithuania"),
]

# sentence parts: "<subject> <verb> <object> <tail>." gives plain, varied pseudo-reporting
SUBJECTS = [
    "the board",
    "its auditors",
    "the finance ministry",
    "a minority shareholder",
    "the regulator",
    "local lenders",
    "the pension fund",
    "management",
    "the works council",
    "a rival bidder",
    "the competition authority",
    "bondholders",
    "the provincial government",
    "an activist investor",
    "the chief financial officer",
    "analysts at two brokers",
    "the state holding company",
    "a parliamentary committee",
]
VERBS = [
    "approved",
    "questioned",
    "delayed",
    "reviewed",
    "financed",
    "challenged",
    "renegotiated",
    "announced",
    "blocked",
    "published",
    "restructured",
    "underwrote",
    "disclosed",
    "postponed",
    "endorsed",
    "scaled back",
]
OBJECTS = [
    "a plan to sell the network",
    "the annual dividend",
    "a new credit line",
    "the disputed concession",
    "a share buyback",
    "the merger terms",
    "a bond issue in two currencies",
    "the capital budget",
    "an outside valuation",
    "the pension shortfall",
    "the tariff formula",
    "a joint bid for the licence",
    "the sale of a minority stake",
    "its reporting standards",
    "a cost-cutting programme",
    "the supply contracts",
    "the lease of the old terminal",
    "plans for a second listing",
]
TAILS = [
    "after a long review",
    "despite objections from employees",
    "in the third quarter",
    "under pressure from creditors",
    "with little public debate",
    "at an extraordinary general meeting",
    "before the election",
    "once the audit was complete",
    "for the second year running",
    "following a fall in revenue",
    "as interest rates rose",
    "without a formal vote",
    "ahead of the regulator's deadline",
    "in a brief statement",
    "after months of talks",
    "while the inquiry continued",
]
LINKERS = ["Meanwhile,", "Later,", "In response,", "By contrast,", "At the same time,", "Even so,", "Separately,", "In turn,"]
SECTIONS = ("History", "Ownership and partners", "Outlook")
SOURCE_OUTLETS = [
    "Financial Courier",
    "Regional Business Review",
    "The Ledger",
    "Markets Weekly",
    "Public Registry Gazette",
    "Annual Report",
    "Trade Bulletin",
]

# ------------------------------------------------------------------------------------------- fields

# key, label, JSON Schema type, unit (what follows a number)
FIELDS: list[tuple[str, str, str, str]] = [
    ("name", "Name", "string", ""),
    ("legal_name", "Legal name", "string", ""),
    ("entity_kind", "Kind", "string", ""),
    ("founded", "Founded", "integer", ""),
    ("headquarters", "Headquarters", "string", ""),
    ("country", "Country", "string", ""),
    ("sector", "Sector", "string", ""),
    ("employees", "Employees", "integer", ""),
    ("revenue_musd", "Revenue (USD million)", "number", ""),
    ("state_ownership_pct", "State ownership", "number", "%"),
    ("founder_ownership_pct", "Founder ownership", "number", "%"),
    ("public_float_pct", "Public float", "number", "%"),
    ("chief_executive", "Chief executive", "string", ""),
    ("ticker", "Ticker", "string", ""),
    ("last_reviewed", "Last reviewed", "date", ""),
]
INDEX_COLUMNS = ("entity_kind", "country", "sector")


@dataclass(frozen=True)
class Entity:
    """One entity: its slug, its facts (title first, then FIELDS, stakes, sources) and its body parts."""

    slug: str
    facts: dict[str, Any]
    paragraphs: dict[str, str]
    footnote: str
    links: tuple[int, ...]  # indexes of five other entities


def slug(i: int) -> str:
    return f"entity-{i:05d}"


def entity_name(i: int) -> str:
    """A made-up name: two or three syllables and a tail ('Brandoux Logistics')."""
    r = random.Random(f"{SEED}:name:{i}")
    stem = "".join(r.choice(ONSETS) + r.choice(VOWELS) + r.choice(CODAS) for _ in range(r.choice((2, 2, 3))))
    return f"{stem.capitalize()} {NAME_TAILS[r.randrange(len(NAME_TAILS))]}"


def person(r: random.Random) -> str:
    first = (r.choice(ONSETS) + r.choice(VOWELS) + r.choice(CODAS) + r.choice(VOWELS)).capitalize()
    last = "".join(r.choice(ONSETS) + r.choice(VOWELS) for _ in range(2)).capitalize() + r.choice(
        ["son", "ek", "ini", "ová", "ez"]
    )
    return f"{first} {last}"


def sentence(r: random.Random) -> str:
    words = [r.choice(SUBJECTS), r.choice(VERBS), r.choice(OBJECTS)]
    if r.random() < 0.7:
        words.append(r.choice(TAILS))
    if r.random() < 0.3:
        words.insert(0, r.choice(LINKERS))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def paragraph(r: random.Random, words: int) -> str:
    """Sentences until the paragraph has at least `words` words."""
    out: list[str] = []
    count = 0
    while count < words:
        s = sentence(r)
        out.append(s)
        count += len(s.split())
    return " ".join(out)


def make_entity(i: int, n: int, names: list[str]) -> Entity:
    r = random.Random(f"{SEED}:entity:{i}")
    city, country = PLACES[r.randrange(len(PLACES))]
    state = round(r.uniform(0, 70), 1)
    founder = round(r.uniform(0, 100 - state) * 0.4, 1)
    public = round(100 - state - founder, 1)
    stakes = []
    for _ in range(r.randint(3, 5)):
        stakes.append(
            {"partner": names[r.randrange(n)], "percent": round(r.uniform(0.5, 49.9), 1), "year": r.randint(1985, 2024)}
        )
    sources = sorted({f"src-{r.randrange(SOURCE_POOL):05d}" for _ in range(r.randint(2, 4))})
    while len(sources) < 2:  # a rare repeat: keep the list at two or more
        sources = sorted({*sources, f"src-{r.randrange(SOURCE_POOL):05d}"})
    name = names[i]
    facts: dict[str, Any] = {
        "title": name,
        "name": name,
        "legal_name": f"{name} {r.choice(LEGAL_FORMS)}",
        "entity_kind": r.choice(KINDS),
        "founded": r.randint(1840, 2021),
        "headquarters": city,
        "country": country,
        "sector": r.choice(SECTORS),
        "employees": r.randint(12, 180_000),
        "revenue_musd": round(r.uniform(0.5, 75_000), 1),
        "state_ownership_pct": state,
        "founder_ownership_pct": founder,
        "public_float_pct": public,
        "chief_executive": person(r),
        "ticker": "".join(r.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(r.choice((3, 4)))),
        "last_reviewed": f"{r.randint(2019, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        "stakes": stakes,
        "sources": sources,
    }
    others = [j for j in range(n) if j != i] if n <= 6 else []
    links: list[int] = []
    while len(links) < 5:
        if n == 1:
            links.append(0)
        elif others:
            links.append(others[len(links) % len(others)])
        else:
            j = r.randrange(n)
            if j != i and j not in links:
                links.append(j)
    paragraphs = {
        "intro": paragraph(r, 68),
        "history1": paragraph(r, 84),
        "history2": paragraph(r, 74),
        "ownership1": paragraph(r, 62),
        "ownership2": paragraph(r, 54),
        "outlook1": paragraph(r, 82),
        "outlook2": paragraph(r, 72),
    }
    footnote = paragraph(r, 14)
    return Entity(slug(i), facts, paragraphs, footnote, tuple(links))


def entities(n: int) -> list[Entity]:
    names = [entity_name(i) for i in range(n)]
    return [make_entity(i, n, names) for i in range(n)]


def body(e: Entity, link: Any, names: list[str]) -> str:
    """The Markdown body; `link(index, name)` writes a link to another entity in the tool's syntax."""
    p = e.paragraphs
    to = [link(j, names[j]) for j in e.links]
    rows = "".join(f"| {s['partner']} | {s['percent']} | {s['year']} |\n" for s in e.facts["stakes"])
    return (
        f"{p['intro']} It is often compared with {to[0]}.\n\n"
        f"## {SECTIONS[0]}\n\n"
        f"{p['history1']} Its first outside partner was {to[1]}.[^1]\n\n"
        f"{p['history2']} A later audit also looked at {to[2]}.\n\n"
        f"## {SECTIONS[1]}\n\n"
        f"{p['ownership1']}\n\n"
        "| Partner | Percent | Year |\n"
        "| --- | ---: | ---: |\n"
        f"{rows}\n"
        f"{p['ownership2']} Its structure resembles that of {to[3]}.\n\n"
        f"## {SECTIONS[2]}\n\n"
        f"{p['outlook1']}\n\n"
        f"{p['outlook2']} Observers also follow {to[4]}.\n\n"
        f"[^1]: {e.footnote}\n"
    )


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


# ------------------------------------------------------------------------------------------- site_builder


def schema_yaml() -> str:
    props: dict[str, Any] = {}
    for key, label, kind, unit in FIELDS:
        prop: dict[str, Any] = {"type": "string", "format": "date"} if kind == "date" else {"type": kind}
        prop["title"] = label
        if unit:
            prop["x-unit"] = unit
        props[key] = prop
    props["stakes"] = {
        "type": "array",
        "title": "Stakes",
        "description": "Holdings in other entities.",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["partner", "percent", "year"],
            "properties": {
                "partner": {"type": "string", "title": "Partner"},
                "percent": {"type": "number", "title": "Percent", "x-unit": "%"},
                "year": {"type": "integer", "title": "Year"},
            },
        },
    }
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Entity",
        "description": "A synthetic company, agency or fund.",
        "type": "object",
        "additionalProperties": False,
        "required": [key for key, *_ in FIELDS],
        "properties": props,
    }
    return dump_yaml(schema)


def site_yaml() -> str:
    return dump_yaml(
        {
            "title": SITE_TITLE,
            "description": "A generated corpus that times site_builder against other static-site generators.",
            "language": "en",
            "base_url": "https://example.invalid/bench/",
            "navigation": [{"title": "Entities", "link": COLLECTION}, {"title": "Sources", "link": "bibliography"}],
            "collections": {
                COLLECTION: {
                    "singular": "entity",
                    "plural": "entities",
                    "title": "Entities",
                    "description": "Every entity of the corpus.",
                    "schema": "schemas/entity.schema.yaml",
                    "url": f"/{COLLECTION}/{{slug}}/",
                    "sort": "title",
                    "columns": list(INDEX_COLUMNS),
                }
            },
        }
    )


def source_entry(ident: str) -> dict[str, Any]:
    r = random.Random(f"{SEED}:source:{ident}")
    return {
        "id": ident,
        "title": paragraph(r, 6).rstrip(".").capitalize(),
        "publisher": r.choice(SOURCE_OUTLETS),
        "published": f"{r.randint(2005, 2024)}-{r.randint(1, 12):02d}",
        "url": f"https://example.invalid/sources/{ident}",
    }


def emit_site_builder(out: Path, ents: list[Entity], names: list[str], theme: Path) -> None:
    content = out / "content"
    write(content / "site.yaml", site_yaml())
    write(content / "schemas" / "entity.schema.yaml", schema_yaml())
    used: set[str] = set()
    for e in ents:
        write(content / COLLECTION / f"{e.slug}.yaml", dump_yaml(e.facts))
        write(content / COLLECTION / f"{e.slug}.md", body(e, lambda j, _name: f"[[{COLLECTION}/{slug(j)}]]", names))
        used.update(e.facts["sources"])
    write(content / "sources.yaml", dump_yaml([source_entry(s) for s in sorted(used)]))
    for part in ("templates", "static"):
        if not (theme / part).is_dir():
            raise SystemExit(f"{theme / part} not found: pass --theme, the folder holding templates/ and static/")
        shutil.copytree(theme / part, out / part)


# ------------------------------------------------------------------------------------------- peers
# Each peer page shows the same things: the title, a table of the facts, the body; and one index page
# lists every entity sorted by title with its kind and country.


def fact_rows(value: Any, stakes: str, sources: str) -> str:
    """Table rows of the facts; `value(key)` writes the tool's expression for a field."""
    rows = [f"<tr><th>{label}</th><td>{value(key)}{unit}</td></tr>" for key, label, _kind, unit in FIELDS]
    rows.append(f"<tr><th>Stakes</th><td><ul>{stakes}</ul></td></tr>")
    rows.append(f"<tr><th>Sources</th><td>{sources}</td></tr>")
    return "\n".join(rows)


def page(title: str, main: str) -> str:
    head = f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
    return f"{head}<body>\n{main}\n</body></html>\n"


def emit_hugo(out: Path, ents: list[Entity], names: list[str]) -> None:
    write(
        out / "hugo.yaml",
        dump_yaml(
            {
                "baseURL": "https://example.invalid/bench/",
                "title": SITE_TITLE,
                "languageCode": "en",
                "disableKinds": ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"],
            }
        ),
    )
    rows = fact_rows(
        lambda k: "{{ .Params." + k + " }}",
        "{{ range .Params.stakes }}<li>{{ .partner }}: {{ .percent }}% ({{ .year }})</li>{{ end }}",
        '{{ delimit .Params.sources ", " }}',
    )
    single = page(
        "{{ .Title }}",
        '<p><a href="{{ "/" | relURL }}">Index</a></p>\n<h1>{{ .Title }}</h1>\n'
        f'<table class="facts">\n{rows}\n</table>\n<article>\n{{{{ .Content }}}}\n</article>',
    )
    listing = page(
        "{{ .Site.Title }}",
        "<h1>{{ .Site.Title }}</h1>\n<ul>\n{{- range .Site.RegularPages.ByTitle }}\n"
        '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> ({{ .Params.entity_kind }}, {{ .Params.country }})</li>\n'
        "{{- end }}\n</ul>",
    )
    write(out / "layouts" / "_default" / "single.html", single)
    write(out / "layouts" / "_default" / "list.html", listing)
    for e in ents:
        text = body(e, lambda j, name: f"[{name}](/{COLLECTION}/{slug(j)}/)", names)
        write(out / "content" / COLLECTION / f"{e.slug}.md", f"---\n{dump_yaml(e.facts)}---\n\n{text}")


ELEVENTY_CONFIG = """\
// Eleventy 3 settings for the build benchmark; markdown-it-footnote renders [^1] like the other tools.
import footnotes from "markdown-it-footnote";

export default function (eleventyConfig) {
  eleventyConfig.amendLibrary("md", (md) => md.use(footnotes));
}

export const config = { dir: { input: "src", includes: "_includes", output: "_site" } };
"""


def emit_eleventy(out: Path, ents: list[Entity], names: list[str]) -> None:
    write(out / "eleventy.config.mjs", ELEVENTY_CONFIG)
    rows = fact_rows(
        lambda k: "{{ " + k + " }}",
        "{% for s in stakes %}<li>{{ s.partner }}: {{ s.percent }}% ({{ s.year }})</li>{% endfor %}",
        '{{ sources | join(", ") }}',
    )
    layout = page(
        "{{ title }}",
        f'<p><a href="/">Index</a></p>\n<h1>{{{{ title }}}}</h1>\n<table class="facts">\n{rows}\n</table>\n'
        "<article>\n{{ content | safe }}\n</article>",
    )
    index = "---\npermalink: /index.html\n---\n" + page(
        SITE_TITLE,
        f"<h1>{SITE_TITLE}</h1>\n<ul>\n"
        '{%- for p in collections.entity | sort(attribute="data.title") %}\n'
        '<li><a href="{{ p.url }}">{{ p.data.title }}</a> ({{ p.data.entity_kind }}, {{ p.data.country }})</li>\n'
        "{%- endfor %}\n</ul>",
    )
    write(out / "src" / "_includes" / "entity.njk", layout)
    write(out / "src" / "index.njk", index)
    write(out / "src" / COLLECTION / f"{COLLECTION}.json", json.dumps({"tags": "entity", "layout": "entity.njk"}) + "\n")
    for e in ents:
        text = body(e, lambda j, name: f"[{name}](/{COLLECTION}/{slug(j)}/)", names)
        write(out / "src" / COLLECTION / f"{e.slug}.md", f"---\n{dump_yaml(e.facts)}---\n\n{text}")


PELICAN_CONFIG = """\
# Pelican settings for the build benchmark: one page per entity and an index, nothing else.
SITENAME = "{title}"
SITEURL = ""
PATH = "content"
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE = (2024, 1, 1)
DEFAULT_PAGINATION = False
RELATIVE_URLS = True
ARTICLE_URL = "{collection}/{{slug}}/"
ARTICLE_SAVE_AS = "{collection}/{{slug}}/index.html"
DIRECT_TEMPLATES = ["index"]
for _name in ("AUTHOR", "AUTHORS", "CATEGORY", "CATEGORIES", "TAG", "TAGS", "ARCHIVES"):
    globals()[_name + "_SAVE_AS"] = ""
FEED_ALL_ATOM = FEED_ALL_RSS = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
MARKDOWN = {{
    "extension_configs": {{
        "markdown.extensions.tables": {{}},
        "markdown.extensions.footnotes": {{}},
        "markdown.extensions.toc": {{}},
        "markdown.extensions.meta": {{}},
    }},
    "output_format": "html5",
}}
"""


def emit_pelican(out: Path, ents: list[Entity], names: list[str]) -> None:
    write(out / "pelicanconf.py", PELICAN_CONFIG.format(title=SITE_TITLE, collection=COLLECTION))
    # Pelican metadata are "Key: value" lines (Python-Markdown's meta extension): a list is the first
    # value plus indented continuation lines, and a stake is one "partner|percent|year" string.
    rows = fact_rows(
        lambda k: "{{ article." + k + " }}",
        "{% for s in article.stakes %}{% set p = s.split('|') %}<li>{{ p[0] }}: {{ p[1] }}% ({{ p[2] }})</li>{% endfor %}",
        '{{ article.sources | join(", ") }}',
    )
    templates = out / "theme" / "templates"
    write(
        templates / "article.html",
        page(
            "{{ article.title }}",
            f'<p><a href="{{{{ SITEURL }}}}/index.html">Index</a></p>\n<h1>{{{{ article.title }}}}</h1>\n'
            f'<table class="facts">\n{rows}\n</table>\n<article>\n{{{{ article.content }}}}\n</article>',
        ),
    )
    write(
        templates / "index.html",
        page(
            "{{ SITENAME }}",
            "<h1>{{ SITENAME }}</h1>\n<ul>\n"
            '{%- for a in articles | sort(attribute="title") %}\n'
            '<li><a href="{{ SITEURL }}/{{ a.url }}">{{ a.title }}</a> ({{ a.entity_kind }}, {{ a.country }})</li>\n'
            "{%- endfor %}\n</ul>",
        ),
    )
    write(templates / "page.html", page("{{ page.title }}", "<h1>{{ page.title }}</h1>\n{{ page.content }}"))
    (out / "theme" / "static").mkdir(parents=True, exist_ok=True)
    for e in ents:
        meta = [f"Title: {e.facts['title']}", f"Slug: {e.slug}"]
        for key, value in e.facts.items():
            if key == "title":
                continue
            if key == "stakes":
                value = [f"{s['partner']}|{s['percent']}|{s['year']}" for s in value]
            if isinstance(value, list):
                meta.append(f"{key}: {value[0]}")
                meta.extend(f"    {v}" for v in value[1:])
            else:
                meta.append(f"{key}: {value}")
        text = body(e, lambda j, name: f"[{name}]({{filename}}/{slug(j)}.md)", names)
        write(out / "content" / f"{e.slug}.md", "\n".join(meta) + "\n\n" + text)


MKDOCS_CONFIG = f"""\
site_name: "{SITE_TITLE}"
site_url: https://example.invalid/bench/
theme:
  name: mkdocs
markdown_extensions:
  - tables
  - footnotes
  - toc
"""


def emit_mkdocs(out: Path, ents: list[Entity], names: list[str]) -> None:
    # mkdocs.yml keeps the nav to the index page (pages outside the nav are still built): the default
    # nav lists all N pages on every page, which is quadratic (12 minutes at N=10,000). The default-nav
    # variant is mkdocs-fullnav.yml. The default theme does not print page.meta: the facts are not shown.
    write(out / "mkdocs.yml", MKDOCS_CONFIG + "nav:\n  - index.md\n")
    write(out / "mkdocs-fullnav.yml", MKDOCS_CONFIG)
    index = [f"# {SITE_TITLE}", ""]
    for e in ents:
        text = body(e, lambda j, name: f"[{name}]({slug(j)}.md)", names)
        write(out / "docs" / f"{e.slug}.md", f"---\n{dump_yaml(e.facts)}---\n\n# {e.facts['title']}\n\n{text}")
        index.append(f"- [{e.facts['title']}]({e.slug}.md) ({e.facts['entity_kind']}, {e.facts['country']})")
    write(out / "docs" / "index.md", "\n".join(index) + "\n")


# ------------------------------------------------------------------------------------------- main


def generate(n: int, out: Path, layout: str, theme: Path = THEME) -> None:
    """Write the corpus of `n` entities in `layout` into `out`, replacing whatever was there."""
    if layout not in LAYOUTS:
        raise SystemExit(f"unknown layout {layout!r}: choose from {', '.join(LAYOUTS)} or all")
    if n < 1:
        raise SystemExit("N must be at least 1")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    ents = entities(n)
    names = [e.facts["title"] for e in ents]
    if layout == "site_builder":
        emit_site_builder(out, ents, names, theme)
    else:
        {"hugo": emit_hugo, "eleventy": emit_eleventy, "pelican": emit_pelican, "mkdocs": emit_mkdocs}[layout](out, ents, names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of entity records")
    parser.add_argument("outdir", type=Path, help="folder to write (replaced if it exists)")
    parser.add_argument("--layout", default="site_builder", help=f"{', '.join(LAYOUTS)} or all (default: site_builder)")
    parser.add_argument("--theme", type=Path, default=THEME, help="folder with templates/ and static/ (default: this checkout)")
    args = parser.parse_args(argv)
    layouts = LAYOUTS if args.layout == "all" else (args.layout,)
    for layout in layouts:
        generate(args.n, args.outdir / layout if args.layout == "all" else args.outdir, layout, args.theme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
