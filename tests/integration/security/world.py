"""The records the attack suite aims at: two schools, each with staff, two students with profiles, two mentors
and live proposals between them, and a key for every role; made through the public API only."""

import uuid
from dataclasses import dataclass, field

import httpx
from support import bearer, profile

ROLES = ("operator", "admin", "advisor", "student", "mentor", "none")


def mentor_body(name: str, specialty: str) -> dict:
    return {
        "display_name": name,
        "specialty": specialty,
        "state": "CA",
        "institution": f"{name} Hospital",
        "capacity": 50,  # room for every fresh proposal the suite makes
        "accepts_other_schools": False,
    }


def mentee_request(specialty: str) -> dict:
    return {"goals": ["applications"], "preferred_specialties": [specialty]}


async def expect(reply: httpx.Response, status: int) -> dict:
    assert reply.status_code == status, f"{reply.request.method} {reply.request.url.path}: {reply.text}"
    return reply.json() if reply.content else {}


@dataclass
class SchoolRecords:
    """One school as the suite sees it. `student`/`mentor` are the role keys' own records; `classmate` and
    `other_mentor` are others of the same school; `match`/`classmate_match` are live proposals."""

    http: httpx.AsyncClient
    school_id: str
    keys: dict[str, dict]
    student: str = ""
    classmate: str = ""
    mentor: str = ""
    other_mentor: str = ""
    mentor_bodies: dict[str, dict] = field(default_factory=dict)
    round_id: str = ""
    match: str = ""
    classmate_match: str = ""

    @property
    def admin(self) -> dict:
        return self.keys["admin"]

    async def add_student(self, specialty: str = "Dermatology") -> tuple[str, dict]:
        """A student with a profile, a mentee request and a key of their own."""
        body = {"external_ref": uuid.uuid4().hex, "display_name": "Attack Student"}
        student = (await expect(await self.http.post("/v1/students", json=body, headers=self.admin), 201))["student_id"]
        await expect(
            await self.http.put(
                f"/v1/students/{student}/profile", json=profile(preferences=preferences(specialty)), headers=self.admin
            ),
            202,
        )
        await expect(
            await self.http.put(
                f"/v1/students/{student}/mentorship-request", json=mentee_request(specialty), headers=self.admin
            ),
            200,
        )
        return student, await self.issue_key({"role": "student", "student_id": student})

    async def issue_key(self, body: dict) -> dict:
        path = f"/v1/schools/{self.school_id}/api-keys"
        return bearer((await expect(await self.http.post(path, json=body, headers=self.admin), 201))["api_key"])

    async def register_mentor(self, name: str, specialty: str) -> str:
        body = mentor_body(name, specialty)
        reply = await self.http.post("/v1/mentorship/mentors", json=body, headers=self.admin)
        mentor_id = (await expect(reply, 201))["mentor_id"]
        self.mentor_bodies[mentor_id] = body
        return mentor_id

    async def propose(self) -> dict[str, str]:
        """Runs and publishes a round: each waiting student's proposal, by student id."""
        drafted = await expect(await self.http.post("/v1/mentorship/rounds", headers=self.admin), 201)
        self.round_id = drafted["round_id"]
        await expect(await self.http.post(f"/v1/mentorship/rounds/{self.round_id}/publish", headers=self.admin), 200)
        return {p["student_id"]: p["match_id"] for p in drafted["proposals"]}

    async def fresh_match(self) -> tuple[str, dict]:
        """A new student proposed to this school's `mentor`: (match id, the student's key)."""
        student, key = await self.add_student()
        return (await self.propose())[student], key

    async def fresh_key_id(self) -> str:
        reply = await self.http.post(
            f"/v1/schools/{self.school_id}/api-keys", json={"role": "advisor", "label": "to revoke"}, headers=self.admin
        )
        return (await expect(reply, 201))["key_id"]

    async def sign_in_code(self) -> str:
        body = {"role": "student", "student_id": self.student}
        reply = await self.http.post(f"/v1/schools/{self.school_id}/sign-in-codes", json=body, headers=self.admin)
        return (await expect(reply, 201))["code"]

    async def catalog_program(self) -> str:
        query = {"specialty": "Dermatology", "page_size": 1}
        reply = await self.http.get("/v1/programs", params=query, headers=self.admin)
        return (await expect(reply, 200))["programs"][0]["program_id"]

    async def policy(self) -> dict:
        return await expect(await self.http.get("/v1/mentorship/policy", headers=self.admin), 200)

    def identifiers(self) -> set[str]:
        """What must never show in an answer to a caller of another school."""
        return {self.school_id, self.student, self.classmate, self.mentor, self.other_mentor, self.match}


def preferences(specialty: str) -> dict:
    return {"specialties": [specialty], "preferred_states": ["CA"], "application_budget": 30}


async def make_school(http: httpx.AsyncClient, operator: dict) -> SchoolRecords:
    created = await expect(
        await http.post("/v1/schools", json={"name": f"Attack School {uuid.uuid4().hex[:8]}"}, headers=operator), 201
    )
    school = SchoolRecords(http, created["school_id"], {"admin": bearer(created["admin_api_key"]["api_key"])})
    school.keys["advisor"] = await school.issue_key({"role": "advisor"})
    school.student, school.keys["student"] = await school.add_student("Dermatology")
    school.classmate, _ = await school.add_student("Orthopaedic Surgery")
    school.mentor = await school.register_mentor("Dr Own", "Dermatology")
    school.other_mentor = await school.register_mentor("Dr Other", "Orthopaedic Surgery")
    reply = await http.post(f"/v1/mentorship/mentors/{school.mentor}/api-keys", headers=school.admin)
    school.keys["mentor"] = bearer((await expect(reply, 201))["api_key"])
    proposals = await school.propose()
    school.match, school.classmate_match = proposals[school.student], proposals[school.classmate]
    return school


@dataclass
class World:
    """School A is the callers' own; school B is the other school."""

    operator: dict
    own: SchoolRecords
    other: SchoolRecords

    def key(self, role: str) -> dict:
        if role == "none":
            return {}
        if role == "operator":
            return self.operator
        return self.own.keys[role]


async def make_world(http: httpx.AsyncClient, operator_key: str) -> World:
    operator = bearer(operator_key)
    return World(operator, await make_school(http, operator), await make_school(http, operator))
