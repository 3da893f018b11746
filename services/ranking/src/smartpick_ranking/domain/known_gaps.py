"""What the model's own check against NRMP found, said beside the chance it concerns.

The model card holds the external calibration table: for a typical applicant of each specialty (US MD seniors
by Step 2 CK band, NRMP Charting Outcomes 2020-2024; non-US IMGs, 2026 Match) the chance the product showed
beside the published rate. Where that check found the product more than TOLERANCE_POINTS off for the
student's own cohort and specialty, the list says so, with the gap, so a student reads the figure as what it
is instead of trusting a number the record contradicts."""

from collections.abc import Mapping
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
    def __init__(self, gaps: Mapping[tuple[str, str], CheckedGap]):
        self.gaps = dict(gaps)

    @classmethod
    def from_card(cls, card: Mapping) -> "KnownGaps":
        """From a model card's `calibration_external` (US MD bands) and `calibration_external_img` rows."""
        collected: dict[tuple[str, str], list[float]] = {}
        for table, cohort in (("calibration_external", "US MD"), ("calibration_external_img", IMG_COHORT)):
            for row in card.get(table, {}).get("rows", []):
                gap = 100 * (row["shown"] - row["published"])
                collected.setdefault((row["specialty"], cohort), []).append(gap)
        return cls({key: CheckedGap(min(g), max(g), len(g)) for key, g in collected.items()})

    def notes(self, applicant: Applicant) -> tuple[str, ...]:
        """One note per specialty of the applicant's where the check put the product more than 10 points off
        for their cohort (US MD seniors for an MD, non-US IMGs for an IMG; DO applicants were not checked)."""
        cohort = {"MD": "US MD", "IMG": IMG_COHORT}.get(applicant.degree)
        if cohort is None:
            return ()
        return tuple(
            _note(specialty, cohort, gap)
            for specialty in applicant.specialties
            if (gap := self.gaps.get((specialty, cohort))) and max(abs(gap.lowest), abs(gap.highest)) > TOLERANCE_POINTS
        )


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
