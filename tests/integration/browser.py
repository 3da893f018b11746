"""Browser tests' fixtures (a pytest plugin of conftest): Debian's Chromium driven by Playwright, an
axe-core check injected from the web app's own npm packages, screenshots and paint timings saved as
artefacts under the test state dir. No browser is ever downloaded: Playwright launches /usr/bin/chromium."""

import contextlib
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from devstack import REPO
from infra import TEST_STATE_DIR
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

CHROMIUM = Path(os.environ.get("SMARTPICK_CHROMIUM", "/usr/bin/chromium"))
AXE = REPO / "web/node_modules/axe-core/axe.min.js"
ARTEFACTS = TEST_STATE_DIR / "web-artefacts"
PHONE = {"width": 390, "height": 844}
# The WCAG 2.1 A and AA rules (contrast, labels, names, landmarks...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium package")
    return CHROMIUM


@pytest.fixture(scope="session")
async def chromium(chromium_executable: Path):
    async with async_playwright() as playwright:
        # As root (CI) Chromium's sandbox cannot start; the pages under test are the project's own.
        browser = await playwright.chromium.launch(executable_path=str(chromium_executable), args=["--no-sandbox"])
        yield browser
        await browser.close()


class BrowserPage:
    """One test's page, with what every browser test checks and keeps."""

    def __init__(self, page: Page, base_url: str, test_name: str):
        self.page, self.base_url, self.test_name = page, base_url, test_name
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []
        own = urlsplit(base_url).netloc
        page.on("request", lambda r: urlsplit(r.url).netloc not in (own, "") and self.foreign_requests.append(r.url))
        # Script errors; a failed request's status ("Failed to load resource") is the tests' business.
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.text.startswith("Failed to load resource")
                and self.console_errors.append(m.text)
            ),
        )

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def screenshot(self, name: str, full_page: bool = True) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{self.test_name}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path

    async def assert_accessible(self, what: str) -> None:
        """axe-core's WCAG 2.1 A/AA rules over the page as it is now."""
        await self.page.add_script_tag(path=str(AXE))
        result = await self.page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
        ]
        assert not problems, f"accessibility of {what}:\n" + "\n".join(problems)

    async def assert_fits_phone_width(self, what: str) -> None:
        """Once the page has answered the narrower window: the curve redraws on the window's resize event, which
        may come after the new viewport's first layout (a phone that loads the page never has that moment)."""
        await self.page.set_viewport_size(PHONE)
        measure = "document.documentElement.scrollWidth - window.innerWidth"
        with contextlib.suppress(PlaywrightTimeout):
            await self.page.wait_for_function(f"{measure} <= 1", timeout=3000)
        overflow = await self.page.evaluate(measure)
        assert overflow <= 1, f"{what} is {overflow}px wider than a {PHONE['width']}px phone screen"

    async def record_paint(self, page_name: str) -> dict:
        """First contentful paint and the moment the page showed what it is for (its 'smartpick:content'
        mark), in ms since navigation; kept in paint.json for docs/web.md."""
        await self.page.wait_for_function("performance.getEntriesByName('smartpick:content').length > 0")
        timing = await self.page.evaluate(
            """() => ({
                first_contentful_paint_ms: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
                content_ms: performance.getEntriesByName('smartpick:content')[0].startTime,
                dom_content_loaded_ms: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
            })"""
        )
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        record = ARTEFACTS / "paint.json"
        figures = json.loads(record.read_text()) if record.exists() else {}
        figures[page_name] = {k: round(v, 1) for k, v in timing.items() if v is not None}
        record.write_text(json.dumps(figures, indent=2, sort_keys=True))
        return timing

    def assert_clean(self) -> None:
        assert not self.foreign_requests, f"pages loaded from other origins: {self.foreign_requests}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


@pytest.fixture
async def browser_page(chromium, stack, request):
    # The pages' Content-Security-Policy would block the injected axe-core; bypassing it also lets any
    # request to another origin happen, so that assert_clean sees it.
    context = await chromium.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True
    )
    page = await context.new_page()
    page.set_default_timeout(30_000)
    wrapped = BrowserPage(page, stack.base_url, request.node.name.removeprefix("test_")[:60])
    try:
        yield wrapped
    finally:
        if request.node.stash.get(FAILED, False):
            await wrapped.screenshot("failure")
        await context.close()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report
