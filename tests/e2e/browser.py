"""What the browser tests share: a page of its own in Chromium, axe-core and a screenshot at
desktop and phone width, the portal's accessibility promises, keys pressed one by one, and
the demo's staff passwords.

Invariants kept here:
- `check_widths` fails on any axe-core violation at any width it is given, saves one full-page
  screenshot per width (`<name>-<width>.png`, or `.jpg` at quality 60), and leaves the page
  at the first width.
- `open_page` gives each test a browser context of its own (cookies, session, storage), closed
  when the block ends, so tests that share a server never share a login.
- axe-core's script is added to the page for one check and removed again by the check itself
  (RUN_AXE), so the next check and `assert_accessible` see the page's own scripts only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.demo import DemoServer

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # `make browser`
TIMEOUT_MS = 15_000
Size = Mapping[str, int]
WIDTHS: dict[str, Size] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 375, "height": 740},
}
RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    document.querySelectorAll('script').forEach(s => s.remove());
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))
    }));
}"""


def axe_script() -> str:
    """axe-core's script: npm's, installed by `make browser`, or the file KONTINGENT_AXE_JS
    names. Missing, the test fails with that advice rather than skip."""
    path = Path(os.environ.get("KONTINGENT_AXE_JS", AXE))
    if not path.is_file():
        pytest.fail(f"axe-core is missing at {path}: run `make browser` (npm install axe-core@4)")
    return path.read_text(encoding="utf-8")


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (`make browser`) driven by Playwright. Launched per package, never
    per run: while it is open Playwright's event loop runs in this thread, which the tests
    after the browser packages (asyncio.run, async tests) must not meet."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextlib.contextmanager
def open_page(
    browser: Browser,
    server: DemoServer,
    *,
    viewport: Size = WIDTHS["desktop"],
    timeout_ms: int = TIMEOUT_MS,
    **options: Any,
) -> Iterator[Page]:
    """A page in a context of its own on `server`: German, at `viewport`, and, unless
    `bypass_csp=False`, free to take axe-core's script despite the pages' CSP."""
    settings: dict[str, Any] = {"locale": "de-DE", "bypass_csp": True, **options}
    context = browser.new_context(base_url=server.url, viewport=dict(viewport), **settings)
    context.set_default_timeout(timeout_ms)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (its script removed again after)."""
    page.add_script_tag(content=axe_source)
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


def check_widths(
    page: Page,
    axe_source: str,
    folder: Path,
    name: str,
    *,
    widths: Mapping[str, Size] = WIDTHS,
    jpeg: bool = False,
    promises: Callable[[Page], None] | None = None,
) -> None:
    """`promises` first (before axe's script goes in), then axe at each width (0 violations)
    and a screenshot of each; the first width after."""
    folder.mkdir(parents=True, exist_ok=True)
    if promises is not None:
        promises(page)
    for width, size in widths.items():
        page.set_viewport_size(dict(size))  # type: ignore[arg-type]
        violations = axe_violations(page, axe_source)
        assert violations == [], (name, width, page.url, violations)
        if jpeg:  # the committed walk of ~40 pages stays a few MB, still sharp enough to read
            page.screenshot(path=str(folder / f"{name}-{width}.jpg"), full_page=True,
                            type="jpeg", quality=60)  # fmt: skip
        else:
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(dict(next(iter(widths.values()))))  # type: ignore[arg-type]


def assert_accessible(page: Page) -> None:
    """What every portal page promises: language, skip link, labels, large type, no script."""
    assert page.locator("html").get_attribute("lang") in ("de", "en")
    assert page.locator("a.skip-link").count() == 1
    assert page.locator("script").count() == 0
    assert unlabelled_fields(page) == []
    assert font_size_px(page) >= 20


def unlabelled_fields(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter(e => !e.labels || e.labels.length === 0).map(e => e.name)"
    )
    return found


def font_size_px(page: Page) -> float:
    return float(page.evaluate("getComputedStyle(document.body).fontSize")[:-2])


def shot(page: Page, folder: Path, name: str) -> None:
    """A full-page PNG of the page as it is, `<folder>/<name>.png`."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def focused(page: Page) -> str:
    """The focused element, as `tag#id` or `tag:text`: where the next key press goes."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement; return e.tagName.toLowerCase() + "
            "(e.id ? '#' + e.id : ':' + e.textContent.trim()); }"
        )
    )


def keys(page: Page, *steps: str) -> None:
    """Press keys and type text: "Tab", "Shift+Tab", "Enter", "Space", or "=text" to type."""
    for step in steps:
        if step.startswith("="):
            page.keyboard.type(step[1:])
        else:
            page.keyboard.press(step)


def demo_password(server: DemoServer, username: str) -> str:
    """The password `kontingent serve --demo` printed for `username` in its log."""
    text = server.log.read_text(encoding="utf-8", errors="replace")
    found = re.search(rf"{username}\s+password: (\S+)", text)
    assert found, text[-2000:]
    return found.group(1)
