"""The mentorship use cases (`service.registry`, `service.matching`) on an in-memory repository, no I/O:
rounds, publishing, answers, declines and endings, with their slots, transitions and events."""

import asyncio
import contextlib
import copy
import datetime
import itertools
import uuid

import pytest

from smartpick_mentorship.adapters.mentor_pools import MentorPools
from smartpick_mentorship.adapters.repository import MENTOR_FIELDS, StoredRequest, reasons_to_json
from smartpick_mentorship.domain.model import Policy, Signals
from smartpick_mentorship.domain.workflow import CLOSED_WITH_MENTOR, HOLDS_SLOT, MatchStatus
from smartpick_mentorship.service import NotFound, Refused
from smartpick_mentorship.service.matching import Matching
from smartpick_mentorship.service.registry import Registry
from smartpick_platform.unit_of_work import Work

SCHOOL = str(uuid.uuid4())
_clock = itertools.count()


def _now() -> datetime.datetime:
    """Strictly rising times, so 'oldest first' is the order rows were written in."""
    return datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=next(_clock))


class FakeRepository:
    """The repository's tables as dicts, and the unit of work over them: a unit of work that raises rolls
    every table back, as a transaction does."""

    def __init__(self):
        self.mentors: dict[uuid.UUID, dict] = {}
        self.load: dict[str, int] = {}
        self.stored_requests: dict[str, StoredRequest] = {}
        self.match_rows: dict[uuid.UUID, dict] = {}
        self.rounds: dict[uuid.UUID, dict] = {}
        self.transitions: list[tuple] = []
        self.outbox: list = []
        self.scopes: list[tuple] = []

    @contextlib.asynccontextmanager
    async def tenant(self, tenant_id, *, acting_for=None, lock=None):
        """The unit of work too: the events raised reach the outbox only when the work ends cleanly."""
        self.scopes.append((tenant_id, (acting_for or {}).get("app.mentor_id") or None, lock is not None))
        saved = copy.deepcopy({k: v for k, v in vars(self).items() if k != "scopes"})
        work = Work(object())
        try:
            yield work
        except BaseException:
            vars(self).update(saved)
            raise
        self.outbox += work.events

    # Mentors
    async def insert_mentor(self, conn, tenant_id, fields):
        mentor_id = uuid.uuid4()
        self.mentors[mentor_id] = {
            "mentor_id": mentor_id,
            "tenant_id": uuid.UUID(tenant_id) if tenant_id else None,
            "create_time": _now(),
            **fields,
        }
        self.load[str(mentor_id)] = 0
        return self.mentors[mentor_id]

    async def get_mentor(self, conn, mentor_id):
        row = self.mentors.get(mentor_id)
        return row and {**row, "held": self.load[str(mentor_id)]}

    async def registry_fingerprint(self, conn):
        return len(self.mentors), tuple(sorted(str(m) for m in self.mentors))

    async def visible_mentor_rows(self, conn):
        return list(self.mentors.values())

    async def held(self, conn):
        return dict(self.load)

    async def change_load(self, conn, deltas):
        for mentor, delta in deltas.items():
            self.load[str(mentor)] += delta

    # Requests
    async def requests(self, conn, student_id=None):
        if student_id:
            return {student_id: self.stored_requests[student_id]} if student_id in self.stored_requests else {}
        return dict(self.stored_requests)

    async def closed_pairs(self, conn, student_id=None):
        closed: dict[str, set] = {}
        for row in self.match_rows.values():
            if row["status"] in CLOSED_WITH_MENTOR and (student_id is None or str(row["student_id"]) == student_id):
                closed.setdefault(str(row["student_id"]), set()).add(str(row["mentor_id"]))
        return {s: frozenset(m) for s, m in closed.items()}

    async def policy(self, conn):
        return Policy()

    # Matches and rounds
    async def students_with_open_match(self, conn):
        return {str(r["student_id"]) for r in self.match_rows.values() if r["status"] in HOLDS_SLOT}

    async def insert_matches(self, conn, matches):
        for m in matches:
            mentor = self.mentors[uuid.UUID(m["mentor_id"])]
            self.match_rows[uuid.UUID(m["match_id"])] = {
                **m,
                "match_id": uuid.UUID(m["match_id"]),
                "tenant_id": uuid.UUID(m["tenant_id"]),
                "student_id": uuid.UUID(m["student_id"]),
                "mentor_id": uuid.UUID(m["mentor_id"]),
                "round_id": uuid.UUID(m["round_id"]) if m["round_id"] else None,
                "reasons": reasons_to_json(m["reasons"]),
                "note": "",
                "rating": 0,
                "create_time": _now(),
                "update_time": None,
                "mentor_display_name": mentor["display_name"],
                "mentor_specialty": mentor["specialty"],
            }

    async def get_match(self, conn, match_id, for_update=False):
        row = self.match_rows.get(match_id)
        return row and dict(row)

    def _matches(self, keep):
        rows = [dict(r) for r in self.match_rows.values() if keep(r)]
        return sorted(rows, key=lambda r: (r["create_time"], r["match_id"]))

    async def student_matches(self, conn, student_id, statuses):
        return self._matches(lambda r: r["student_id"] == student_id and r["status"] in set(statuses))

    async def round_matches(self, conn, round_ids, status=None):
        return self._matches(lambda r: r["round_id"] in round_ids and (status is None or r["status"] == status))

    async def mentor_matches(self, conn, mentor_id, statuses):
        return self._matches(lambda r: r["mentor_id"] == mentor_id and r["status"] in set(statuses))

    async def set_status(self, conn, match_ids, status, note="", rating=0):
        for match_id in match_ids:
            row = self.match_rows[match_id]
            row.update(status=status.value, note=note or row["note"], rating=rating or row["rating"])

    async def record_transitions(self, conn, transitions):
        self.transitions += transitions

    async def insert_round(self, conn, round_):
        round_id = uuid.UUID(round_["round_id"])
        self.rounds[round_id] = {**round_, "round_id": round_id, "status": "draft", "create_time": _now()}

    async def get_round(self, conn, round_id, for_update=False):
        row = self.rounds.get(round_id)
        return row and dict(row)

    async def draft_rounds(self, conn):
        return [r for r, row in self.rounds.items() if row["status"] == "draft"]

    async def set_round_status(self, conn, round_ids, status):
        for round_id in round_ids:
            self.rounds[round_id]["status"] = status


