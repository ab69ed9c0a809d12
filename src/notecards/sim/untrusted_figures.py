"""Figures written by ```` ```python sim ```` code are untrusted: they are decoded and re-encoded
before they reach a card, so that nothing but the picture itself ships in a deck.

* A PNG is decoded with Pillow and written again from its pixels alone: text chunks (tEXt, iTXt,
  zTXt), EXIF, ICC profiles, extra frames and bytes after IEND are gone; bytes that only start
  with the PNG signature do not decode and are refused.
* An SVG is parsed (no DTD internal subset, so no entities) and rebuilt from an allowlist of
  SVG drawing elements: `script`, `foreignObject`, `metadata`, links, animations and anything
  outside the SVG namespace are dropped, as are event attributes (`on…`) and every reference that
  leaves the document (`href`, `url(…)` and `@import` to anything but `#id`). An embedded image is
  kept only as a `data:image/png` that survives the PNG re-encoding above.

What this does not do: pixels (or a path's coordinates) can still encode data the code read, so
the sandbox's filesystem view is what keeps secrets out of reach (see `sim/sandbox.py`).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
import xml.etree.ElementTree as ET

from PIL import Image

MAX_PIXELS = 40_000_000  # a 2 × 20 Mpx figure is far above any card; a decompression bomb is not
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SVG_ELEMENTS = frozenset("""
    svg g defs path rect circle ellipse line polyline polygon text tspan use symbol clipPath mask
    pattern marker linearGradient radialGradient stop image style
""".split())
PLAIN_DOCTYPE = re.compile(r"<!DOCTYPE[^\[<>]*>", re.IGNORECASE)
EXTERNAL_URL = re.compile(r"url\(\s*(?![\s'\"]*#)|@import|expression\(", re.IGNORECASE)
PNG_DATA = "data:image/png;base64,"


def clean_figure(name: str, data: bytes) -> bytes | None:
    """The figure re-encoded, or None when it is not a valid PNG / SVG."""
    return clean_png(data) if name.lower().endswith(".png") else clean_svg(data)


def clean_png(data: bytes) -> bytes | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
                pixels = image.convert(mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    bare = Image.frombytes(mode, pixels.size, pixels.tobytes())  # no info, no chunks, one frame
    out = io.BytesIO()
    bare.save(out, "PNG", compress_level=6)
    return out.getvalue()


def clean_svg(data: bytes) -> bytes | None:
    try:
        text = PLAIN_DOCTYPE.sub("", data.decode("utf-8"), count=1)
    except UnicodeDecodeError:
        return None
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return None
    try:
        root = ET.fromstring(text)  # comments and processing instructions are not kept
    except ET.ParseError:
        return None
    if root.tag != f"{{{SVG_NS}}}svg":
        return None
    clean_element(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def clean_element(element: ET.Element) -> None:
    """Drop the unsafe attributes of `element` and, recursively, its unsafe children."""
    for key in list(element.attrib):
        if not safe_attribute(element, key):
            del element.attrib[key]
    if local_name(element.tag) == "style" and EXTERNAL_URL.search(element.text or ""):
        element.text = ""
    for child in list(element):
        if allowed_element(child):
            clean_element(child)
        else:
            element.remove(child)


def allowed_element(element: ET.Element) -> bool:
    if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{SVG_NS}}}"):
        return False
    name = local_name(element.tag)
    if name not in SVG_ELEMENTS:
        return False
    return name != "image" or inline_png(element)


def inline_png(image: ET.Element) -> bool:
    """Keep an <image> only as an embedded PNG, re-encoded like any other figure."""
    keys = [k for k in image.attrib if local_name(k) == "href"]
    if len(keys) != 1 or not image.attrib[keys[0]].startswith(PNG_DATA):
        return False
    try:
        raw = base64.b64decode("".join(image.attrib[keys[0]][len(PNG_DATA):].split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    clean = clean_png(raw)
    if clean is None:
        return False
    image.attrib[keys[0]] = PNG_DATA + base64.b64encode(clean).decode("ascii")
    return True


def safe_attribute(element: ET.Element, key: str) -> bool:
    name, value = local_name(key), element.attrib[key]
    if key.startswith("{") and not key.startswith((f"{{{XLINK_NS}}}", f"{{{SVG_NS}}}")):
        return False
    if name.lower().startswith("on"):
        return False
    if name == "href":
        return value.startswith("#") or (local_name(element.tag) == "image" and value.startswith(PNG_DATA))
    return not EXTERNAL_URL.search(value)


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
