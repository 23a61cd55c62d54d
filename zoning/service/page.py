"""The web page at ``/``: draw or upload a site, set the project, screen, download the documents.

The page is one static HTML file (``static/index.html``) with its script (``page.js``) and style
sheet (``page.css``); everything it shows comes from the service as JSON and is written into
the page with ``textContent`` (never as HTML).  Its scripts and style sheets are installed
files only, served from ``/static/``: Leaflet 1.9.3 from ``XStatic-Leaflet`` and Leaflet.draw
from the maps' vendored plugins (:mod:`zoning.webmap.assets`).  No CDN: the page works with no
network.  OpenStreetMap tiles are offered behind a switch that says it goes online; the strict
Content-Security-Policy (:data:`CONTENT_SECURITY_POLICY`) allows images from that one host and
nothing else outside the service.

Routes (none in the OpenAPI document):

* ``GET /``: the page;
* ``GET /static/{name}``: its assets, looked up by name in a fixed table (a client's path never
  reaches the file system);
* ``GET /industries``: the GB/T 4754-2017 sections (门类) and major divisions (大类) the page's
  searchable list offers;
* ``GET /page/config``: the words and choices of the form (verdicts, natures, flags, choices
  with their explanations from :mod:`zoning.labels`), today's date in Shanghai and whether
  the layers or rules are demonstration data.
"""

from __future__ import annotations

import json
import mimetypes
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from .problems import Problem

router = APIRouter(include_in_schema=False)

#: The page's own files.
STATIC = Path(__file__).resolve().parent / "static"

#: The one tile host the page may ask for, and only when the reader switches tiles on.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_HOST = "https://tile.openstreetmap.org"

#: The page's Content-Security-Policy: its own scripts and styles only (no inline script, no
#: eval), requests to the service only, images from the service, ``data:``/``blob:`` URIs and
#: the OpenStreetMap tile host (used only when the reader switches tiles on).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    f"img-src 'self' data: blob: {OSM_HOST}; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: Headers of the page and its assets.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

#: The page's own files served under ``/static/page/``.
PAGE_FILES = ("page.js", "page.css")


@cache
def asset_table() -> dict[str, Path]:
    """Every file the page may load, by its URL path under ``/static/``.

    Returns
    -------
    dict of str to Path
        ``"leaflet-1.9.3/leaflet.js"``, ``"leaflet-draw-1.0.4/leaflet.draw.css"``, the images
        their style sheets use (``"leaflet-1.9.3/images/layers.png"`` ...), Leaflet's marker
        images and ``"page/page.js"``, ``"page/page.css"``.

    Raises
    ------
    MissingDependencyError
        XStatic-Leaflet is not installed.
    """
    from ..webmap.assets import _css_files, assets_for

    table: dict[str, Path] = {}
    for asset in assets_for(["draw"]):
        if asset.folder.startswith("zoning/"):
            continue  # the maps' own script; the page has its own
        table[asset.folder] = asset.path
        if asset.kind == "css":
            base = asset.path.parent
            prefix = asset.folder.rsplit("/", 1)[0]
            for image in _css_files(asset):
                table[f"{prefix}/{image.relative_to(base).as_posix()}"] = image
    leaflet = next(a for a in assets_for([]) if a.folder.endswith("leaflet.js")).path.parent
    for image in sorted((leaflet / "images").glob("*.png")):
        table[f"leaflet-1.9.3/images/{image.name}"] = image
    for name in PAGE_FILES:
        table[f"page/{name}"] = STATIC / name
    return table


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index() -> HTMLResponse:
    """The page, with its Content-Security-Policy.

    Returns
    -------
    HTMLResponse
    """
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=SECURITY_HEADERS)


@router.get("/static/{name:path}")
def static_file(name: str) -> FileResponse:
    """One of the page's assets, by its name in :func:`asset_table`.

    Parameters
    ----------
    name : str
        The path under ``/static/`` as requested; it is only ever a key of the table.

    Returns
    -------
    FileResponse

    Raises
    ------
    Problem
        404 for a name the table does not hold.
    """
    path = asset_table().get(name)
    if path is None:
        raise Problem(404, f"no such page asset: {name[:80]}", kind="not-found")
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media = "text/javascript; charset=utf-8"
    elif path.suffix == ".css":
        media = "text/css; charset=utf-8"
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return FileResponse(path, media_type=media, headers=headers)


