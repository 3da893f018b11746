"""The public side in a real browser and over HTTP: try-it without an account (nothing stored, limited per
client), and the API docs served from local files."""

import httpx
import pytest
from support import profile, within_one_minute_window

pytestmark = pytest.mark.integration


def percent(p: float) -> str:
    """As the pages write a probability (web/src/lib/format.ts)."""
    return "<1%" if 0 < p < 0.01 else ">99%" if 0.99 < p < 1 else f"{round(p * 100)}%"


async def test_try_it_shows_a_list_with_tiers_chart_and_reasons_and_says_nothing_is_kept(stack, browser_page):
    page = browser_page.page
    await browser_page.goto("/")
    await browser_page.record_paint("try-it")
    assert "Nothing is kept" in await page.get_by_test_id("nothing-kept").inner_text()
    await page.get_by_label("USMLE Step 2 CK").fill("262")
    await page.get_by_label("Research items").fill("20")
    await page.get_by_label("AOA member").check()
    await page.get_by_label("Specialties", exact=True).fill("Internal Medicine")
    await page.get_by_label("Preferred states").fill("CA, NY")
    await page.get_by_role("button", name="Show my list").click()
    rows = page.get_by_test_id("program-list").locator("tbody tr")
    await rows.first.wait_for()

    # The page shows what the API answers for the same profile, asked by another client.
    body = profile(step2=262, research=20, aoa_member=True)
    body["preferences"] = {
        "specialties": ["Internal Medicine"],
        "preferred_states": ["CA", "NY"],
        "application_budget": 40,
    }
    async with client_from(stack, "127.0.0.4") as client:
        expected = (await client.post("/v1/try-it", json=body)).json()
    programs = expected["application_list"]
    assert await rows.count() == len(programs) == 40  # the application budget the form starts with
    assert await page.get_by_test_id("list-chance").inner_text() == percent(expected["list_match_probability"])
    shown = [(await row.locator("td").nth(1).inner_text()).split("\n")[0] for row in await rows.all()]
    assert shown == [p["name"] for p in programs]
    tiers = [await row.locator(".tier").inner_text() for row in await rows.all()]
    assert tiers == [p["tier"].capitalize() for p in programs]
    assert await page.get_by_test_id("model-version").inner_text() == expected["model_version"]
    with_reasons = [i for i, p in enumerate(programs) if p["reasons"]]
    assert with_reasons, "this profile's list has reasons to show"
    first = rows.nth(with_reasons[0])
    await first.locator("details summary").click()  # a program's reasons open
    assert programs[with_reasons[0]]["reasons"][-1]["text"] in await first.locator("details").inner_text()
    assert await page.locator("figure canvas").count() >= 1, "the curve is drawn"
    await browser_page.screenshot("list")
    await browser_page.assert_accessible("the try-it page with a list")
    await browser_page.assert_fits_phone_width("the try-it page")
    await browser_page.screenshot("phone")
    browser_page.assert_clean()


async def test_try_it_shows_the_servers_field_message_and_keeps_what_was_typed(browser_page):
    page = browser_page.page
    await browser_page.goto("/")
    await page.get_by_label("USMLE Step 2 CK").fill("400")
    await page.get_by_role("button", name="Show my list").click()
    error = page.locator("#f-step2_ck_score-error")
    await error.wait_for()
    assert await error.inner_text() == "must be between 1 and 300, got 400"  # the profile service's own words
    assert await page.get_by_label("USMLE Step 2 CK").input_value() == "400"
    assert await page.get_by_label("USMLE Step 2 CK").get_attribute("aria-invalid") == "true"
    await browser_page.assert_accessible("the try-it page with a field error")


def client_from(stack, address: str) -> httpx.AsyncClient:
    """A client whose requests come from another loopback address: another client to the rate limit."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=stack.base_url, transport=transport, timeout=15)


async def test_try_it_is_limited_per_client_with_retry_after(stack):
    body = profile(step2=245)
    await within_one_minute_window(20)
    async with client_from(stack, "127.0.0.2") as busy, client_from(stack, "127.0.0.3") as other:
        answers = [await busy.post("/v1/try-it", json=body) for _ in range(21)]
        assert [a.status_code for a in answers[:20]] == [200] * 20, answers[0].text
        assert answers[0].json()["stored"] is False and answers[0].headers["Cache-Control"] == "no-store"
        limited = answers[20]
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert (await other.post("/v1/try-it", json=body)).status_code == 200


async def test_the_api_docs_load_offline(browser_page):
    page = browser_page.page
    await browser_page.goto("/docs")
    await page.locator(".swagger-ui .info .title").wait_for()
    assert "Smart Pick API" in await page.locator(".swagger-ui .info .title").inner_text()
    await page.get_by_text("/v1/try-it").first.wait_for()
    browser_page.assert_clean()


async def test_sign_in_attempts_are_limited_per_client(stack):
    await within_one_minute_window(20)
    async with client_from(stack, "127.0.0.5") as guesser:
        answers = [await guesser.post("/v1/sessions", json={"code": f"WRONG-CODE-{i:04d}"}) for i in range(31)]
    assert [a.status_code for a in answers[:30]] == [401] * 30
    assert answers[30].status_code == 429 and int(answers[30].headers["Retry-After"]) >= 1
