"""A student in a real browser: signs in with a link, saves a profile (a bad field first), sees the list
appear without a reload, moves a what-if control, asks for a mentor; sessions end and come back."""

import pytest
from support import add_student, bearer
from test_mentorship_flow import register_mentor
from web_support import sign_in, sign_in_code

pytestmark = pytest.mark.integration


async def test_a_student_saves_a_profile_sees_the_list_tries_a_what_if_and_asks_for_a_mentor(
    browser_page, http, new_school
):
    school = await new_school()
    await register_mentor(http, school, name="Dr Derm", state="CA", capacity=2)
    student = await add_student(http, school)
    page = browser_page.page
    await sign_in(browser_page, http, school, "student", "Test Student", student_id=student)
    await browser_page.record_paint("student")
    assert "student" in (await page.locator("header .who").inner_text()).lower()

    await page.get_by_label("USMLE Step 2 CK").fill("301")
    await page.get_by_label("Specialties", exact=True).fill("Dermatology")
    await page.get_by_label("Preferred states").fill("CA")
    await page.get_by_label("Application budget").fill("30")
    await page.get_by_role("button", name="Save profile").click()
    await page.locator("#f-step2_ck_score-error").wait_for()
    assert "must be between 1 and 300" in await page.locator("#f-step2_ck_score-error").inner_text()
    assert await page.get_by_label("Specialties", exact=True).input_value() == "Dermatology"  # nothing typed is lost

    await page.get_by_label("USMLE Step 2 CK").fill("255")
    await page.get_by_label("Research items").fill("10")
    await page.get_by_role("button", name="Save profile").click()
    await page.get_by_test_id("save-note").get_by_text("Saved as version 1").wait_for()
    rows = page.get_by_test_id("program-list").locator("tbody tr")
    await rows.first.wait_for(timeout=60_000)  # the ranking workers scored it; no reload
    assert await rows.count() == 30
    assert await page.get_by_test_id("pending").count() == 0
    assert "Estimate" in await page.locator(".note").first.inner_text()

    before = await page.get_by_test_id("list-chance").inner_text()
    slider = page.get_by_label("Step 2 CK:")
    await slider.focus()
    for _ in range(10):
        await page.keyboard.press("ArrowRight")  # the keyboard moves it, as a person would
    result = page.get_by_test_id("what-if-result")
    await result.get_by_text("chance of at least one match").wait_for()
    assert before in await page.get_by_test_id("list-chance").inner_text(), "the saved list is unchanged"

    await page.get_by_role("button", name="Request a mentor").click()
    await page.get_by_test_id("mentor-message").get_by_text("Request saved").wait_for()
    await page.get_by_test_id("suggestions").get_by_text("Dr Derm").wait_for()
    await browser_page.assert_accessible("the student page")
    await browser_page.screenshot("student")
    await page.evaluate("document.getElementById('what-if-heading').scrollIntoView()")
    await browser_page.screenshot("student-screen", full_page=False)  # the README's picture
    await browser_page.assert_fits_phone_width("the student page")
    await browser_page.screenshot("student-phone")
    browser_page.assert_clean()


async def test_a_session_that_ended_sends_the_person_to_sign_in_and_back(browser_page, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    page = browser_page.page
    await sign_in(browser_page, http, school, "student", student_id=student)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/signin")
    await browser_page.goto("/student")
    await page.wait_for_url("**/signin?next=%2Fstudent")
    await browser_page.assert_accessible("the sign-in page")
    code = (await sign_in_code(http, school, "student", student_id=student))["code"]
    await page.get_by_label("Sign-in code").fill(code)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/student")
    used = await http.post("/v1/sessions", json={"code": code})
    assert used.status_code == 401, "a code works once"


async def test_session_changes_need_the_csrf_token_and_keys_still_work(http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    code = (await sign_in_code(http, school, "student", student_id=student))["code"]
    signed_in = await http.post("/v1/sessions", json={"code": code})
    assert signed_in.status_code == 200, signed_in.text
    set_cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Secure" not in set_cookie  # plain HTTP
    session = signed_in.json()
    body = {
        "degree_type": "MD",
        "step2_ck_score": 250,
        "preferences": {"specialties": ["Dermatology"], "application_budget": 20},
    }
    path = f"/v1/students/{student}/profile"
    cookie = {"Cookie": f"smartpick_session={signed_in.cookies['smartpick_session']}"}
    http.cookies.clear()  # each request below says what it carries
    forged = await http.put(path, json=body, headers=cookie)
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["detail"]
    saved = await http.put(path, json=body, headers={**cookie, "X-CSRF-Token": session["csrf_token"]})
    assert saved.status_code == 202, saved.text
    assert (await http.get(path, headers=cookie)).status_code == 200
    other = await add_student(http, school)
    assert (await http.get(f"/v1/students/{other}/profile", headers=cookie)).status_code == 404
    key = await http.post(
        f"/v1/schools/{school.school_id}/api-keys",
        json={"role": "student", "student_id": student},
        headers=school.admin,
    )
    assert (await http.get(path, headers=bearer(key.json()["api_key"]))).status_code == 200
    ended = await http.delete("/v1/session", headers={**cookie, "X-CSRF-Token": session["csrf_token"]})
    assert ended.status_code == 204
    http.cookies.clear()
    after = await http.get(path, headers=cookie)
    assert after.status_code == 401 and "ended or expired" in after.json()["detail"]
