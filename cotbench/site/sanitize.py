"""Make untrusted result data safe to put in file names, links and inline SVG."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_SAFE_SCHEMES = {"http", "https"}
# Everything the plotting library draws; anything else (script, foreignObject, style...) is dropped.
_SVG_TAGS = {"svg", "g", "path", "rect", "line", "text", "tspan", "circle", "ellipse", "polygon", "polyline",
             "title", "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop", "a"}
_URL_REF = re.compile(r"url\(#([^)]+)\)")


def slugify(text: str, max_len: int = 48) -> str:
    """A file-name-safe slug; a short hash of the original keeps distinct inputs distinct."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_len].strip("-")
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{base}-{digest}" if base else digest


def safe_url(url: str | None) -> str | None:
    """``url`` if it is http(s) or relative without a scheme; None for javascript:, data: and the like."""
    if not url:
        return None
    cleaned = "".join(ch for ch in url.strip() if ch >= " " and ch != "\x7f")
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme:
        return cleaned if parts.scheme.lower() in _SAFE_SCHEMES and parts.netloc else None
    # No scheme: a relative link, but never one that a browser could read as protocol-relative.
    return None if cleaned.startswith(("//", "\\")) or ":" in cleaned.split("/")[0] else cleaned


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sanitize_svg(
    svg: str,
    id_prefix: str,
    title: str,
    desc: str,
    links: dict[str, tuple[str, str]] | None = None,
) -> str:
    """Re-serialise plotting-library SVG so that it is safe and self-consistent inline in HTML.

    Parsing and re-serialising guarantees every data label is XML-escaped; unknown elements,
    event-handler and style attributes (the CSP forbids inline style) and foreign links are
    dropped; ids get ``id_prefix`` so several charts share a page. ``links`` maps a mark's
    aria-label (set by the chart code) to ``(relative href, readable label)``: such marks are
    wrapped in a link and get a ``<title>`` for a hover tooltip.
    """
    root = ET.fromstring(svg)
    links = links or {}
    _clean_attributes(root, id_prefix)
    _clean(root, id_prefix, links)
    root.set("role", "img")
    root.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    root.set("id", id_prefix)
    for tag, text, pos in (("desc", desc, 0), ("title", title, 0)):
        el = ET.Element(f"{{{SVG_NS}}}{tag}", {"id": f"{id_prefix}-{tag}"})
        el.text = text
        root.insert(pos, el)
    return ET.tostring(root, encoding="unicode")


def _clean_attributes(el: ET.Element, prefix: str) -> None:
    for name in list(el.attrib):
        local = _local(name).lower()
        value = el.attrib[name]
        if local.startswith("on") or local == "style" or local == "href":
            del el.attrib[name]  # hrefs are only ever added by _clean, from our own link table
        elif local == "id":
            el.set(name, f"{prefix}-{value}")
        elif "url(#" in value:
            el.set(name, _URL_REF.sub(lambda m: f"url(#{prefix}-{m.group(1)})", value))


def _clean(parent: ET.Element, prefix: str, links: dict[str, tuple[str, str]]) -> None:
    for idx, child in enumerate(list(parent)):
        if _local(child.tag) not in _SVG_TAGS:
            parent.remove(child)
            continue
        _clean_attributes(child, prefix)
        _clean(child, prefix, links)
        target = links.get(child.get("aria-label", ""))
        if target is not None:
            href, label = target
            href = safe_url(href) or "#"
            child.set("aria-label", label)
            tip = ET.Element(f"{{{SVG_NS}}}title")
            tip.text = label
            child.insert(0, tip)
            anchor = ET.Element(f"{{{SVG_NS}}}a", {"href": href})
            parent.remove(child)
            anchor.append(child)
            parent.insert(idx, anchor)
