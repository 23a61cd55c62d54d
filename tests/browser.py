"""A real headless Chromium for page tests, driven by Playwright's Python package.

Playwright is pointed at the system's Chromium (Debian's ``chromium`` package); it never
downloads a browser.  When no Chromium is found the browser tests are skipped with a plain reason
— unless ``ZONING_REQUIRE_BROWSER=1`` (set by ``.ci/run``), when they fail instead, so CI can
never pass without running them.

Use the ``browser`` fixture (from ``tests/conftest.py``)::

    def test_page(browser, tmp_path):
        visit = browser.open(path_to_html, offline=True, screenshot=tmp_path / "page.png")
        assert visit.console_errors == [] and visit.failed_requests == []
        assert visit.page.locator(".leaflet-interactive").count() > 0

Every visit records console errors, uncaught page errors, failed requests, every request that
left the machine (anything that is not ``file:``, ``data:``, ``blob:`` or the test's own local
server) and every JavaScript ``alert``/``confirm``/``prompt`` dialog — the tell-tale of an
injected payload.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Flags every Chromium start uses on these machines (no sandbox as root, no background traffic).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

#: Hosts of the basemap tiles an online page asks for (cut off when the network is).
TILE_HOSTS = ("tile.openstreetmap.org", "basemaps.cartocdn.com", "autonavi.com", "tianditu.gov.cn")

#: Where screenshots for review go when ``ZONING_SCREENSHOTS`` names no folder.
DEFAULT_SHOTS = Path(__file__).resolve().parent.parent / "maps" / "test-screenshots"


def chromium_path() -> str | None:
    """The system Chromium, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if Path(candidate).exists():
            return candidate
    return None


def browser_required() -> bool:
    return os.environ.get("ZONING_REQUIRE_BROWSER", "") not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    if browser_required():
        pytest.fail(f"ZONING_REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def _local(url: str, allowed_hosts: tuple[str, ...]) -> bool:
    if url.startswith(("file:", "data:", "blob:", "about:", "chrome-error:", "devtools:")):
        return True
    return any(url.startswith(h) for h in allowed_hosts)


@dataclass
class Visit:
    """What happened while a page loaded (and afterwards, until the page is closed)."""

    page: object  # playwright Page
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    load_ms: float | None = None

    def assert_clean(self) -> None:
        """No console error, page error, failed request, external request or dialog."""
        problems = {
            "console errors": self.console_errors,
            "page errors": self.page_errors,
            "failed requests": self.failed_requests,
            "external requests": self.external_requests,
            "dialogs (alert/confirm/prompt)": self.dialogs,
        }
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, f"{self.url}: {bad}"


class Browser:
    """One Chromium for the test session; each :meth:`open` uses a fresh browser context."""

    def __init__(self, executable: str) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._profile = tempfile.mkdtemp(prefix="zoning-chromium-")
        self._browser = self._pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        self._contexts: list[object] = []

    def open(
        self,
        target: str | Path,
        *,
        offline: bool = False,
        screenshot: str | Path | None = None,
        allowed_hosts: tuple[str, ...] = (),
        viewport: tuple[int, int] = (1280, 860),
        wait_until: str = "load",
        timeout_ms: float = 60_000,
    ) -> Visit:
        """Load a page (a path or URL) and record what happened.

        ``offline=True`` cuts the browser context off the network before the page loads: only
        ``file:`` and ``data:`` resources can load, which is exactly what an offline page must
        live with.  ``allowed_hosts`` are URL prefixes that do not count as external (a local
        test server).
        """
        import time

        url = Path(target).resolve().as_uri() if isinstance(target, Path) else str(target)
        if not url.startswith(("file:", "http:", "https:")):
            url = Path(url).resolve().as_uri()
        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, offline=offline
        )
        self._contexts.append(context)
        page = context.new_page()
        visit = Visit(page=page, url=url)

        def on_console(msg) -> None:
            if msg.type == "error":
                visit.console_errors.append(msg.text)

        def on_request(req) -> None:
            if not _local(req.url, allowed_hosts):
                visit.external_requests.append(req.url)

        def on_failed(req) -> None:
            visit.failed_requests.append(f"{req.url} ({req.failure})")

        def on_dialog(dialog) -> None:
            visit.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
        page.on("request", on_request)
        page.on("requestfailed", on_failed)
        page.on("dialog", on_dialog)
        t0 = time.perf_counter()
        page.goto(url, wait_until=wait_until, timeout=timeout_ms)
        visit.load_ms = (time.perf_counter() - t0) * 1000.0
        if screenshot is not None:
            shot = Path(screenshot)
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
        return visit

    def close(self) -> None:
        for ctx in self._contexts:
            try:
                ctx.close()
            except Exception:
                pass
        self._browser.close()
        self._pw.stop()
        shutil.rmtree(self._profile, ignore_errors=True)


def only_tile_failures(visit) -> None:
    """Online pages with the network cut: the only failures are tile requests."""
    assert visit.page_errors == [] and visit.dialogs == []
    assert all(any(h in r for h in TILE_HOSTS) for r in visit.failed_requests), (
        visit.failed_requests
    )
    assert all(any(h in r for h in TILE_HOSTS) for r in visit.external_requests)
    assert all("ERR_INTERNET_DISCONNECTED" in e for e in visit.console_errors), visit.console_errors


def screenshot_dir() -> Path:
    """Folder for review screenshots (``ZONING_SCREENSHOTS`` or ``maps/test-screenshots``)."""
    folder = Path(os.environ.get("ZONING_SCREENSHOTS") or DEFAULT_SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_browser() -> Iterator[Browser]:
    exe = chromium_path()
    if exe is None:
        skip_or_fail("no Chromium was found (install Debian's chromium package)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[test]')")
    b = Browser(exe)
    try:
        yield b
    finally:
        b.close()
