"""How a simulated program sees an applicant before interviews: the programs' drawn facts and the score
their visible strengths earn. One place for it, read by the simulated Match (`market`) and by the replay of
a list in it (`replay`), so that a list is played by the rules the Match ran on."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.catalog import Program
from smartpick_ranking.training.targets import SpecialtyTargets

STEP2_SD = 13.0


@dataclass
class Knobs:
    """What the calibration passes adjust."""

    md_per_position: float  # US MD applicants per position
    other_per_position: float  # DO and IMG applicants per position (DO alone where the IMG pool is known)
    non_md_weight: float  # how much programs hold a DO or IMG degree against an applicant
    step2_weight: float
    step2_coupling: float  # how much a US MD applicant's AOA chance follows their Step 2 CK (0-1)
    top_signal_weight: float
    second_signal_weight: float
    step2_shift: float  # without band rates: the US MD Step 2 CK mean
    img_weight: float = 0.0  # where the IMG match rate is known: what programs add to (or take from) an IMG
    img_step2_share: float = 1.0  # of the Step 2 CK weight, what a non-US IMG's score is given (fitted to halves)


def _known_or_drawn(rng, known: list, draw) -> np.ndarray:
    """Each program's value where stated, else a draw from the stated ones (or `draw` when none is)."""
    stated = [v for v in known if v is not None]
    pool = np.array(stated, dtype=float) if stated else None
    return np.array([float(v) if v is not None else (rng.choice(pool) if pool is not None else draw()) for v in known])


@dataclass(frozen=True)
class DrawnPrograms:
    """The programs as one simulated Match runs them: each stated fact, or one drawn from the specialty's
    programs that state it (ASSUMPTIONS["program_facts"])."""

    states: np.ndarray
    size: np.ndarray  # positions
    kind: np.ndarray  # academic, community_affiliated, community
    j1: np.ndarray  # takes a J-1 applicant
    h1b: np.ndarray
    img_share: np.ndarray
    do_share: np.ndarray
    popularity: np.ndarray  # applications received per position

    @classmethod
    def draw(cls, rng: np.random.Generator, programs: Sequence[Program], targets: SpecialtyTargets) -> "DrawnPrograms":
        states = np.array([p.state or "" for p in programs])
        positions = _known_or_drawn(rng, [p.positions for p in programs], lambda: 1 + rng.poisson(4))
        kinds = [p.program_type for p in programs]
        stated_kinds = [k for k in kinds if k] or ["academic", "community_affiliated", "community"]
        kind = np.array([k or rng.choice(stated_kinds) for k in kinds])
        j1 = _known_or_drawn(rng, [p.sponsors_j1 for p in programs], lambda: rng.random() < 0.6) > 0.5
        h1b = _known_or_drawn(rng, [p.sponsors_h1b for p in programs], lambda: rng.random() < 0.3) > 0.5
        non_md = max(0.02, 1 - targets.usmd_share)
        img_share = _known_or_drawn(rng, [p.img_share for p in programs], lambda: rng.beta(2, 2 / (non_md * 0.6) - 2))
        do_share = _known_or_drawn(rng, [p.do_share for p in programs], lambda: rng.beta(2, 2 / (non_md * 0.4) - 2))
        received = [None if not p.applications else p.applications / max(1, p.positions or 1) for p in programs]
        popularity = _known_or_drawn(rng, received, lambda: 1.0)
        return cls(states, np.maximum(1, positions).astype(int), kind, j1, h1b, img_share, do_share, popularity)

    def in_state(self, home_state: np.ndarray) -> np.ndarray:
        """[applicant, program]: the program is in the applicant's school's state."""
        return (home_state[:, None] == self.states[None, :]) & (self.states != "")[None, :]


@dataclass(frozen=True)
class Cohort:
    """Applicants' visible inputs, one entry per applicant (degree_index: 0 US MD, 1 DO, 2 non-US IMG)."""

    degree_index: np.ndarray
    step2: np.ndarray
    has_step2: np.ndarray
    comlex: np.ndarray
    research: np.ndarray
    aoa: np.ndarray
    honors: np.ndarray
    step1_failed: np.ndarray
    years: np.ndarray
    home_state: np.ndarray
    visa: np.ndarray  # none, J1, H1B


def program_view(cohort: Cohort, drawn: DrawnPrograms, knobs: Knobs, targets: SpecialtyTargets) -> np.ndarray:
    """[applicant, program]: what programs see before any signal, home program, away rotation or the latent
    strength; -inf where the program does not take the applicant's visa."""
    c = cohort
    academic_strength = np.where(
        c.has_step2, (c.step2 - targets.mean_step2ck_matched_usmd) / STEP2_SD, (c.comlex - 580) / 75 - 0.3
    )
    academic = drawn.kind == "academic"
    degree_term = np.select(
        [c.degree_index[:, None] == 1, c.degree_index[:, None] == 2],
        [
            -0.5 + 3.0 * (drawn.do_share[None, :] - 0.1),
            -1.2 + 4.0 * (drawn.img_share[None, :] - 0.15) - 0.3 * academic[None, :],
        ],
        0.0,
    )
    takes_visa = np.where(
        (c.visa == "J1")[:, None], drawn.j1[None, :], np.where((c.visa == "H1B")[:, None], drawn.h1b[None, :], True)
    )
    step2_weight = knobs.step2_weight * np.where(c.degree_index == 2, knobs.img_step2_share, 1.0)
    visible = (
        (
            step2_weight * academic_strength
            + 0.45 * (np.log1p(c.research) - np.log1p(targets.mean_research_items_matched))
            + 0.5 * c.aoa
            + 0.12 * (c.honors - 3)
            - 2.5 * c.step1_failed
            - 0.12 * np.maximum(0, c.years - 1)
        )[:, None]
        + 0.6 * drawn.in_state(c.home_state)
        + knobs.non_md_weight * np.minimum(degree_term, 0.0)  # a penalty, never a preference over a US MD
        + knobs.img_weight * (c.degree_index == 2)[:, None]
    )
    return np.where(takes_visa, visible, -np.inf)