@cache
def industries() -> dict[str, Any]:
    """The GB/T 4754-2017 sections and major divisions, for the page's searchable list.

    Returns
    -------
    dict
        ``standard``, ``sections``: ``[{"code": "C", "zh", "en"}]`` and ``divisions``:
        ``[{"code": "C26", "division": "26", "section": "C", "zh", "en"}]`` (``code`` is
        what the page sends as ``industry``; :func:`zoning.sites.parse_industry_code`
        accepts it).
    """
    from ..report.models import INDUSTRY_SECTION_NAMES
    from ..schema import INDUSTRY_SECTION_OF

    data = json.loads((STATIC / "gbt4754.json").read_text(encoding="utf-8"))
    divisions = []
    for row in data["divisions"]:
        section = INDUSTRY_SECTION_OF[int(row["code"])]
        divisions.append(
            {
                "code": f"{section}{row['code']}",
                "division": row["code"],
                "section": section,
                "zh": row["zh"],
                "en": row["en"],
            }
        )
    sections = [{"code": s, "zh": zh, "en": en} for s, (zh, en) in INDUSTRY_SECTION_NAMES.items()]
    return {"standard": data["standard"], "sections": sections, "divisions": divisions}


@router.get("/industries")
def industries_route() -> JSONResponse:
    """The industry list (:func:`industries`).

    Returns
    -------
    JSONResponse
    """
    return JSONResponse(industries(), headers={"Cache-Control": "public, max-age=3600"})


def _pairs(mapping: dict[str, tuple]) -> list[dict[str, str]]:
    return [{"code": k, "zh": v[0], "en": v[1]} for k, v in mapping.items()]


def page_config(state: Any, paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The words and choices of the page's form, from :mod:`zoning.labels`.

    Parameters
    ----------
    state : ServiceState
        The running service (whether its data are the demonstration data).
    paths : dict, optional
        The ``paths`` of the application's OpenAPI document: whether ``POST /jobs`` exists
        (uploads of other formats).

    Returns
    -------
    dict
        ``verdicts`` (code, zh, en, color), ``natures``, ``flags`` and ``choices`` (each with
        its one-line explanation ``help_zh`` / ``help_en`` and the command-line option),
        ``clause_results``, ``today``, ``demonstration``, ``jobs``, ``tiles``.
    """
    from ..dates import today
    from ..labels import (
        ATTRIBUTE_LABELS,
        CHOICE_LABELS,
        CLAUSE_RESULT_LABELS,
        FLAG_LABELS,
        NATURE_LABELS,
        VERDICT_LABELS,
    )
    from ..webmap.popups import VERDICT_COLORS

    def explained(code: str, zh: str, en: str) -> dict[str, str]:
        help_zh, help_en, option = ATTRIBUTE_LABELS[code]
        return {
            "code": code,
            "zh": zh,
            "en": en,
            "help_zh": help_zh,
            "help_en": help_en,
            "option": option,
        }

    jobs = "post" in ((paths or {}).get("/jobs") or {})
    return {
        "verdicts": [
            {"code": k, "zh": zh, "en": en, "color": VERDICT_COLORS.get(k, "#777777")}
            for k, (zh, en) in VERDICT_LABELS.items()
        ],
        "industry": explained("industry", "行业", "industry"),
        "nature": {**explained("nature", "建设性质", "nature"), "values": _pairs(NATURE_LABELS)},
        "flags": [explained(code, zh, en) for code, zh, en in FLAG_LABELS],
        "choices": [
            {**explained(code, zh, en), "values": _pairs(values)}
            for code, zh, en, values in CHOICE_LABELS
        ],
        "clause_results": _pairs(CLAUSE_RESULT_LABELS),
        "today": today().isoformat(),
        "demonstration": bool(state.is_demonstration),
        "jobs": jobs,
        "tiles": {"url": OSM_TILES, "attribution": "© OpenStreetMap contributors"},
    }


@router.get("/page/config")
def config_route(request: Request) -> JSONResponse:
    """The form's words and choices (:func:`page_config`).

    Parameters
    ----------
    request : Request

    Returns
    -------
    JSONResponse
    """
    state = request.app.state.zoning
    paths = request.app.openapi().get("paths", {})
    return JSONResponse(page_config(state, paths))


def basemap(state: Any) -> dict[str, Any]:
    """The vector basemap the page draws under the sites: districts, sea and main water.

    The same simplified outlines as the maps' built-in basemap
    (:func:`zoning.webmap.features.vector_basemap`), computed once per service; the features
    carry no properties.

    Parameters
    ----------
    state : ServiceState

    Returns
    -------
    dict
        ``{"parts": [{"data": FeatureCollection, "style": {...}}]}``; no parts when the
        catalog has no district, sea or water layer.
    """
    cached = getattr(state, "_page_basemap", None)
    if cached is None:
        from ..webmap.features import vector_basemap

        found = vector_basemap(state.layers, shift=None)
        cached = {"parts": found["parts"] if found else []}
        state._page_basemap = cached
    return cached


@router.get("/page/basemap")
def basemap_route(request: Request) -> JSONResponse:
    """The vector basemap (:func:`basemap`).

    Parameters
    ----------
    request : Request

    Returns
    -------
    JSONResponse
    """
    return JSONResponse(
        basemap(request.app.state.zoning), headers={"Cache-Control": "public, max-age=3600"}
    )
