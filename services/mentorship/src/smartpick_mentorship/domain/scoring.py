"""Compatibility of (mentee, mentor) pairs, computed for whole blocks of mentees at once with numpy.

Each criterion gives 0-1; a pair's score is the weighted mean over the criteria the mentee expressed
(a mentee who named no research interests is not scored on research), so scores read as "the share of
what this student asked for that this mentor offers". Hard constraints (school rules, the school's
policy, mentors who already declined the student) make a pair ineligible rather than lowering its score."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_mentorship.domain.model import CRITERIA, REGION_OF_STATE, Criterion, Mentee, Mentor, Policy, Reason

SPECIALTY_RANK_WEIGHTS = (1.0, 0.85, 0.7, 0.6, 0.5)  # first choice counts fully, later choices less
BLOCK_SIZE = 512  # mentees scored at once: bounds memory at BLOCK_SIZE x mentors per criterion
_C = {criterion: k for k, criterion in enumerate(CRITERIA)}


def _key(text: str) -> str:
    return text.strip().casefold()


class _Vocabulary:
    def __init__(self, terms):
        self.index: dict[str, int] = {}
        for term in terms:
            self.index.setdefault(_key(term), len(self.index))

    def __len__(self) -> int:
        return len(self.index)

    def multi_hot(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
        matrix = np.zeros((len(rows), max(len(self), 1)), dtype=np.float32)
        for r, terms in enumerate(rows):
            for term in terms:
                k = self.index.get(_key(term))
                if k is not None:
                    matrix[r, k] = 1.0
        return matrix


class MentorPool:
    """The mentors a school may match with, encoded once for fast scoring."""

    def __init__(self, mentors: Sequence[Mentor]):
        self.mentors = list(mentors)
        self.position = {m.mentor_id: j for j, m in enumerate(self.mentors)}
        self.specialties = _Vocabulary(m.specialty for m in self.mentors)
        self.states = _Vocabulary([*(m.state for m in self.mentors), *REGION_OF_STATE])
        self.regions = _Vocabulary(REGION_OF_STATE.values())
        self.institutions = _Vocabulary(m.institution for m in self.mentors if m.institution.strip())
        self.subspecialties = _Vocabulary(t for m in self.mentors for t in m.subspecialties)
        self.research = _Vocabulary(t for m in self.mentors for t in m.research_interests)
        self.languages = _Vocabulary(t for m in self.mentors for t in m.languages)
        self.goals = _Vocabulary(g for m in self.mentors for g in m.goals)
        self.specialty_of = np.array([self.specialties.index[_key(m.specialty)] for m in self.mentors], dtype=np.int64)
        self.state_of = np.array([self.states.index.get(_key(m.state), -1) for m in self.mentors], dtype=np.int64)
        self.region_of = np.array(
            [self.regions.index.get(REGION_OF_STATE.get(m.state.strip().upper(), ""), -1) for m in self.mentors],
            dtype=np.int64,
        )
        self._institutions_in: dict[str, list[int]] = {}
        self.institution_of = np.array(
            [self.institutions.index.get(_key(m.institution), -1) for m in self.mentors], dtype=np.int64
        )
        self.subspecialty_hot = self.subspecialties.multi_hot([m.subspecialties for m in self.mentors]).T
        self.research_hot = self.research.multi_hot([m.research_interests for m in self.mentors]).T
        self.language_hot = self.languages.multi_hot([m.languages for m in self.mentors]).T
        self.goal_hot = self.goals.multi_hot([m.goals for m in self.mentors]).T
        self.hours = np.array([m.availability_hours_per_month for m in self.mentors], dtype=np.float32)
        self.capacity = np.array([m.capacity for m in self.mentors], dtype=np.int64)
        self.accepting = np.array([m.accepting_new_mentees and m.capacity > 0 for m in self.mentors], dtype=bool)
        self.tenant_code = {t: k for k, t in enumerate(dict.fromkeys(m.tenant_id for m in self.mentors))}
        self.tenant_of = np.array([self.tenant_code[m.tenant_id] for m in self.mentors], dtype=np.int64)
        self.open_to_all = np.array([m.tenant_id is None or m.accepts_other_schools for m in self.mentors], dtype=bool)

    def __len__(self) -> int:
        return len(self.mentors)

    def institutions_in(self, target: str) -> list[int]:
        """Institutions named by, or inside, a target such as a program name ("Stanford" in "Stanford Health")."""
        key = _key(target)
        if key not in self._institutions_in:
            self._institutions_in[key] = [k for name, k in self.institutions.index.items() if name in key]
        return self._institutions_in[key]

    def remaining(self, held: Mapping[str, int]) -> np.ndarray:
        """Free slots per mentor, given the slots already held (by proposals and accepted matches)."""
        taken = np.array([held.get(m.mentor_id, 0) for m in self.mentors], dtype=np.int64)
        return np.where(self.accepting, np.maximum(self.capacity - taken, 0), 0)


@dataclass(frozen=True)
class ScoredBlock:
    """Scores of a block of mentees (rows) against every mentor of the pool (columns)."""

    score: np.ndarray  # (n, m) weighted mean, 0-1
    eligible: np.ndarray  # (n, m) hard constraints hold
    contributions: np.ndarray  # (n, m, criteria): each criterion's share of the score


def _overlap(mentee_hot: np.ndarray, mentor_hot_t: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Share of each mentee's terms that each mentor has."""
    return (mentee_hot @ mentor_hot_t) / np.maximum(sizes, 1)[:, None]


