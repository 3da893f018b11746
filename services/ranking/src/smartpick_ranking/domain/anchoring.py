"""The model's chances pinned to the public record where the record exists.

The trees learn a simulated Match, and that world is not the real one everywhere: played in it, a planned list
for a typical applicant in Dermatology or Orthopaedic Surgery does 15-25 points better than NRMP's applicants
of the same Step 2 CK band did, and for non-US IMGs the model is off by up to 33 points (docs/model.md). So
the admission stage carries, per specialty and cohort, a shift of its logit fitted at training time
(`training.anchoring`) so that the typical applicant of each published band is shown the published rate:

    P(admitted | interview) -> sigmoid(logit(P(admitted | interview)) + intercept + slope * (Step 2 CK - mean))

with the Step 2 CK distance from the specialty's matched mean read from the row, and slope >= 0, so a higher
score never lowers a chance. The interview chance is left as the model gives it; the admission chance stays
below it. US MD seniors' anchors serve DO applicants too (no public table checks DO figures; without it a DO
would be shown above an MD of the same record where the simulation is generous). Specialties with no public
table keep the model's chance. The anchors travel in the model file's metadata."""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.features import feature_column, step2_above_specialty_mean

US_MD = "US MD"
NON_US_IMG = "non-US IMG"
_STEP2_DISTANCE = feature_column("step2_ck_above_specialty_mean")
_IMG = feature_column("degree_img")
_LIMIT = 1e-9


@dataclass(frozen=True)
class Anchor:
    """A logit shift: intercept, plus slope per Step 2 CK point above the specialty's matched mean, held
    within [low, high], the shifts the published bands asked for: a line through bands 210-249 says nothing
    of a score of 280, and clipping a rising line keeps it rising."""

    intercept: float
    slope: float = 0.0
    low: float = -np.inf
    high: float = np.inf

    def shift(self, distance: np.ndarray) -> np.ndarray:
        """Per row; an unknown distance (NaN: no Step 2 CK) takes the intercept alone."""
        return np.clip(self.intercept + self.slope * np.nan_to_num(distance, nan=0.0), self.low, self.high)


class ExternalAnchors:
    def __init__(self, anchors: Mapping[tuple[str, str], Anchor] | None = None):
        """`anchors`: by (specialty, cohort), cohort US_MD or NON_US_IMG."""
        self.anchors = dict(anchors or {})
        if any(a.slope < 0 for a in self.anchors.values()):
            raise ValueError("an anchor's slope must be >= 0: a higher Step 2 CK may never lower a chance")

    def __bool__(self) -> bool:
        return bool(self.anchors)

    def to_json(self) -> str:
        return json.dumps(
            [
                {"specialty": s, "cohort": c, "intercept": a.intercept, "slope": a.slope, "low": a.low, "high": a.high}
                for (s, c), a in sorted(self.anchors.items())
            ]
        )

    @classmethod
    def from_json(cls, text: str) -> "ExternalAnchors":
        return cls(
            {
                (r["specialty"], r["cohort"]): Anchor(r["intercept"], r["slope"], r["low"], r["high"])
                for r in json.loads(text)
            }
        )

    def get(self, specialty: str, cohort: str) -> Anchor | None:
        return self.anchors.get((specialty, cohort))

    def notes(
        self, applicant: Applicant, specialties: Iterable[str], stats: Mapping[str, SpecialtyStats]
    ) -> tuple[str, ...]:
        """For each listed specialty whose chances an anchor moves for this applicant, where they come from."""
        cohort = NON_US_IMG if applicant.degree == "IMG" else US_MD
        notes = []
        for specialty in specialties:
            anchor = self.anchors.get((specialty, cohort))
            distance = np.array([step2_above_specialty_mean(applicant, stats.get(specialty))])
            shift = float(anchor.shift(distance)[0]) if anchor else 0.0
            if shift == 0:
                continue
            source = (
                "NRMP's 2026 Main Match rate for non-US IMGs"
                if cohort == NON_US_IMG
                else "NRMP's published match rates of US MD seniors by Step 2 CK band (Charting Outcomes, pooled "
                "2020-2024)"
            )
            direction = "higher" if shift < 0 else "lower"
            notes.append(
                f"Your chances in {specialty} are anchored to {source}: the simulated Match alone put them {direction}."
            )
        return tuple(notes)

    def adjust(
        self, rows: np.ndarray, specialties: Sequence[str], interview: np.ndarray, admission: np.ndarray
    ) -> np.ndarray:
        """The admission chances of `rows` (one specialty per row; admission [rows] or [rows, levels] with
        interview alike) with each row's anchor applied; rows with no anchor keep theirs exactly."""
        if not self.anchors or not len(rows):
            return admission
        shifts = np.zeros(len(rows))
        anchored = np.zeros(len(rows), dtype=bool)
        img = rows[:, _IMG] == 1
        names = np.asarray(specialties, dtype=object)
        for specialty in dict.fromkeys(specialties):
            of_specialty = names == specialty
            for cohort, members in ((US_MD, ~img), (NON_US_IMG, img)):
                anchor = self.anchors.get((specialty, cohort))
                hit = of_specialty & members
                if anchor is not None and hit.any():
                    shifts[hit] = anchor.shift(rows[hit, _STEP2_DISTANCE].astype(np.float64))
                    anchored |= hit
        if not anchored.any():
            return admission
        if admission.ndim == 2:
            shifts = shifts[:, None]
            anchored = anchored[:, None]
        interview = np.asarray(interview, dtype=np.float64)
        given = np.clip(
            np.divide(admission, interview, out=np.zeros(admission.shape), where=interview > 0), _LIMIT, 1 - _LIMIT
        )
        moved = interview / (1.0 + np.exp(-(np.log(given / (1 - given)) + shifts)))
        return np.where(anchored, moved, admission).astype(admission.dtype)


NO_ANCHORS = ExternalAnchors()
