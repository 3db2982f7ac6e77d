"""The site in a real browser: Debian's headless chromium, driven by Playwright, network off.

Used by the site's tests (every page opens from file:// with no console error and no request
elsewhere, every chart draws) and by `make docs-screenshot`, which writes the README's picture:

    python -m olist.site.browser data/site/index.html docs/report.png

Playwright is a development dependency and never downloads a browser here: it drives the
`chromium` package of the machine (.ci/run installs it when missing).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Headless on a CI container (root, no GPU), and nothing of Chromium's own reaching the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1500, "height": 1000}


@dataclass
class OpenedPage:
    """A page opened from file://, with what went wrong while it loaded."""

    page: object  # playwright.sync_api.Page
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)  # blocked: not file://


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (playwright.sync_api.Browser) with a fresh profile."""
    if not CHROMIUM.is_file():
        raise FileNotFoundError(
            f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install -y chromium`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_offline(browser, page_file: Path) -> OpenedPage:
    """Open `page_file` with every request outside file:// refused (and recorded), and wait
    until its charts, if any, are drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = OpenedPage(page=context.new_page())

    def route(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            opened.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = opened.page
    page.on("console", lambda m: m.type == "error" and opened.console_errors.append(m.text))
    page.on("pageerror", lambda error: opened.console_errors.append(str(error)))
    page.goto(page_file.resolve().as_uri())
    # Resolves once Vega has drawn every chart (base.html); a failed chart rejects it.
    page.evaluate("window.chartsDrawn ? window.chartsDrawn.then(() => true) : true")
    return opened


def screenshot(page_file: Path, png: Path) -> None:
    """A full-page screenshot of `page_file`; fails if the page logged an error or asked for
    anything outside file://."""
    with chromium() as browser:
        opened = open_offline(browser, page_file)
        problems = opened.console_errors + opened.outside_requests
        if problems:
            raise RuntimeError(f"{page_file} did not load cleanly: {problems}")
        png.parent.mkdir(parents=True, exist_ok=True)
        opened.page.screenshot(path=str(png), full_page=True)


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
