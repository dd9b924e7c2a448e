"""OpenRosa 1.0 as ODK Collect speaks it: the form list, a form's manifest of media files, the
answer to a submission, and the settings code that points a phone at campo.

The documents are small and fixed, so they are built here with the standard library (the
OpenRosa form list and manifest APIs, and the response format); what campo reads from a
phone, the submission, goes through defusedxml in :mod:`geo.fieldkit.submissions`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree as ET

OPENROSA_VERSION = "1.0"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
CAMPO_NS = "https://campo.dev/openrosa"
ET.register_namespace("campo", CAMPO_NS)


@dataclass(frozen=True, slots=True)
class ListedForm:
    form_id: str
    name: str
    version: str
    xml: str
    download_url: str
    manifest_url: str


def md5(data: str | bytes) -> str:
    """OpenRosa's hash of a form or file: ``md5:`` and the hex digest (it tells Collect what
    changed; not a security measure)."""
    raw = data.encode() if isinstance(data, str) else data
    return "md5:" + hashlib.md5(raw, usedforsecurity=False).hexdigest()


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def form_list(forms: list[ListedForm]) -> str:
    """The form list (``/formList``) of the forms a phone may download."""
    root = ET.Element("xforms", xmlns=FORM_LIST_NS)
    for form in forms:
        item = ET.SubElement(root, "xform")
        for tag, value in (
            ("formID", form.form_id),
            ("name", form.name),
            ("version", form.version),
            ("hash", md5(form.xml)),
            ("downloadUrl", form.download_url),
            ("manifestUrl", form.manifest_url),
        ):
            ET.SubElement(item, tag).text = value
    return _document(root)


def manifest(files: list[tuple[str, str | bytes, str]]) -> str:
    """A form's manifest: each media file as (name, content, download URL)."""
    root = ET.Element("manifest", xmlns=MANIFEST_NS)
    for name, content, url in files:
        item = ET.SubElement(root, "mediaFile")
        ET.SubElement(item, "filename").text = name
        ET.SubElement(item, "hash").text = md5(content)
        ET.SubElement(item, "downloadUrl").text = url
    return _document(root)


def response(message: str, *, nature: str = "submit_success", state: str | None = None) -> str:
    """The OpenRosa response document Collect shows the agent after sending; ``state``, what
    the submission came to, goes in campo's own element (Collect reads only the message),
    for campo's web app to show a refused visit as refused."""
    root = ET.Element("OpenRosaResponse", xmlns=RESPONSE_NS)
    ET.SubElement(root, "message", nature=nature).text = message
    if state is not None:
        ET.SubElement(root, f"{{{CAMPO_NS}}}receipt", state=state)
    return _document(root)


def collect_settings(*, server_url: str, project: str) -> str:
    """What ODK Collect's QR code holds: its settings as JSON, zlib-compressed and base64
    encoded. The server URL carries the phone's key, so no user or password is set; forms are
    kept exactly as the server lists them and finalised visits are sent on any network."""
    settings = {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "periodic_form_updates_check": "every_fifteen_minutes",
            "autosend": "wifi_and_cellular",
            "delete_send": False,
        },
        "admin": {"change_server": False, "change_form_metadata": False},
        "project": {"name": project, "icon": "C", "color": "#163b5c"},
    }
    return base64.b64encode(zlib.compress(json.dumps(settings).encode())).decode()
