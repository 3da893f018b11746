"""Advisors, mentors and school admins in a real browser, each on their own school's data."""

import uuid

import pytest
from support import School, profile, wait_for_recommendations
from test_mentorship_flow import ask_for_mentor, register_mentor
from web_support import sign_in

pytestmark = pytest.mark.integration


async def named_student(http, school: School, name: str) -> str:
    reply = await http.post(
        "/v1/students", json={"external_ref": uuid.uuid4().hex[:10], "display_name": name}, headers=school.admin
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["student_id"]


async def scored(http, school: School, student: str, body: dict) -> float:
    saved = await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)
    assert saved.status_code == 202, saved.text
    ready = await wait_for_recommendations(http, student, school.admin, saved.json()["version"])
    return ready["list_match_probability"]


async def test_an_advisor_sees_only_their_school_flags_the_student_at_risk_and_exports(browser_page, http, new_school):
    school, other = await new_school(), await new_school()
    strong = await named_student(http, school, "Avery Strong")
    weak = await named_student(http, school, "Blake Weak")
    await named_student(http, school, "Casey New")
    await named_student(http, other, "Other School Student")
    high = await scored(http, school, strong, profile(step2=268, research=30, aoa_member=True))
    low = await scored(
        http,
        school,
        weak,
        profile(step2=222, research=0, preferences={"specialties": ["Dermatology"], "application_budget": 5}),
    )
    assert low < high
    threshold = round((low + high) / 2, 4)
    put = await http.put("/v1/cohort/settings", json={"risk_threshold": threshold}, headers=school.admin)
    assert put.status_code == 200, put.text

    page = browser_page.page
    await sign_in(browser_page, http, school, "advisor", "Dana Advisor")
    rows = page.get_by_test_id("cohort").locator("tbody tr")
    await page.get_by_test_id("cohort").get_by_text("3 shown").wait_for()
    await browser_page.record_paint("advisor")
    text = await page.get_by_test_id("cohort").inner_text()
    assert "Other School Student" not in text
    weak_row = rows.filter(has_text="Blake Weak")
    assert "At risk" in await weak_row.inner_text()
    assert "At risk" not in await rows.filter(has_text="Avery Strong").inner_text()
    assert "no profile" in await rows.filter(has_text="Casey New").inner_text()
    names = [line.split("\n")[0] for line in await rows.all_inner_texts()]
    assert names == ["Casey New", "Blake Weak", "Avery Strong"], "lowest chance first, no figures lowest of all"

    await page.get_by_role("button", name="Chance of a match").click()  # now highest first
    assert "Avery Strong" in await rows.first.inner_text()
    await page.get_by_label("At risk only").check()
    assert await rows.count() == 1 and "Blake Weak" in await rows.first.inner_text()

    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Export CSV").click()
    exported = (await (await download_info.value).path()).read_text()
    lines = exported.strip().splitlines()
    assert lines[0].startswith("student_id,external_ref,name") and len(lines) == 2 and weak in lines[1]

    await page.get_by_label("At risk only").uncheck()
    await page.get_by_role("button", name="Avery Strong").click()
    await page.get_by_role("heading", name="Their list").wait_for()
    assert await page.get_by_test_id("program-list").locator("tbody tr").count() > 0
    await browser_page.assert_accessible("the advisor page")
    await browser_page.screenshot("advisor")
    await page.evaluate("window.scrollTo(0, 0)")
    await browser_page.screenshot("advisor-screen", full_page=False)  # the README's picture
    await browser_page.assert_fits_phone_width("the advisor page")
    browser_page.assert_clean()