def mentor_fields(name: str, capacity: int = 1) -> dict:
    fields = dict.fromkeys(MENTOR_FIELDS)
    fields |= {
        "display_name": name,
        "specialty": "Dermatology",
        "subspecialties": [],
        "institution": "",
        "state": "CA",
        "research_interests": [],
        "languages": ["English"],
        "goals": ["applications"],
        "capacity": capacity,
        "availability_hours_per_month": 4.0,
        "accepting_new_mentees": True,
        "accepts_other_schools": True,
    }
    return fields


def ask(repo: FakeRepository, states=("CA",)) -> str:
    student = str(uuid.uuid4())
    request = {"goals": ["applications"], "preferred_specialties": ["Dermatology"], "preferred_states": list(states)}
    repo.stored_requests[student] = StoredRequest(request, Signals(), profile_version=3, recommendations_version=0)
    return student


def offered(matching: Matching) -> dict:
    """Runs and publishes a round of the one student who asked: their proposal, as drafted."""
    drafted = asyncio.run(matching.run_round(SCHOOL))
    asyncio.run(matching.publish_round(SCHOOL, drafted.round["round_id"]))
    (offer,) = drafted.matches
    return offer


@pytest.fixture
def school():
    repo = FakeRepository()
    pools = MentorPools(repo)
    registry, matching = Registry(repo, repo, pools), Matching(repo, repo, pools)
    mentors = [asyncio.run(registry.register_mentor(SCHOOL, mentor_fields(f"Dr {n}"))) for n in "ABC"]
    return repo, registry, matching, [m["mentor_id"] for m in mentors]


def test_a_round_drafts_one_proposal_per_student_and_the_next_round_gives_its_slots_back(school):
    repo, _, matching, _ = school
    students = {ask(repo), ask(repo)}
    first = asyncio.run(matching.run_round(SCHOOL))
    assert {str(m["student_id"]) for m in first.matches} == students
    assert all(m["status"] == "draft" for m in first.matches) and sum(repo.load.values()) == 2
    assert repo.scopes[-1] == (SCHOOL, None, True)  # slots change: under the matching lock
    second = asyncio.run(matching.run_round(SCHOOL))
    assert repo.rounds[first.round["round_id"]]["status"] == "withdrawn"
    assert all(repo.match_rows[m["match_id"]]["status"] == "withdrawn" for m in first.matches)
    assert sum(repo.load.values()) == 2 and len(second.matches) == 2  # the old drafts gave their slots back
    assert repo.outbox == []  # drafts are the admins' own: no event until published