def score_block(mentees: Sequence[Mentee], pool: MentorPool, policy: Policy) -> ScoredBlock:
    n, m = len(mentees), len(pool)
    parts = np.zeros((n, m, len(CRITERIA)), dtype=np.float32)
    applies = np.zeros((n, len(CRITERIA)), dtype=np.float32)

    preference = np.zeros((n, max(len(pool.specialties), 1)), dtype=np.float32)
    for r, mentee in enumerate(mentees):
        for rank, specialty in enumerate(mentee.specialties):
            k = pool.specialties.index.get(_key(specialty))
            if k is not None and preference[r, k] == 0:
                preference[r, k] = SPECIALTY_RANK_WEIGHTS[min(rank, len(SPECIALTY_RANK_WEIGHTS) - 1)]
    parts[:, :, _C[Criterion.SPECIALTY]] = preference[:, pool.specialty_of] if m else 0
    applies[:, _C[Criterion.SPECIALTY]] = [bool(x.specialties) for x in mentees]

    for criterion, vocabulary, mentor_hot, terms_of in (
        (Criterion.SUBSPECIALTY, pool.subspecialties, pool.subspecialty_hot, lambda x: x.subspecialties),
        (Criterion.RESEARCH, pool.research, pool.research_hot, lambda x: x.research_interests),
        (Criterion.GOALS, pool.goals, pool.goal_hot, lambda x: x.goals),
    ):
        terms = [unique_keys(terms_of(x)) for x in mentees]
        sizes = np.array([len(t) for t in terms], dtype=np.float32)
        parts[:, :, _C[criterion]] = _overlap(vocabulary.multi_hot(terms), mentor_hot, sizes)
        applies[:, _C[criterion]] = sizes > 0

    languages = [unique_keys(x.languages) for x in mentees]
    shared = (pool.languages.multi_hot(languages) @ pool.language_hot) > 0
    parts[:, :, _C[Criterion.LANGUAGE]] = shared
    applies[:, _C[Criterion.LANGUAGE]] = [bool(x) for x in languages]

    in_state = pool.states.multi_hot([x.states for x in mentees])
    regions = [[REGION_OF_STATE.get(s.strip().upper(), "") for s in x.states] for x in mentees]
    in_region = pool.regions.multi_hot(regions)
    state_hit = np.where(pool.state_of >= 0, in_state[:, np.maximum(pool.state_of, 0)], 0)
    region_hit = np.where(pool.region_of >= 0, in_region[:, np.maximum(pool.region_of, 0)], 0)
    parts[:, :, _C[Criterion.GEOGRAPHY]] = np.maximum(state_hit, 0.5 * region_hit)
    applies[:, _C[Criterion.GEOGRAPHY]] = [bool(x.states) for x in mentees]

    targeted = np.zeros((n, max(len(pool.institutions), 1)), dtype=np.float32)
    for r, mentee in enumerate(mentees):
        for target in mentee.institution_targets:
            targeted[r, pool.institutions_in(target)] = 1.0
    parts[:, :, _C[Criterion.INSTITUTION]] = np.where(
        pool.institution_of >= 0, targeted[:, np.maximum(pool.institution_of, 0)], 0
    )
    applies[:, _C[Criterion.INSTITUTION]] = [bool(x.institution_targets) for x in mentees]

    wanted = np.array([max(x.hours_per_month, 0.1) for x in mentees], dtype=np.float32)
    parts[:, :, _C[Criterion.AVAILABILITY]] = np.minimum(pool.hours[None, :] / wanted[:, None], 1.0)
    applies[:, _C[Criterion.AVAILABILITY]] = 1.0

    weights = np.array([max(policy.weights.get(c, 0.0), 0.0) for c in CRITERIA], dtype=np.float32)
    weighted = applies * weights
    denominator = np.maximum(weighted.sum(axis=1), 1e-9)
    contributions = parts * (weighted / denominator[:, None])[:, None, :]
    score = contributions.sum(axis=2)
    return ScoredBlock(score, _eligible(mentees, pool, policy, parts, score), contributions)


