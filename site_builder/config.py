"""`content/site.yaml`: the site's settings and the collections it declares."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from . import schema as schemas
from .errors import SiteError, did_you_mean
from .labels import Labels, known_labels
from .yamlfile import Located

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESERVED_NAMES = {"pages", "timeline", "glossary", "bibliography", "sources", "charts", "home", "schemas", "static"}
PAGE_SIZE = 100  # rows per page of a collection's index, unless the collection sets `page_size:` (0: one page)

_STR = {"type": "string"}
_LANGUAGE_CODE = {"type": "string", "pattern": "^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)*$"}
SITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description", "base_url", "collections"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "language": _LANGUAGE_CODE,
        "languages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name"],
                "properties": {
                    "code": _LANGUAGE_CODE,
                    "name": {"type": "string", "minLength": 1},
                    "prefix": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
                    "complete": {"type": "boolean"},
                },
            },
        },
        "base_url": {"type": "string", "format": "uri"},
        "author": _STR,
        "publisher": _STR,
        "licence": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {"name": _STR, "url": {"type": "string", "format": "uri"}},
        },
        "cname": {"type": "string", "pattern": "^[a-z0-9.-]+$"},
        "methodology": _STR,
        "story_date": {"type": "string", "format": "date"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "allow_html": {"type": "boolean"},
        "navigation": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "link"],
                "properties": {"title": _STR, "link": _STR},
            },
        },
        "collections": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["schema"],
                "properties": {
                    "singular": _STR,
                    "plural": _STR,
                    "title": _STR,
                    "description": _STR,
                    "schema": _STR,
                    # /<anything without . or .. segments>/{slug}/
                    "url": {"type": "string", "pattern": "^/((?!\\.\\.?/)[^{}/]+/)*\\{slug\\}/$"},
                    "sort": _STR,
                    "columns": {"type": "array", "items": _STR},
                    "template": _STR,
                    "jsonld_type": {"type": "string", "pattern": "^[A-Z][A-Za-z]+$"},
                    "page_size": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Collection:
    """A kind of record the content declares, e.g. companies."""

    name: str
    singular: str
    plural: str
    title: str
    description: str
    schema_file: str
    url: str
    sort: str
    columns: tuple[str, ...]
    template: str
    jsonld_type: str
    page_size: int = PAGE_SIZE  # rows per index page; 0: the whole index on one page


@dataclass(frozen=True)
class Language:
    """One edition of the site: its BCP 47 code, its name in itself, and its prefix — the URL folder it is published
    under and the suffix of its translation files ('zh': /zh/…, catl.zh.md); the first language has none."""

    code: str
    name: str
    prefix: str = ""
    complete: bool = False

    @property
    def folder(self) -> str:
        """The folder of its pages: '' for the first language, 'zh/' for one with prefix zh."""
        return f"{self.prefix}/" if self.prefix else ""


@dataclass(frozen=True)
class NavItem:
    title: str
    link: str


@dataclass(frozen=True, eq=False)
class SiteConfig:
    """Everything `site.yaml` says, with defaults filled in."""

    title: str
    description: str
    language: str
    languages: tuple[Language, ...]
    base_url: str
    author: str
    publisher: str
    licence_name: str
    licence_url: str
    cname: str
    methodology: str
    story_date: str
    labels: dict[str, str]
    allow_html: bool
    navigation: tuple[NavItem, ...]
    collections: tuple[Collection, ...]
    marks: dict[tuple[str | int, ...], tuple[int, int]]

    @functools.cached_property
    def interface(self) -> Labels:
        """The interface labels, dates and numbers of the site's language, with site.yaml's `labels:`."""
        return Labels(self.language, self.labels)

    def collection(self, name: str) -> Collection | None:
        """The collection called `name`, if declared."""
        return next((c for c in self.collections if c.name == name), None)


def parse_config(doc: Located, path: str, base_url: str | None) -> tuple[SiteConfig | None, list[SiteError]]:
    """Validate `site.yaml` and turn it into a `SiteConfig` (None when it is unusable)."""
    data = doc.value
    if not isinstance(data, dict):
        return None, [SiteError(path, "site.yaml must be a mapping of settings", "start with 'title: …'")]
    errors = schemas.validate(data, SITE_SCHEMA, path, doc.mark, doc.key_mark)
    for name in data.get("collections", {}) if isinstance(data.get("collections"), dict) else {}:
        if not SLUG.match(name) or name in RESERVED_NAMES:
            why = "is reserved" if name in RESERVED_NAMES else "must match [a-z0-9][a-z0-9-]*"
            errors.append(
                SiteError(path, f"collection name '{name}' {why}", "rename the collection", *doc.key_mark(("collections", name)))
            )
    errors += _language_problems(data, path, doc)
    for label in data.get("labels", {}) if isinstance(data.get("labels"), dict) else {}:
        if label not in known_labels():
            hint = did_you_mean(label, known_labels()) or "see docs/languages.md#every-label for the list"
            errors.append(SiteError(path, f"unknown label {label!r}", hint, *doc.key_mark(("labels", label))))
    if base_url is not None and not schemas.formats().conforms(base_url, "uri"):
        hint = "give one like https://user.github.io/repo/"
        errors.append(SiteError("--base-url", f"{base_url!r} is not a web address", hint, 0))
    if errors:
        return None, errors
    languages = _languages(data)
    base = base_url or data["base_url"]
    base = base.rstrip("/") + "/"
    licence = data.get("licence", {})
    return SiteConfig(
        title=data["title"],
        description=data["description"],
        language=languages[0].code,
        languages=languages,
        base_url=base,
        author=data.get("author", ""),
        publisher=data.get("publisher", ""),
        licence_name=licence.get("name", ""),
        licence_url=licence.get("url", ""),
        cname=data.get("cname", ""),
        methodology=data.get("methodology", ""),
        story_date=str(data.get("story_date", "")),
        labels=dict(data.get("labels", {})),
        allow_html=data.get("allow_html", False),
        navigation=tuple(NavItem(n["title"], n["link"]) for n in data.get("navigation", [])),
        collections=tuple(_collection(name, c, languages[0].code) for name, c in data["collections"].items()),
        marks=dict(doc.marks),
    ), []


def _languages(data: dict[str, Any]) -> tuple[Language, ...]:
    """The site's editions: `languages:`, or the one `language:` (English when neither is given)."""
    given = data.get("languages") or [{"code": data.get("language", "en"), "name": ""}]
    first, *others = given
    return (
        Language(first["code"], first["name"], "", True),
        *(
            Language(g["code"], g["name"], g.get("prefix") or g["code"].split("-")[0].lower(), g.get("complete", False))
            for g in others
        ),
    )