def test_publishing_offers_every_draft_once_with_one_event_each(school):
    repo, _, matching, _ = school
    ask(repo), ask(repo)
    drafted = asyncio.run(matching.run_round(SCHOOL))
    published = asyncio.run(matching.publish_round(SCHOOL, drafted.round["round_id"]))
    assert published.round["status"] == "published" and {m["status"] for m in published.matches} == {"proposed"}
    assert len(repo.outbox) == 2 and {e.key for e in repo.outbox} <= {str(m["student_id"]) for m in drafted.matches}
    asyncio.run(matching.publish_round(SCHOOL, drafted.round["round_id"]))
    assert len(repo.outbox) == 2  # publishing again changes nothing


def test_a_replaced_round_is_refused_and_an_unknown_one_not_found(school):
    repo, _, matching, _ = school
    ask(repo)
    old = asyncio.run(matching.run_round(SCHOOL))
    asyncio.run(matching.run_round(SCHOOL))
    with pytest.raises(Refused, match="newer round"):
        asyncio.run(matching.publish_round(SCHOOL, old.round["round_id"]))
    with pytest.raises(NotFound):
        asyncio.run(matching.publish_round(SCHOOL, uuid.uuid4()))


def test_a_decline_offers_the_best_mentor_left_at_once_and_never_the_decliner_again(school):
    repo, _, matching, mentors = school
    student = ask(repo)
    offer = offered(matching)
    declined, next_offer = asyncio.run(
        matching.respond(offer["mentor_id"], offer["match_id"], MatchStatus.DECLINED, "full this term")
    )
    assert declined["status"] == "declined" and declined["note"] == "full this term"
    assert next_offer["status"] == "proposed" and str(next_offer["student_id"]) == student
    assert next_offer["mentor_id"] != offer["mentor_id"] and next_offer["mentor_id"] in mentors
    assert repo.load[str(offer["mentor_id"])] == 0 and repo.load[str(next_offer["mentor_id"])] == 1
    for _ in range(2):  # decline again: the third mentor, then nobody is left
        last = next_offer
        _, next_offer = asyncio.run(matching.respond(last["mentor_id"], last["match_id"], MatchStatus.DECLINED, ""))
    assert next_offer is None and sum(repo.load.values()) == 0


def test_a_refused_step_changes_nothing_and_another_mentors_match_is_not_found(school):
    repo, registry, matching, _ = school
    ask(repo)
    drafted = asyncio.run(matching.run_round(SCHOOL))
    (draft,) = drafted.matches
    before = (copy.deepcopy(repo.match_rows), list(repo.transitions), dict(repo.load))
    with pytest.raises(NotFound):  # a draft is the admins' own: its mentor does not see it yet
        asyncio.run(matching.respond(draft["mentor_id"], draft["match_id"], MatchStatus.ACCEPTED, ""))
    asyncio.run(matching.publish_round(SCHOOL, drafted.round["round_id"]))
    stranger = asyncio.run(registry.register_mentor(SCHOOL, mentor_fields("Dr Z")))["mentor_id"]
    with pytest.raises(NotFound):
        asyncio.run(matching.respond(stranger, draft["match_id"], MatchStatus.ACCEPTED, ""))
    asyncio.run(matching.end_match(draft["match_id"], "thanks", 5, tenant=SCHOOL))
    ended = (copy.deepcopy(repo.match_rows), list(repo.transitions), dict(repo.load))
    with pytest.raises(Refused):  # an ended match cannot be accepted
        asyncio.run(matching.respond(draft["mentor_id"], draft["match_id"], MatchStatus.ACCEPTED, ""))
    assert (repo.match_rows, repo.transitions, repo.load) == ended != before
    assert repo.match_rows[draft["match_id"]]["rating"] == 5 and sum(repo.load.values()) == 0


def test_suggestions_leave_out_the_students_current_mentor(school):
    repo, registry, matching, mentors = school
    student = ask(repo)
    offer = offered(matching)
    suggested = asyncio.run(registry.suggest(SCHOOL, student, 5))
    assert {s.mentor_id for s, _, _ in suggested} == {str(m) for m in mentors} - {str(offer["mentor_id"])}
    with pytest.raises(NotFound, match="has not asked"):
        asyncio.run(registry.suggest(SCHOOL, str(uuid.uuid4()), 5))
