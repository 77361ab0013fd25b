"""Helpers for browser tests: Playwright (sync API) driving Debian's Chromium.

Playwright's own browser download cannot work on our machines (no network beyond the package
registries), so never run `playwright install`: `make system-deps` installs Debian's `chromium`
and `launch_chromium` points Playwright at it.

    with sync_playwright() as pw, LiveServer(app) as server:
        browser = launch_chromium(pw)
        page = browser.new_page()
        page.goto(server.url + "/")
        assert run_axe(page) == []
        browser.close()
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.serving import make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

__all__ = [
    "AXE_PATH",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LiveServer",
    "chromium_available",
    "format_violations",
    "launch_chromium",
    "run_axe",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"  # installed by `make assets`
CHROMIUM = os.environ.get("SHAREPLATFORM_CHROMIUM", "/usr/bin/chromium")

# --no-sandbox: Chromium's sandbox refuses to start as root (CI runs as root).
# The background-networking/component-update/sync/quic flags stop Chromium from calling Google's
# hosts, which this machine's closed network refuses (slow starts, log noise).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# axe impacts that fail a test; "minor" and "moderate" ones are reported by axe but tolerated.
FAILING_IMPACTS = frozenset({"serious", "critical"})


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def launch_chromium(playwright: Playwright, **kwargs: Any) -> Browser:
    """Launch Debian's Chromium headless; extra kwargs go to `chromium.launch`."""
    args = [*CHROMIUM_ARGS, *kwargs.pop("args", [])]
    kwargs.setdefault("headless", True)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args, **kwargs)


class LiveServer:
    """Serve a WSGI app on a free 127.0.0.1 port from a background thread.

    Werkzeug's threaded server: one thread per request, so the page's asset requests and the
    test's own requests do not queue behind each other.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(host, port, app, threaded=True)
        self.host = host
        self.port: int = self._server.socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"LiveServer:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket. Safe to call more than once."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_axe_source: str | None = None


def _axe_js() -> str:
    global _axe_source
    if _axe_source is None:
        if not AXE_PATH.exists():
            raise FileNotFoundError(f"{AXE_PATH} is missing: run `make assets`")
        # A trailing expression makes Playwright evaluate the whole file as a script (not as a
        # function) and tells us whether axe got defined.
        _axe_source = AXE_PATH.read_text(encoding="utf-8") + "\n;typeof window.axe;"
    return _axe_source


def run_axe(page: Page, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return its serious and critical violations.

    The script is injected with `page.evaluate` (DevTools' Runtime.evaluate), which the page's
    Content-Security-Policy does not govern, so this works under a strict nonce-based CSP
    without `bypass_csp=True`, which would switch the CSP off for the whole test.
    `options` go to `axe.run` (e.g. {"runOnly": ["wcag2a", "wcag2aa"]}).
    """
    if page.evaluate("typeof window.axe") == "undefined":
        kind = page.evaluate(_axe_js())
        if kind != "object":
            raise RuntimeError(f"axe-core did not load into the page (typeof axe = {kind!r})")
    results = page.evaluate(
        "async (options) => await window.axe.run(document, options)", options or {}
    )
    return [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]


def format_violations(violations: list[dict[str, Any]]) -> str:
    """A readable summary for assertion messages: rule, impact, help and the failing nodes."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v.get("nodes", [])[:5]:
            lines.append(f"    {json.dumps(node.get('target'))}: {node.get('html', '')[:200]}")
    return "\n".join(lines)