def unique_keys(terms) -> list[str]:
    return list(dict.fromkeys(_key(t) for t in terms if t.strip()))


def _eligible(
    mentees: Sequence[Mentee], pool: MentorPool, policy: Policy, parts: np.ndarray, score: np.ndarray
) -> np.ndarray:
    school = np.array([pool.tenant_code.get(x.tenant_id, -1) for x in mentees], dtype=np.int64)
    same_school = pool.tenant_of[None, :] == school[:, None]
    eligible = (same_school | pool.open_to_all[None, :]) & pool.accepting[None, :]
    if policy.require_specialty_match:
        eligible &= parts[:, :, _C[Criterion.SPECIALTY]] > 0
    if policy.require_shared_language:
        has_languages = np.array([bool(unique_keys(x.languages)) for x in mentees], dtype=bool)
        eligible &= (parts[:, :, _C[Criterion.LANGUAGE]] > 0) | ~has_languages[:, None]
    eligible &= score >= policy.min_score - 1e-9
    for r, mentee in enumerate(mentees):
        for mentor_id in mentee.excluded_mentor_ids:
            j = pool.position.get(mentor_id)
            if j is not None:
                eligible[r, j] = False
    return eligible


def blocks(mentees: Sequence[Mentee], pool: MentorPool, policy: Policy) -> Iterator[tuple[int, ScoredBlock]]:
    """Scores mentees BLOCK_SIZE at a time; yields (index of the block's first mentee, its scores)."""
    for start in range(0, len(mentees), BLOCK_SIZE):
        yield start, score_block(mentees[start : start + BLOCK_SIZE], pool, policy)


def reasons(mentee: Mentee, mentor: Mentor, contributions: np.ndarray) -> tuple[Reason, ...]:
    """The criteria that gave this pair its score, largest share first, each in words."""
    found = [
        Reason(criterion, round(float(contributions[_C[criterion]]), 4), describe(criterion, mentee, mentor))
        for criterion in CRITERIA
        if contributions[_C[criterion]] > 1e-6
    ]
    return tuple(sorted(found, key=lambda r: -r.contribution))


def _shared(mine, theirs) -> list[str]:
    wanted = {_key(t) for t in mine}
    return [t for t in theirs if _key(t) in wanted]


def describe(criterion: Criterion, mentee: Mentee, mentor: Mentor) -> str:
    if criterion is Criterion.SPECIALTY:
        rank = [_key(s) for s in mentee.specialties].index(_key(mentor.specialty)) + 1
        which = "your first-choice specialty" if rank == 1 else f"your choice #{rank}"
        return f"{mentor.specialty} mentor: {which}"
    if criterion is Criterion.SUBSPECIALTY:
        return "subspecialty in common: " + ", ".join(_shared(mentee.subspecialties, mentor.subspecialties))
    if criterion is Criterion.RESEARCH:
        shared = _shared(mentee.research_interests, mentor.research_interests)
        return "research interests in common: " + ", ".join(shared)
    if criterion is Criterion.GEOGRAPHY:
        if mentor.state.upper() in {s.upper() for s in mentee.states}:
            return f"practices in {mentor.state}, a state you are aiming for"
        return f"practices in {mentor.state}, in the {REGION_OF_STATE.get(mentor.state.upper(), '')} region you aim for"
    if criterion is Criterion.INSTITUTION:
        return f"at {mentor.institution}, where you are aiming to train"
    if criterion is Criterion.GOALS:
        return "helps with " + ", ".join(str(g) for g in mentee.goals if g in mentor.goals)
    if criterion is Criterion.AVAILABILITY:
        return f"offers {mentor.availability_hours_per_month:g} h/month (you asked for {mentee.hours_per_month:g})"
    return "speaks " + ", ".join(_shared(mentee.languages, mentor.languages))
