"""What the browser tests of signed-in people share: issuing a sign-in link through the API and using it."""

import httpx
from browser import BrowserPage
from support import School


async def sign_in_code(http: httpx.AsyncClient, school: School, role: str, label: str = "", **ids: str) -> dict:
    reply = await http.post(
        f"/v1/schools/{school.school_id}/sign-in-codes",
        json={"role": role, "label": label, **ids},
        headers=school.admin,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def sign_in(
    browser_page: BrowserPage, http: httpx.AsyncClient, school: School, role: str, label: str = "", **ids: str
) -> None:
    """Opens the person's sign-in link and waits for their page."""
    issued = await sign_in_code(http, school, role, label, **ids)
    await browser_page.goto(issued["sign_in_path"])
    home = {"student": "/student", "advisor": "/advisor", "mentor": "/mentor", "school_admin": "/admin"}[role]
    await browser_page.page.wait_for_url(f"**{home}")
