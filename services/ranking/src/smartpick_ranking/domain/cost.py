"""What applying costs: the ERAS fee schedule (eras_fees.csv, AAMC), charged per specialty.

ERAS prices each specialty's applications apart ("pricing resets with each additional specialty"): the
first 30 programs at one fee each, every further one at another. Specialties that apply through another
service (OB/GYN through ResidencyCAS, integrated plastic surgery through PSCA) are priced here as ERAS too;
the note on the list says so."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

OTHER_SERVICES = {"Obstetrics and Gynecology": "ResidencyCAS", "Plastic Surgery (Integrated)": "PSCA"}


@dataclass(frozen=True)
class FeeTier:
    programs_from: int
    programs_to: int | None  # None: no upper end
    fee_usd: float


@dataclass(frozen=True)
class FeeSchedule:
    season: str
    tiers: tuple[FeeTier, ...]
    source: str

    def fee_of(self, nth: int) -> float:
        """The fee of the nth application (1-based) within one specialty."""
        for tier in self.tiers:
            if nth >= tier.programs_from and (tier.programs_to is None or nth <= tier.programs_to):
                return tier.fee_usd
        raise ValueError(f"no fee tier covers application {nth}")

    def cumulative(self, specialties_in_order: Sequence[str]) -> list[float]:
        """Total cost after each application, the applications taken in order."""
        counts: dict[str, int] = {}
        total, totals = 0.0, []
        for specialty in specialties_in_order:
            counts[specialty] = counts.get(specialty, 0) + 1
            total += self.fee_of(counts[specialty])
            totals.append(total)
        return totals

    @property
    def label(self) -> str:
        return f"{self.season} fee schedule ({self.source})"


def parse_fee_schedule(rows: Sequence[Mapping[str, str]], season: str | None = None) -> FeeSchedule:
    """The given season's tiers from eras_fees.csv rows (default: the latest season in the file)."""
    seasons = sorted({row["season"] for row in rows})
    chosen = season or seasons[-1]
    tiers = tuple(
        sorted(
            (
                FeeTier(
                    int(r["programs_from"]), int(r["programs_to"]) if r["programs_to"] else None, float(r["fee_usd"])
                )
                for r in rows
                if r["season"] == chosen
            ),
            key=lambda t: t.programs_from,
        )
    )
    if not tiers:
        raise ValueError(f"no fee rows for season {chosen!r}; seasons are {seasons}")
    sources = sorted({r["source"] for r in rows if r["season"] == chosen})
    return FeeSchedule(chosen, tiers, "AAMC, " + ", ".join(sources))