async def test_a_mentor_accepts_a_proposal_from_the_inbox(browser_page, http, new_school):
    school = await new_school()
    mentor, _ = await register_mentor(http, school, name="Dr Inbox", capacity=2)
    student = await named_student(http, school, "Eli Mentee")
    await http.put(f"/v1/students/{student}/profile", json=profile(), headers=school.admin)
    await ask_for_mentor(http, school, student)
    drafted = await http.post("/v1/mentorship/rounds", headers=school.admin)
    assert drafted.status_code == 201 and drafted.json()["proposals"], drafted.text
    published = await http.post(f"/v1/mentorship/rounds/{drafted.json()['round_id']}/publish", headers=school.admin)
    assert published.status_code == 200

    page = browser_page.page
    await sign_in(browser_page, http, school, "mentor", "Dr Inbox", mentor_id=mentor)
    await page.get_by_test_id("proposal").first.wait_for()
    await browser_page.record_paint("mentor")
    await browser_page.assert_accessible("the mentor inbox with a proposal")
    await page.get_by_role("button", name="Accept").click()
    await page.get_by_test_id("mentor-message").get_by_text("Accepted").wait_for()
    await page.get_by_test_id("current").locator("li").first.wait_for()
    assert await page.get_by_test_id("proposal").count() == 0
    await page.get_by_label("Most mentees at once").fill("3")
    await page.get_by_label("Institution").fill("Mercy Hospital")
    await page.get_by_label("Research interests (comma-separated)").fill("psoriasis, dermatopathology")
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.get_by_test_id("mentor-message").get_by_text("Saved.").wait_for()
    assert "of 3 places in use" in await page.locator("#capacity-heading + p").inner_text()
    stored = (await http.get(f"/v1/mentorship/mentors/{mentor}", headers=school.admin)).json()
    assert (stored["capacity"], stored["institution"]) == (3, "Mercy Hospital")
    assert stored["research_interests"] == ["psoriasis", "dermatopathology"]
    await browser_page.screenshot("mentor")
    await browser_page.assert_fits_phone_width("the mentor inbox")
    browser_page.assert_clean()


async def test_an_admin_uploads_facts_with_one_bad_row_and_sees_it(browser_page, http, new_school):
    school = await new_school()
    mentee = await named_student(http, school, "Frankie Admitted")
    await register_mentor(http, school, name="Dr Round", capacity=1)
    await http.put(f"/v1/students/{mentee}/profile", json=profile(), headers=school.admin)
    await ask_for_mentor(http, school, mentee)
    found = await http.get("/v1/programs", params={"specialty": "Dermatology", "state": "CA"}, headers=school.admin)
    good, other = (p["program_id"] for p in found.json()["programs"][:2])

    page = browser_page.page
    await sign_in(browser_page, http, school, "school_admin", "Gale Admin")
    await page.get_by_test_id("students").get_by_text("Frankie Admitted").wait_for()
    await browser_page.record_paint("admin")
    csv = f"program_id,sponsors_visa,img_share\n{good},yes,0.1\n{other},perhaps,0.2\n"
    await page.get_by_label("Or paste the CSV").fill(csv)
    await page.get_by_role("button", name="Upload facts").click()
    errors = page.get_by_test_id("row-errors").locator("tbody tr")
    await errors.first.wait_for()
    assert await errors.count() == 1
    assert (await errors.first.inner_text()).split("\t")[:2] == ["2", "sponsors_visa"]
    assert "nothing was applied" in await page.get_by_test_id("facts-message").inner_text()

    await page.get_by_role("button", name="Issue link for Frankie Admitted").click()
    link = await page.get_by_test_id("issued-link").locator("code").inner_text()
    assert "/signin#code=" in link
    await page.get_by_label("Label").fill("crm export")
    await page.get_by_role("button", name="Issue key").click()
    assert (await page.get_by_test_id("new-key").inner_text()).startswith("spk_")
    keys = page.get_by_test_id("keys").locator("tbody tr")
    await keys.filter(has_text="crm export").get_by_role("button").click()
    await keys.filter(has_text="crm export").get_by_text("revoked").wait_for()

    message = page.get_by_test_id("matching-message")
    await page.get_by_role("button", name="Run a round").click()
    await message.get_by_text("Draft round: 1 proposals for 1 students").wait_for()
    assert "Dr Round" in await page.get_by_test_id("round").inner_text()
    await page.get_by_role("button", name="Publish round").click()
    await message.get_by_text("Published").wait_for()
    await page.get_by_label("geography").fill("2.5")
    await page.get_by_role("button", name="Save weights").click()
    await message.get_by_text("Weights saved.").wait_for()
    policy = (await http.get("/v1/mentorship/policy", headers=school.admin)).json()
    assert policy["weights"]["geography"] == 2.5
    await page.get_by_label("Flag students whose chance of a match is below (%)").fill("45")
    await page.get_by_role("button", name="Save threshold").click()
    await message.get_by_text("Students below 45% are flagged at risk.").wait_for()
    assert (await http.get("/v1/cohort/settings", headers=school.admin)).json() == {"risk_threshold": 0.45}

    await browser_page.assert_accessible("the admin page")
    await browser_page.screenshot("admin")
    await browser_page.assert_fits_phone_width("the admin page")
    await browser_page.screenshot("admin-phone")
    browser_page.assert_clean()
