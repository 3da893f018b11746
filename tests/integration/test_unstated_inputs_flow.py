"""Inputs left unsaid on the real stack: a profile without honors, home program or away rotations is stored
so (null when read back, unstated_inputs on the event), scored as the typical applicant the anchors pin, and
its list says what it took; saying them changes the figure the way the model has it."""

import pytest
from support import add_student, profile, wait_for_recommendations

pytestmark = pytest.mark.integration

UNSAID = ("clerkship_honors", "has_home_program", "away_rotations")


async def test_unsaid_inputs_are_stored_as_unsaid_and_scored_as_the_typical_applicants(http, new_school):
    school = await new_school()
    results = {}
    for name, said in {
        "unsaid": {},
        "typical": {"clerkship_honors": 3, "has_home_program": True, "away_rotations": 2},
        "none": {"clerkship_honors": 0, "has_home_program": False, "away_rotations": 0},
    }.items():
        student = await add_student(http, school)
        body = profile(step2=255, research=21, medical_school_state="CA", **said)
        saved = await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)
        assert saved.status_code == 202, saved.text
        stored = (await http.get(f"/v1/students/{student}/profile", headers=school.admin)).json()["profile"]
        assert [stored[field] for field in UNSAID] == [said.get(field) for field in UNSAID]
        results[name] = await wait_for_recommendations(http, student, school.admin, version=1)

    unsaid, typical, none = results["unsaid"], results["typical"], results["none"]
    (note,) = [n for n in unsaid["notes"] if "does not say" in n]
    assert "your chances in Dermatology take a typical applicant's (3 clerkships graded honors; a home" in note
    assert not any("does not say" in n for n in typical["notes"] + none["notes"])
    # Unsaid reads exactly as the typical applicant said it; having none of them reads lower.
    assert unsaid["list_match_probability"] == pytest.approx(typical["list_match_probability"], abs=1e-9)
    assert none["list_match_probability"] < unsaid["list_match_probability"] - 0.05
