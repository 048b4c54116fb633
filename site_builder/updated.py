"""When each page's content last changed: the newest of its source files' dates, else a date the content gives."""

from __future__ import annotations

from .content import Content


def page_dates(content: Content) -> dict[str, str]:
    """Address → YYYY-MM-DD for every page whose sources have a known date."""
    d = content.dates
    dates: dict[str, str] = {}

    def newest(address: str, files: list[str], given: object = None) -> None:
        found = [d[f] for f in files if f in d]
        value = max(found) if found else (str(given) if given else "")
        if value:
            dates[address] = value

    for record in content.all_records():
        newest(record.address, [record.yaml_path, record.md_path], record.data.get("updated"))
    for coll in content.config.collections:
        members = [dates[r.address] for r in content.records.get(coll.name, []) if r.address in dates]
        if members:
            dates[coll.name] = max(members)
    for page in content.pages:
        newest(f"pages/{page.slug}", [page.path], page.meta.get("updated"))
    if content.home:
        newest("home", [content.home.path], content.home.meta.get("updated"))
    for address, name in (("timeline", "timeline"), ("glossary", "glossary"), ("bibliography", "sources"), ("charts", "charts")):
        newest(address, [f"content/{name}.yaml"])
    return dates
