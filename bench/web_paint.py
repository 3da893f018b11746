"""How fast the web app's pages show what they are for, in Debian's Chromium against the whole stack.

`.venv/bin/python bench/web_paint.py [--runs 20] [--url http://127.0.0.1:8080 --operator-key spk_...]`.
Without --url it starts its own stack (.state/bench). For each page: one warm-up load, then --runs loads,
each in a fresh browser context (empty HTTP cache, cookies kept for signed-in pages). Prints the median, the
95th percentile and the worst of first contentful paint and of the page's own "smartpick:content" mark (set
once the page's main content has rendered, after its API calls), in ms from the start of navigation, and for
the content mark where the median load spent its time: the page's scripts loaded, its first API reply."""

import argparse
import asyncio
import contextlib
import statistics
import uuid

import httpx
from common import bench_stack, percentile
from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
# The paints, the end of the last script the page loads at start, and the end of its first API reply.
TIMING = """() => {
    const resources = performance.getEntriesByType('resource');
    const ends = (test) => resources.filter((r) => test(new URL(r.name).pathname)).map((r) => r.responseEnd);
    const scripts = ends((path) => path.startsWith('/assets/') && path.endsWith('.js') && !path.includes('uPlot'));
    const api = ends((path) => path.startsWith('/v1/'));
    return {
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        content: performance.getEntriesByName('smartpick:content')[0]?.startTime ?? NaN,
        scripts: Math.max(0, ...scripts),
        api: api.length ? Math.min(...api) : NaN,
    };
}"""


async def people(base_url: str, operator_key: str) -> dict[str, str]:
    """A school with a scored student; a sign-in code for that student and one for an advisor."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        school = (
            await http.post(
                "/v1/schools",
                json={"name": f"Bench {uuid.uuid4().hex[:6]}"},
                headers={"Authorization": f"Bearer {operator_key}"},
            )
        ).json()
        admin = {"Authorization": f"Bearer {school['admin_api_key']['api_key']}"}
        student = (
            await http.post("/v1/students", json={"external_ref": "b1", "display_name": "Bench"}, headers=admin)
        ).json()["student_id"]
        body = {
            "degree_type": "MD",
            "step2_ck_score": 250,
            "research_items": 10,
            "preferences": {"specialties": ["Internal Medicine"], "application_budget": 30},
        }
        await http.put(f"/v1/students/{student}/profile", json=body, headers=admin)
        for _ in range(100):
            if (await http.get(f"/v1/students/{student}/recommendations", headers=admin)).status_code == 200:
                break
            await asyncio.sleep(0.3)
        mentor = {
            "display_name": "Dr Bench",
            "specialty": "Internal Medicine",
            "state": "CA",
            "institution": "Bench Hospital",
            "capacity": 2,
            "research_interests": ["outcomes"],
            "availability_hours_per_month": 4,
        }
        reply = await http.post("/v1/mentorship/mentors", json=mentor, headers=admin)
        assert reply.status_code == 201, reply.text
        people = (
            ("student", {"student_id": student}),
            ("advisor", {}),
            ("mentor", {"mentor_id": reply.json()["mentor_id"]}),
            ("school_admin", {}),
        )
        codes = {}
        for role, ids in people:
            reply = await http.post(
                f"/v1/schools/{school['school_id']}/sign-in-codes", json={"role": role, **ids}, headers=admin
            )
            codes[role] = reply.json()["code"]
        return codes


async def measure(base_url: str, operator_key: str, runs: int) -> None:
    codes = await people(base_url, operator_key)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        states = {}
        for role, code in codes.items():
            context = await browser.new_context()
            reply = await context.request.post(f"{base_url}/v1/sessions", data={"code": code})
            assert reply.ok, await reply.text()
            states[role] = await context.storage_state()
            await context.close()
        pages = [("try-it", "/", None), ("sign-in", "/signin", None)]
        pages += [("student", "/student", states["student"]), ("advisor", "/advisor", states["advisor"])]
        pages += [("mentor", "/mentor", states["mentor"]), ("admin", "/admin", states["school_admin"])]
        print(
            f"{'page':10} {'FCP median':>11} {'p95':>7} {'worst':>7} {'content median':>15} {'p95':>7} {'worst':>7}"
            f" {'scripts':>8} {'1st API':>8}   (ms, {runs} runs; scripts and 1st API: ends, medians)"
        )
        for name, path, state in pages:
            timings = []
            for run in range(runs + 1):
                # Playwright waits by evaluating script text, which the pages' CSP forbids; bypass it for that.
                context = await browser.new_context(storage_state=state, bypass_csp=True)
                page = await context.new_page()
                await page.goto(base_url + path)
                await page.wait_for_function("performance.getEntriesByName('smartpick:content').length > 0")
                if run:  # the first load warms the server and the browser
                    timings.append(await page.evaluate(TIMING))
                await context.close()
            fcp, content = ([t[key] for t in timings] for key in ("fcp", "content"))
            scripts = statistics.median(t["scripts"] for t in timings)
            api = [t["api"] for t in timings if t["api"] == t["api"]]  # pages without an API call have NaN
            print(
                f"{name:10} {statistics.median(fcp):11.0f} {percentile(fcp, 0.95):7.0f} {max(fcp):7.0f} "
                f"{statistics.median(content):15.0f} {percentile(content, 0.95):7.0f} {max(content):7.0f} "
                f"{scripts:8.0f} {statistics.median(api) if api else float('nan'):8.0f}"
            )
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--url", help="a running stack's gateway (default: start one)")
    parser.add_argument("--operator-key", help="an operator key of that stack")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.url:
            url, key = args.url, args.operator_key
        else:
            started = stack.enter_context(bench_stack())
            url, key = started.base_url, started.operator_key
        asyncio.run(measure(url, key, args.runs))


if __name__ == "__main__":
    main()
