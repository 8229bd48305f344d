"""An SVG made safe to inline in an HTML report: drawing elements only, no script, no event
handlers, no foreign objects, no reference to anything outside the document.

A chart's SVG comes from vl-convert or from the chart cache on disk, which another program could
have written; whatever it holds, what `clean` returns can neither run code nor fetch anything.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# Elements that only draw (vl-convert writes svg, g, path, rect, line and text).
DRAWING = frozenset({"svg", "g", "path", "rect", "line", "polyline", "polygon", "circle", "ellipse", "text",
                     "tspan", "title", "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop",
                     "mask", "pattern", "symbol", "use", "marker"})
# Attributes whose value may name another resource: only a same-document "#id" is kept.
LINKING = frozenset({"href", "src", "action", "formaction", "xml:base", "base"})
EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
EMPTY = f'<svg xmlns="{SVG_NS}" width="1" height="1"/>'

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def clean(svg: str) -> str:
    """The SVG with every element but the drawing ones removed, with their content, and every event
    handler, external link and external url() dropped; an empty SVG when it does not parse."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return EMPTY
    if _local(root.tag) != "svg":
        return EMPTY
    _prune(root)
    return ET.tostring(root, encoding="unicode")


def _local(name: str) -> str:
    """A tag or attribute name without its {namespace}."""
    return name.rsplit("}", 1)[-1]


def _prune(element: ET.Element) -> None:
    """Drop unsafe children (recursively) and attributes of `element` in place."""
    for name in list(element.attrib):
        local, value = _local(name).lower(), element.attrib[name]
        if (local.startswith("on") or (local in LINKING and not value.strip().startswith("#"))
                or EXTERNAL_URL.search(value) or "javascript:" in value.lower()):
            del element.attrib[name]
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) not in DRAWING \
                or (child.tag.startswith("{") and not child.tag.startswith(f"{{{SVG_NS}}}")):
            element.remove(child)
        else:
            _prune(child)
