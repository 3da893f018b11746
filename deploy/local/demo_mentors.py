"""Demo mentors (clearly marked: "(demo)" in every name, "Demo" in every institution), loaded through the
public API like any client would: one platform-wide mentor per specialty of the catalog, a few mentors of
each demo school, a key for each mentor, and a mentorship request for each demo student."""

import httpx

# The catalog's specialties (NRMP names, as in ../shared/data/specialty_stats.csv).
SPECIALTIES = (
    "Anesthesiology",
    "Dermatology",
    "Diagnostic Radiology",
    "Emergency Medicine",
    "Family Medicine",
    "General Surgery",
    "Internal Medicine",
    "Interventional Radiology (Integrated)",
    "Neurological Surgery",
    "Neurology",
    "Obstetrics and Gynecology",
    "Orthopaedic Surgery",
    "Otolaryngology",
    "Pediatrics",
    "Plastic Surgery (Integrated)",
    "Psychiatry",
    "Radiation Oncology",
)

# (name, state, research interests, languages) of the platform-wide mentor of each specialty, in order.
PLATFORM_MENTORS = (
    ("Dr. Elena Marsh", "MA", ["regional anesthesia", "perioperative outcomes"], ["English"]),
    ("Dr. Priya Raman", "CA", ["dermatopathology", "skin of color"], ["English", "Tamil"]),
    ("Dr. Marcus Bell", "TX", ["imaging AI", "breast imaging"], ["English"]),
    ("Dr. Sofia Alvarez", "AZ", ["resuscitation", "health equity"], ["English", "Spanish"]),
    ("Dr. Thomas Nguyen", "WA", ["rural health", "medical education"], ["English", "Vietnamese"]),
    ("Dr. Grace Okoye", "IL", ["trauma", "surgical education"], ["English"]),
    ("Dr. Daniel Cohen", "NY", ["clinical trials", "hospital medicine"], ["English", "Hebrew"]),
    ("Dr. Hannah Park", "PA", ["embolization", "imaging AI"], ["English", "Korean"]),
    ("Dr. Victor Haddad", "OH", ["neuro-oncology", "spine"], ["English", "Arabic"]),
    ("Dr. Laura Fischer", "MN", ["stroke", "epilepsy"], ["English", "German"]),
    ("Dr. Amara Diallo", "GA", ["maternal health", "health equity"], ["English", "French"]),
    ("Dr. Ryan O'Connell", "NC", ["sports medicine", "arthroplasty"], ["English"]),
    ("Dr. Mei Lin", "CA", ["head and neck oncology", "rhinology"], ["English", "Mandarin"]),
    ("Dr. Jamal Carter", "MD", ["neonatology", "global health"], ["English"]),
    ("Dr. Isabel Moreau", "FL", ["craniofacial", "microsurgery"], ["English", "French", "Spanish"]),
    ("Dr. Kwame Mensah", "MI", ["addiction", "wellbeing"], ["English"]),
    ("Dr. Ana Kowalski", "CO", ["proton therapy", "clinical trials"], ["English", "Polish"]),
)

# Mentors of each demo school, by the school's index in the demo data: (name, specialty, state, research).
SCHOOL_MENTORS = (
    (
        ("Dr. Julia Brandt", "Dermatology", "NY", ["dermatopathology", "clinical trials"]),
        ("Dr. Omar Siddiqui", "Orthopaedic Surgery", "PA", ["sports medicine"]),
        ("Dr. Chloe Martin", "Plastic Surgery (Integrated)", "MA", ["microsurgery", "craniofacial"]),
        ("Dr. Ben Adler", "General Surgery", "NY", ["surgical education", "trauma"]),
    ),
    (
        ("Dr. Luis Ortega", "Emergency Medicine", "CA", ["resuscitation", "ultrasound"]),
        ("Dr. Farah Nasser", "Internal Medicine", "WA", ["hospital medicine", "global health"]),
        ("Dr. Kenji Sato", "Dermatology", "CA", ["skin of color", "dermatopathology"]),
    ),
)

STUDENT_REQUESTS = (
    {"goals": ["research", "applications"], "research_interests": ["dermatopathology"]},
    {"goals": ["applications", "interviews"], "research_interests": ["sports medicine"]},
    {"goals": ["interviews", "wellbeing"], "research_interests": ["microsurgery"]},
)


def _register(http: httpx.Client, headers: dict, body: dict) -> dict:
    reply = http.post("/v1/mentorship/mentors", json=body, headers=headers)
    reply.raise_for_status()
    mentor = reply.json()
    key = http.post(f"/v1/mentorship/mentors/{mentor['mentor_id']}/api-keys", headers=headers)
    key.raise_for_status()
    return {
        "mentor_id": mentor["mentor_id"],
        "name": mentor["display_name"],
        "specialty": mentor["specialty"],
        "mentor_key": key.json()["api_key"],
    }


def load_mentors(http: httpx.Client, operator_key: str, schools: list[dict]) -> list[dict]:
    """Registers the demo mentors and the students' requests; returns the mentors with their keys."""
    operator = {"Authorization": f"Bearer {operator_key}"}
    mentors = []
    for k, (specialty, (name, state, research, languages)) in enumerate(
        zip(SPECIALTIES, PLATFORM_MENTORS, strict=True)
    ):
        body = {
            "display_name": f"{name} (demo)",
            "specialty": specialty,
            "institution": f"Demo University Hospital of {state}",
            "state": state,
            "research_interests": research,
            "languages": languages,
            "capacity": 2 + k % 3,
            "availability_hours_per_month": [2, 3, 4][k % 3],
        }
        mentors.append(_register(http, operator, body))
    for school, school_mentors in zip(schools, SCHOOL_MENTORS, strict=False):
        admin = {"Authorization": f"Bearer {school['admin_key']}"}
        for name, specialty, state, research in school_mentors:
            body = {
                "display_name": f"{name} (demo)",
                "specialty": specialty,
                "institution": f"{school['name']} Hospital",
                "state": state,
                "research_interests": research,
                "capacity": 2,
                "availability_hours_per_month": 3,
                "accepts_other_schools": specialty == "Dermatology",
            }
            mentors.append({**_register(http, admin, body), "school_id": school["school_id"]})
        for k, student in enumerate(school["students"]):
            request = STUDENT_REQUESTS[k % len(STUDENT_REQUESTS)]
            http.put(
                f"/v1/students/{student['student_id']}/mentorship-request", json=request, headers=admin
            ).raise_for_status()
    return mentors
