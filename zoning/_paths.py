"""Where things are: the bundled data folders, and the file names of the pages we write.

A leaf module (it imports nothing from the package) so that every stage, from the catalog to
the report and the maps, finds data and names pages the same way.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

__all__ = ["data_dir", "page_name"]


def data_dir(name: str) -> Path:
    """A top-level data folder (``layers``, ``seeds``) of the toolkit.

    Parameters
    ----------
    name : str
        The folder's name.

    Returns
    -------
    Path
        The source tree's folder, else the copy a wheel installs in ``<prefix>/share/zoning``,
        else the source tree's path (which then does not exist).
    """
    here = Path(__file__).resolve().parent.parent / name
    if here.is_dir():
        return here
    installed = Path(sys.prefix) / "share" / "zoning" / name
    return installed if installed.is_dir() else here


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def page_name(site_id: Any) -> str:
    """A file name for a site's page: ASCII slug of the id plus a short hash of the exact id.

    The slug keeps names readable (``"Plant A/2" -> "plant-a-2-…"``); the hash keeps ids that
    slug alike apart (``"a/b"`` and ``"a-b"``) and gives ids with no ASCII letters (Chinese
    names, ``"../"``) a name.  Only ``[a-z0-9-]`` appear, so no path traversal, no case
    collisions and no URL quoting issues.  The report writes the pages; the screening map
    links to them by the same name.

    Parameters
    ----------
    site_id : object
        The site's id (``None`` is treated as the empty string).

    Returns
    -------
    str
        The name without an extension.
    """
    text = "" if site_id is None else str(site_id)
    slug = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_RE.sub("-", slug.lower()).strip("-")[:40].strip("-") or "site"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}"
