"""Start things: a new record from its collection's schema, or a whole new explainer project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import yamlfile
from .config import SLUG
from .errors import SiteError, did_you_mean
from .schema import resolve

GITIGNORE = "# made by site-builder: the built site and its cache\n_site/\n.site-builder-cache/\n"


def new_record(content: Path, collection: str, slug: str) -> list[Path]:
    """Write <content>/<collection>/<slug>.yaml (every field of the schema, commented) and its Markdown twin."""
    site_path = content / "site.yaml"
    site = yamlfile.load(yamlfile.decode(site_path.read_bytes(), "content/site.yaml"), "content/site.yaml").value
    collections = (site or {}).get("collections") or {}
    if collection not in collections:
        raise SiteError(
            "content/site.yaml",
            f"no collection named '{collection}'",
            did_you_mean(collection, collections) or f"declared: {', '.join(collections) or 'none'}",
        )
    if not SLUG.match(slug):
        raise SiteError(slug, f"bad slug '{slug}'", "use lower-case letters, digits and hyphens")
    schema_file = f"content/{collections[collection]['schema']}"
    schema_path = content / collections[collection]["schema"]
    schema = yamlfile.load(yamlfile.decode(schema_path.read_bytes(), schema_file), schema_file).value or {}
    yaml_path, md_path = content / collection / f"{slug}.yaml", content / collection / f"{slug}.md"
    for path in (yaml_path, md_path):
        if path.exists():
            raise SiteError(
                f"content/{path.relative_to(content).as_posix()}", "already exists", "choose another slug or edit the file"
            )
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(skeleton(schema, slug, collections[collection]["schema"]), encoding="utf-8")
    md_path.write_text(
        "## Overview\n\nWrite the narrative here. Cite a source with `[@id]` and link a record with `[[collection/slug]]`.\n",
        encoding="utf-8",
    )
    return [yaml_path, md_path]


def skeleton(schema: dict[str, Any], slug: str, schema_file: str) -> str:
    """A fact file with the title, every required field, and the optional ones commented out."""
    name = schema_file.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    lines = [
        f"# yaml-language-server: $schema=../../_site/schemas/{name}.json",
        f"title: {slug.replace('-', ' ').title()}",
        "summary: One sentence that says what this is.",
        "sources: []  # source ids from sources.yaml",
    ]
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        prop = resolve(prop, schema)
        about = " — ".join(str(p) for p in (prop.get("title"), prop.get("description")) if p)
        example = _example(prop)
        if key in required:
            lines.append(f"{key}: {example}  # required: {about}")
        else:
            lines.append(f"# {key}: {example}  # {about}")
    return "\n".join(lines) + "\n"


def _example(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return str(prop["enum"][0])
    kind = prop.get("type", "string")
    if prop.get("format") == "date":
        return "2020-01-31"
    return {"integer": "0", "number": "0.0", "boolean": "false", "array": "[]", "object": "{}"}.get(str(kind), '""')


def init_project(folder: Path) -> None:
    """Create a new explainer project that builds at once: content/ only (the default theme ships with
    site_builder; add templates/ or static/ files beside content/ to override it file by file)."""
    if folder.exists() and any(folder.iterdir()):
        raise SiteError(folder.as_posix(), "folder is not empty", "choose a new folder", line=0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    for name, text in STARTER.items():
        path = folder / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


STARTER = {
    "site.yaml": """\
title: My explainer
description: One sentence that tells readers what this site explains.
language: en
base_url: https://example.github.io/my-explainer/
author: Your name
publisher: Your name
licence: {name: CC BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}
methodology: pages/methodology
navigation:
  - {title: Topics, link: topics}
  - {title: Timeline, link: timeline}
  - {title: Sources, link: bibliography}
collections:
  topics:
    singular: topic
    plural: topics
    title: Topics
    description: The things this explainer is about.
    schema: schemas/topic.schema.yaml
    sort: title
    columns: [kind]
""",
    "schemas/topic.schema.yaml": """\
type: object
properties:
  kind: {type: string, title: Kind, description: What sort of thing this is}
  started: {type: string, format: date, title: Started}
  related: {type: array, title: Related topics, items: {type: string, x-ref: topics}}
""",
    "topics/example.yaml": """\
# yaml-language-server: $schema=../../_site/schemas/topic.schema.json
title: An example topic
summary: Replace this record with your first real one.
kind: {value: example, status: unconfirmed, note: No source says this yet; the page marks it so readers know.}
started: {value: 2020-01-31, sources: [example-source]}
""",
    "topics/example.md": """\
## What it is

A sentence with a citation [@example-source].
""",
    "sources.yaml": """\
- id: example-source
  title: An example source
  publisher: Example Publisher
  published: 2020-01-31
  url: https://example.org/
""",
    "timeline.yaml": """\
- date: 2020-01-31
  title: Something happened to [[topics/example]]
  sources: [example-source]
""",
    "home.md": """\
---
title: My explainer
description: The story in brief.
---
Start with [[topics/example]].
""",
    "pages/methodology.md": """\
---
title: Methodology
---
## Markers

Facts no source confirms are marked *unconfirmed*; facts resting on a weak source are marked *weak source*.
""",
}
