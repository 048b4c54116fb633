"""An Atom feed of the records, newest change first."""

from __future__ import annotations

import html

from .resolve import Site
from .urls import Urls

FEED = "feed.xml"
MAX_ENTRIES = 50


def atom(site: Site, urls: Urls, updated: dict[str, str]) -> bytes:
    """The feed: records with a known change date, newest first (then by address, for stable output)."""
    content = site.content
    dated = sorted(
        ((updated[r.address], r) for r in content.all_records() if updated.get(r.address)),
        key=lambda pair: (pair[0], pair[1].address),
        reverse=True,
    )[:MAX_ENTRIES]
    newest = dated[0][0] if dated else "1970-01-01"
    author = content.config.author or content.config.publisher or content.config.title
    pre = site.prefix  # an edition in another language has its own feed, of its own pages
    entries = "".join(
        f"<entry><title>{xml_text(r.title)}</title><id>{xml_text(urls.absolute(pre + site.targets[r.address].path))}</id>"
        f'<link href="{xml_text(urls.absolute(pre + site.targets[r.address].path))}"/><updated>{date}T00:00:00Z</updated>'
        f"<summary>{xml_text(str(r.data.get('summary', '')))}</summary></entry>\n"
        for date, r in dated
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{xml_text(content.config.language)}">\n'
        f"<title>{xml_text(content.config.title)}</title><subtitle>{xml_text(content.config.description)}</subtitle>\n"
        f'<link href="{xml_text(urls.absolute(pre + FEED))}" rel="self"/><link href="{xml_text(urls.absolute(pre))}"/>\n'
        f"<id>{xml_text(urls.absolute(pre))}</id><updated>{newest}T00:00:00Z</updated>"
        f"<author><name>{xml_text(author)}</name></author>\n{entries}</feed>\n"
    ).encode()


def xml_text(text: str) -> str:
    """Text for XML (the feed, the sitemap): &, < and > escaped (html's escape, as xml.sax.saxutils's without its
    imports of urllib, http and email)."""
    return html.escape(text, quote=False)
