"""Loads demo schools and students through the public API, the way a client would.

Clearly demo: school names say so. Idempotent: credentials are kept in .state/demo/ and re-used."""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from demo_mentors import load_mentors

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / ".state/demo"
RATE_LIMIT_RETRIES = 30


class RateLimitedTransport(httpx.HTTPTransport):
    """Waits out a 429 for its Retry-After and sends again: the loader makes requests faster than the
    gateway's per-key limit allows, as a polite client would not."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(RATE_LIMIT_RETRIES):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            response.read()
            time.sleep(float(response.headers.get("Retry-After", "1")))
        return super().handle_request(request)


SCHOOLS = {
    "Demo School of Medicine (Northeast)": [
        ("NE-001", "Avery Chen", "MD", 262, 28, ["Dermatology"], ["NY", "MA"], 80, False),
        ("NE-002", "Jordan Patel", "MD", 248, 9, ["Orthopaedic Surgery"], ["PA", "NJ", "NY"], 90, False),
        ("NE-003", "Sam Okafor", "DO", 251, 14, ["Plastic Surgery (Integrated)", "General Surgery"], [], 100, False),
    ],
    "Demo College of Osteopathic Medicine (West)": [
        ("W-001", "Riley Gomez", "DO", 244, 6, ["Emergency Medicine"], ["CA", "AZ"], 45, False),
        ("W-002", "Noor Haddad", "IMG", 255, 11, ["Internal Medicine"], ["CA", "WA", "OR"], 120, True),
    ],
}


def profile_body(
    degree: str, step2: int, research: int, specialties: list[str], states: list[str], budget: int, visa: bool
) -> dict:
    return {
        "degree_type": degree,
        "step2_ck_score": step2,
        "step1_result": "pass",
        "research_items": research,
        "clerkship_honors": 3,
        "visa_need": "h1b" if visa else "none",
        "years_since_graduation": 2 if degree == "IMG" else 0,
        "signals_sent": 5,
        "away_rotations": 1,
        "preferences": {"specialties": specialties, "preferred_states": states, "application_budget": budget},
    }


def operator_key() -> str:
    return subprocess.run(
        [str(Path(sys.executable).parent / "smartpick-gateway"), "issue-operator-key", "--label", "demo operator"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def load(base_url: str) -> dict:
    operator = operator_key()
    demo: dict = {"operator_key": operator, "schools": []}
    with httpx.Client(base_url=base_url, timeout=10, transport=RateLimitedTransport()) as http:
        for name, students in SCHOOLS.items():
            reply = http.post("/v1/schools", json={"name": name}, headers={"Authorization": f"Bearer {operator}"})
            reply.raise_for_status()
            school = reply.json()
            admin = {"Authorization": f"Bearer {school['admin_api_key']['api_key']}"}
            entry = {
                "school_id": school["school_id"],
                "name": name,
                "admin_key": school["admin_api_key"]["api_key"],
                "students": [],
            }
            for ref, display, degree, step2, research, specialties, states, budget, visa in students:
                student = http.post("/v1/students", json={"external_ref": ref, "display_name": display}, headers=admin)
                student.raise_for_status()
                student_id = student.json()["student_id"]
                body = profile_body(degree, step2, research, specialties, states, budget, visa)
                http.put(f"/v1/students/{student_id}/profile", json=body, headers=admin).raise_for_status()
                entry["students"].append({"student_id": student_id, "name": display})
            demo["schools"].append(entry)
        demo["mentors"] = load_mentors(http, operator, demo["schools"])
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    base_url = parser.parse_args().base_url
    credentials = DEMO_DIR / "credentials.json"
    if credentials.exists():
        demo = json.loads(credentials.read_text())
        print(f"demo data already loaded (credentials in {credentials})")
    else:
        demo = load(base_url)
        DEMO_DIR.mkdir(parents=True, exist_ok=True)
        credentials.write_text(json.dumps(demo, indent=2))
        print(f"demo data loaded: {len(demo['schools'])} schools; credentials in {credentials}")
    school = demo["schools"][0]
    curl = (
        f"curl -s -H 'Authorization: Bearer {school['admin_key']}' "
        f"{base_url}/v1/students/{school['students'][0]['student_id']}/profile"
    )
    (DEMO_DIR / "curl-example.txt").write_text(curl + "\n")


if __name__ == "__main__":
    main()
