"""A non-editable install carries every file the shipped catalog and rule set read.

The rule set names stored law texts (``documents.*.text``) and ``load_rules`` refuses a text
that is missing, so a texts file left out of ``[tool.setuptools.data-files]`` would break
every screening of an installed ``zoning``.  This test reads ``pyproject.toml`` and the two
YAML files directly (no ``zoning`` code) and checks each referenced file is shipped, into the
same relative place.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _shipped() -> set[str]:
    """Repository paths the data-files patterns match (relative, POSIX)."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped: set[str] = set()
    for target, patterns in conf["tool"]["setuptools"]["data-files"].items():
        assert target.startswith("share/zoning/")
        for pattern in patterns:
            matches = sorted(ROOT.glob(pattern))
            assert matches, f"data-files pattern {pattern!r} matches nothing"
            for m in matches:
                rel = m.relative_to(ROOT).as_posix()
                # Installed under share/zoning/<same folder>: the folder must agree.
                assert target == "share/zoning/" + str(Path(rel).parent.as_posix()), (target, rel)
                shipped.add(rel)
    return shipped


def test_rule_set_texts_are_shipped():
    rules_file = ROOT / "layers" / "rules" / "shanghai_demo.yml"
    data = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    texts = [d["text"] for d in data["documents"].values() if d.get("text")]
    assert len(texts) >= 10
    shipped = _shipped()
    assert "layers/rules/shanghai_demo.yml" in shipped
    for text in texts:
        rel = (rules_file.parent / text).resolve().relative_to(ROOT).as_posix()
        assert rel in shipped, f"{rel} is read by the rule set but not installed"


def test_catalog_sources_are_shipped():
    catalog = ROOT / "layers" / "catalog.yml"
    data = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    shipped = _shipped()
    for layer in data["layers"]:
        rel = (catalog.parent / layer["source"]).resolve().relative_to(ROOT).as_posix()
        assert rel in shipped, f"{rel} (layer {layer['id']}) is not installed"


def test_document_fonts_and_their_licence_are_package_data():
    """The PDF embeds the shipped font subset; an install without it could not write a PDF,
    and the SIL Open Font License must travel with the font."""
    import fnmatch

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = conf["tool"]["setuptools"]["package-data"]["zoning"]
    fonts = ROOT / "zoning" / "documents" / "fonts"
    files = sorted(p.relative_to(ROOT / "zoning").as_posix() for p in fonts.iterdir())
    assert any(f.endswith(".ttf") for f in files) and "documents/fonts/OFL.txt" in files
    for rel in files:
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), f"{rel} is not package data"
