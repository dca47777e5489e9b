"""Logo and favicon uploads: checked by their content (never their name), cleaned, stored by hash.

Raster images (PNG, JPEG, and ICO for favicons) are decoded by Pillow, bounded in pixels (no
decompression bombs) and re-encoded, which drops metadata and anything hidden after the image. SVG is
XML that browsers run, so it is parsed with defusedxml (no DTDs, no entities) and refused, with the
reason, if it holds anything that can run or load: `<script>`, `<foreignObject>`, event attributes
(`onload`…), links other than in-document `#fragments` and inline raster `data:` images, or styles
that load URLs. A refused file is never stored.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException
from PIL import Image, UnidentifiedImageError

from app.services.branding import storage
from app.services.errors import Invalid

LIMITS = {"logo": 1024 * 1024, "favicon": 256 * 1024}
MAX_PIXELS = 4096 * 4096
_RASTER = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "ICO": ("ico", "image/x-icon")}
_SVG_TYPE = "image/svg+xml"
_FORBIDDEN_SVG = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
_STYLE_URL = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


@dataclass(frozen=True)
class Stored:
    file: str
    content_type: str
    size: int

    def as_field(self) -> dict:
        return {"file": self.file, "content_type": self.content_type, "size": self.size}


def store(schema: str | None, kind: str, data: bytes) -> Stored:
    """Check, clean and store an upload of `kind` (logo or favicon) for a tenant (None: the platform)."""
    if kind not in LIMITS:
        raise Invalid(f"unknown brand file {kind!r}; upload a logo or a favicon")
    if not data:
        raise Invalid(f"the {kind} file is empty", field=kind)
    if len(data) > LIMITS[kind]:
        raise Invalid(f"the {kind} is {len(data):,} bytes; the most allowed is {LIMITS[kind]:,} bytes", field=kind)
    if _looks_like_svg(data):
        cleaned, extension, content_type = clean_svg(data), "svg", _SVG_TYPE
    else:
        cleaned, extension, content_type = _clean_raster(kind, data)
    name = f"{hashlib.sha256(cleaned).hexdigest()[:32]}.{extension}"
    path = storage.asset_path(schema, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(cleaned)
        temporary.replace(path)
    return Stored(name, content_type, len(cleaned))


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or head.startswith(b"<!--") or b"<svg" in head


def _clean_raster(kind: str, data: bytes) -> tuple[bytes, str, str]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Invalid(f"the {kind} is not a PNG, JPEG or SVG image ({exc.__class__.__name__})", field=kind) from exc
    if image_format not in _RASTER or (image_format == "ICO" and kind != "favicon"):
        raise Invalid(f"the {kind} is {image_format}; PNG, JPEG or SVG only"
                      + (" (or ICO for a favicon)" if kind == "favicon" else ""), field=kind)
    if width * height > MAX_PIXELS:
        raise Invalid(f"the {kind} is {width}x{height} pixels; at most 4096x4096", field=kind)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        out = io.BytesIO()
        if image_format == "JPEG":
            image.convert("RGB").save(out, format="JPEG", quality=90)
        elif image_format == "ICO":
            image.save(out, format="ICO")
        else:
            image.save(out, format="PNG", optimize=True)
    extension, content_type = _RASTER[image_format]
    return out.getvalue(), extension, content_type


def clean_svg(data: bytes) -> bytes:
    """The SVG as uploaded, once nothing in it can run or load; Invalid with the reason otherwise."""
    try:
        root = SafeXML.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Invalid("the SVG declares a DTD or entities, which are not allowed", field="logo") from exc
    except SafeXML.ParseError as exc:
        raise Invalid(f"the SVG is not well-formed XML ({exc})", field="logo") from exc
    if _local(root.tag) != "svg":
        raise Invalid("the file is XML but not an SVG image", field="logo")
    for element in root.iter():
        tag = _local(element.tag)
        if tag in _FORBIDDEN_SVG:
            raise Invalid(f"the SVG contains a <{tag}> element, which is not allowed", field="logo")
        if tag in ("set", "animate") and "href" in element.attrib.get("attributeName", "").lower():
            raise Invalid(f"the SVG's <{tag}> rewrites a link, which is not allowed", field="logo")
        for attribute, value in element.attrib.items():
            name = _local(attribute)
            if name.startswith("on"):
                raise Invalid(f"the SVG has an event attribute ({name}) on <{tag}>, which is not allowed",
                              field="logo")
            if name in ("href", "src") and not (value.startswith("#") or _SAFE_DATA.match(value)):
                raise Invalid(f"the SVG links to {value[:60]!r} on <{tag}>; only #fragments and inline "
                              "PNG/JPEG images are allowed", field="logo")
            if name == "style" and (_STYLE_URL.search(value) or "expression" in value.lower()):
                raise Invalid(f"the SVG's style on <{tag}> loads a URL, which is not allowed", field="logo")
        if tag == "style" and element.text and (_STYLE_URL.search(element.text) or "@import" in element.text):
            raise Invalid("the SVG's <style> loads a URL or imports a stylesheet, which is not allowed",
                          field="logo")
    return data


def _local(tag: str) -> str:
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""
