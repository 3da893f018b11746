"""What the model's own check against NRMP found, said beside the chance it concerns.

The model card holds the external calibration table: for a typical applicant of each specialty (US MD seniors
by Step 2 CK band, NRMP Charting Outcomes 2020-2024; non-US IMGs, 2026 Match) the chance the product showed
beside the published rate. Where that check found the product more than TOLERANCE_POINTS off for the
student's own cohort and specialty, the list says so, with the gap, so a student reads the figure as what it
is instead of trusting a number the record contradicts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smartpick_ranking.domain.applicant import Applicant

TOLERANCE_POINTS = 10.0
IMG_COHORT = "non-US IMG"


@dataclass(frozen=True)
class CheckedGap:
    """How far the product's chance for a typical applicant lay from NRMP's rate, in points, over the rows
    checked (one per Step 2 CK band for US MD seniors, one per specialty for non-US IMGs)."""

    lowest: float
    highest: float
    rows: int


class KnownGaps:
    def __init__(
        self,
        gaps: Mapping[tuple[str, str], CheckedGap],
        img_by_step2: Mapping[str, Sequence[tuple[int, float]]] | None = None,
    ):
        """`img_by_step2`: per specialty, (median Step 2 CK of a half of its non-US IMGs, gap in points there)."""
        self.gaps = dict(gaps)
        self.img_by_step2 = {s: sorted(halves) for s, halves in (img_by_step2 or {}).items()}

    @classmethod
    def from_card(cls, card: Mapping) -> "KnownGaps":
        """From a model card's `calibration_external` (US MD bands), `calibration_external_img` and
        `calibration_external_img_by_step2` rows."""
        collected: dict[tuple[str, str], list[float]] = {}
        for table, cohort in (("calibration_external", "US MD"), ("calibration_external_img", IMG_COHORT)):
            for row in card.get(table, {}).get("rows", []):
                gap = 100 * (row["shown"] - row["published"])
                collected.setdefault((row["specialty"], cohort), []).append(gap)
        halves: dict[str, list[tuple[int, float]]] = {}
        for row in card.get("calibration_external_img_by_step2", {}).get("rows", []):
            halves.setdefault(row["specialty"], []).append((row["step2"], 100 * (row["shown"] - row["published"])))
        return cls({key: CheckedGap(min(g), max(g), len(g)) for key, g in collected.items()}, halves)

    def notes(self, applicant: Applicant) -> tuple[str, ...]:
        """One note per specialty of the applicant's where the check put the product more than 10 points off
        for their cohort (US MD seniors for an MD, non-US IMGs for an IMG; DO applicants were not checked)."""
        cohort = {"MD": "US MD", "IMG": IMG_COHORT}.get(applicant.degree)
        if cohort is None:
            return ()
        notes = [
            _note(specialty, cohort, gap)
            for specialty in applicant.specialties
            if (gap := self.gaps.get((specialty, cohort))) and max(abs(gap.lowest), abs(gap.highest)) > TOLERANCE_POINTS
        ]
        if cohort == IMG_COHORT:
            notes += [
                _img_step2_note(specialty, halves, applicant.step2_ck_score)
                for specialty in applicant.specialties
                if (halves := self.img_by_step2.get(specialty)) and max(abs(g) for _, g in halves) > TOLERANCE_POINTS
            ]
        return tuple(notes)


def _note(specialty: str, cohort: str, gap: CheckedGap) -> str:
    source = "NRMP 2026 Main Match" if cohort == IMG_COHORT else "NRMP Charting Outcomes 2020-2024, by Step 2 CK band"
    spread = f"{gap.lowest:+.0f}" if gap.rows == 1 else f"{gap.lowest:+.0f} to {gap.highest:+.0f}"
    if gap.lowest > 0:
        reading = "read this chance as higher than the record supports"
    elif gap.highest < 0:
        reading = "read this chance as lower than the record supports"
    else:
        reading = "the figure may run high or low"
    return (
        f"Checked against the published rates ({source}), this model's chance for a typical {cohort} applicant "
        f"in {specialty} was {spread} points off: {reading}."
    )


def _img_step2_note(specialty: str, halves: Sequence[tuple[int, float]], step2: int | None) -> str:
    """Where the chance of a non-US IMG moves with the score unlike the rates derived from NRMP's quartiles, and
    which way it likely errs at the applicant's own score (that of the nearer half's median)."""
    checked = " and ".join(f"{gap:+.0f} points near a Step 2 CK of {score}" for score, gap in halves)
    if step2 is None:
        reading = "the figure may run high or low"
    else:
        _, nearest = min(halves, key=lambda half: abs(half[0] - step2))
        if abs(nearest) <= TOLERANCE_POINTS:
            reading = "near your score it was within 10 points"
        else:
            reading = f"near your score read it as {'higher' if nearest > 0 else 'lower'} than the record supports"
    return (
        f"Checked by Step 2 CK against match rates derived from NRMP's 2026 quartiles for non-US IMGs, this model's "
        f"chance in {specialty} was {checked}: {reading}."
    )
