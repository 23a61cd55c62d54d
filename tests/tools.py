"""Real programs some document tests need: poppler's ``pdftoppm`` / ``pdftotext`` /
``pdffonts`` (Debian ``poppler-utils``) and LibreOffice's ``soffice`` (Debian
``libreoffice-writer-nogui``).

A test asks with :func:`need`; a missing program skips it with a plain reason — unless
``ZONING_REQUIRE_TOOLS=1`` (set by ``.ci/run``), when it fails instead, so CI can never pass
without running them.  ``pytest``'s header lists what was found.
"""

from __future__ import annotations

import os
import shutil

import pytest

#: The programs, and the Debian package that gives each.
TOOLS = {
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
    "pdffonts": "poppler-utils",
    "soffice": "libreoffice-writer-nogui",
}


def tools_required() -> bool:
    """Whether a missing program fails the tests that need it (CI) instead of skipping them."""
    return os.environ.get("ZONING_REQUIRE_TOOLS", "") not in ("", "0")


def need(name: str) -> str:
    """The path of program ``name``; skip the test (fail under ``ZONING_REQUIRE_TOOLS``) when
    it is not installed."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (Debian package {TOOLS.get(name, name)})"
    if tools_required():
        pytest.fail(message + ", and ZONING_REQUIRE_TOOLS is set")
    pytest.skip(message)


def header() -> str:
    """The pytest header line saying which programs the document tests will use."""
    found = {n: shutil.which(n) for n in TOOLS}
    missing = sorted({TOOLS[n] for n, p in found.items() if not p})
    if not missing:
        return "document tools: " + ", ".join(f"{n} at {p}" for n, p in found.items())
    if tools_required():
        return (
            f"document tools: MISSING {', '.join(missing)}, and ZONING_REQUIRE_TOOLS is set: "
            "those tests will fail"
        )
    return (
        f"document tools: tests needing {', '.join(missing)} are SKIPPED "
        "(install those Debian packages)"
    )