def _language_problems(data: dict[str, Any], path: str, doc: Located) -> list[SiteError]:
    given = data.get("languages")
    if not isinstance(given, list) or not all(isinstance(g, dict) and isinstance(g.get("code"), str) for g in given):
        return []
    errors = []
    if "language" in data and given and data["language"] != given[0]["code"]:
        errors.append(
            SiteError(
                path,
                f"language is {data['language']!r} but the first of languages is {given[0]['code']!r}",
                "the first of languages is the site's own language: remove 'language:' or make them agree",
                *doc.key_mark(("language",)),
            )
        )
    seen: set[str] = set()
    for i, g in enumerate(given[1:], 1):
        prefix = g.get("prefix") or g["code"].split("-")[0].lower()
        if prefix in seen or prefix in RESERVED_NAMES or prefix in data.get("collections", {}):
            errors.append(
                SiteError(
                    path,
                    f"language prefix '{prefix}' is taken",
                    "give this language another prefix:",
                    *doc.mark(("languages", i)),
                )
            )
        seen.add(prefix)
    return errors


def _collection(name: str, c: dict[str, Any], language: str) -> Collection:
    plural = c.get("plural", name.replace("-", " "))
    return Collection(
        name=name,
        singular=c.get("singular") or singular_of(plural, language),
        plural=plural,
        title=c.get("title", plural.capitalize()),
        description=c.get("description", ""),
        schema_file=c["schema"],
        url=c.get("url", f"/{name}/{{slug}}/"),
        sort=c.get("sort", "title"),
        columns=tuple(c.get("columns", [])),
        template=c.get("template", "record.html"),
        jsonld_type=c.get("jsonld_type", "Thing"),
        page_size=c.get("page_size", PAGE_SIZE),
    )


def singular_of(plural: str, language: str) -> str:
    """The singular of an English plural ('people' → 'person'); in other languages the word as it is (set
    `singular:` in site.yaml)."""
    if language.split("-")[0].lower() != "en":
        return plural
    import inflection  # the Rails inflector's rules: people → person, analyses → analysis

    words = plural.rsplit(" ", 1)
    return " ".join([*words[:-1], inflection.singularize(words[-1])])
