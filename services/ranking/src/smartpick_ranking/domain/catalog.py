"""The program catalog and the public specialty figures, parsed from their CSV rows without I/O.

An empty cell is unknown and stays None: nothing is filled in by guessing. A malformed cell is refused
with an error naming its row (1 = first data row) and column.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

PROGRAM_TYPES = ("academic", "community_affiliated", "community")
_TRUE, _FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}

# Program.numbers, in order: what every scoring of a program reads, converted once (NaN where unknown).
PROGRAM_NUMBERS = (
    "positions",
    "academic",
    "community",
    "sponsors_j1",
    "sponsors_h1b",
    "md_share",
    "do_share",
    "img_share",
    "applications_per_position",
    "interview_share",
    "rate_top_signal",
    "rate_second_signal",
    "rate_no_signal",
    "rate_in_state",
    "rate_out_of_state",
)


@dataclass(frozen=True)
class Program:
    """One residency program (ACGME number as key); None means no source states the value.

    The public facts (positions to interview_share: AAMC Residency Explorer and FREIDA, mostly 2021; the
    interview rates by signal and school state: ERAS 2024) come with their source and vintage in
    `provenance`; a school's own facts win over them and are named there too."""

    program_id: str
    name: str
    specialty: str
    city: str | None = None
    state: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    positions: int | None = None  # first-year positions
    program_type: str | None = None  # academic | community_affiliated | community
    sponsors_j1: bool | None = None
    sponsors_h1b: bool | None = None
    md_share: float | None = None  # shares of residents: US MD, US DO, IMG (0-1)
    do_share: float | None = None
    img_share: float | None = None
    applications: int | None = None  # applications the program received in a season
    interview_share: float | None = None  # share of its applicants it interviewed
    # Interview-invitation rates (0-1) of applicants who sent the specialty's top signal (gold, or the only
    # tier), its second signal (silver), no signal; from schools in the program's state, and from others.
    rate_top_signal: float | None = None
    rate_second_signal: float | None = None
    rate_no_signal: float | None = None
    rate_in_state: float | None = None
    rate_out_of_state: float | None = None
    # (group of facts, "source tag(s), vintage"): where the facts shown come from.
    provenance: tuple[tuple[str, str], ...] = ()
    numbers: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kind = self.program_type
        per_position = (
            None if not self.applications or not self.positions else math.log(self.applications / self.positions)
        )
        known = {
            "academic": None if kind is None else kind == "academic",
            "community": None if kind is None else kind == "community",
            "applications_per_position": per_position,
        }
        values = (known[n] if n in known else getattr(self, n) for n in PROGRAM_NUMBERS)
        object.__setattr__(self, "numbers", tuple(math.nan if v is None else float(v) for v in values))

    def sponsors(self, visa_need: str | None) -> bool | None:
        """Whether the program takes the visa the applicant needs: None when unknown or not asked."""
        return {"J1": self.sponsors_j1, "H1B": self.sponsors_h1b}.get(visa_need or "")

    @property
    def sponsors_visa(self) -> bool | None:
        """Any visa sponsorship at all: True if either kind, False if neither, None when not known."""
        kinds = (self.sponsors_j1, self.sponsors_h1b)
        return True if True in kinds else (False if kinds == (False, False) else None)


@dataclass(frozen=True)
class SpecialtyStats:
    """Public Match figures of one specialty (columns of specialty_stats.csv; percentages are 0-100)."""

    specialty: str
    programs_2025: int | None = None
    positions_2025: int | None = None
    fill_rate_2025: float | None = None
    pct_positions_filled_by_usmd_seniors_2025: float | None = None
    mean_step2ck_matched_usmd: float | None = None
    mean_research_items_matched: float | None = None
    gold_signals: int | None = None
    silver_signals: int | None = None
    mean_applications_usmd: float | None = None
    sources: str | None = None

    @property
    def signals(self) -> int | None:
        """All signals an applicant may send (gold and silver, or the one tier)."""
        if self.gold_signals is None and self.silver_signals is None:
            return None
        return (self.gold_signals or 0) + (self.silver_signals or 0)


class CatalogRowError(ValueError):
    """A catalog row that cannot be read; names the row (1 = first data row) and the column."""

    def __init__(self, row: int, column: str, message: str):
        super().__init__(f"row {row}, column {column}: {message}")
        self.row = row
        self.column = column
        self.message = message


def _text(value: str) -> str:
    return value


def read_count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _positive_count(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a whole number above 0")
    return number


def _finite(value: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _latitude(value: str) -> float:
    number = _finite(value)
    if not -90 <= number <= 90:
        raise ValueError("must be between -90 and 90")
    return number


def _longitude(value: str) -> float:
    number = _finite(value)
    if not -180 <= number <= 180:
        raise ValueError("must be between -180 and 180")
    return number


def read_share(value: str) -> float:
    number = _finite(value)
    if not 0 <= number <= 1:
        raise ValueError("must be a fraction between 0 and 1")
    return number


def _percent(value: str) -> float:
    number = _finite(value)
    if not 0 <= number <= 100:
        raise ValueError("must be a percentage between 0 and 100")
    return number


def read_program_type(value: str) -> str:
    kind = value.lower().replace(" ", "_").replace("-", "_")
    if kind not in PROGRAM_TYPES:
        raise ValueError(f"must be one of {', '.join(PROGRAM_TYPES)}")
    return kind


def read_yes_no(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError("must be yes or no")


def read_program_id(value: str) -> str:
    if len(value) != 10 or not value.isdigit():
        raise ValueError("must be a 10-digit ACGME program number")
    return value


def _state(value: str) -> str:
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        raise ValueError("must be a two-letter upper-case state code")
    return value


# How each programs.csv cell is read; a school's facts CSV reads its columns the same way.
PROGRAM_CELL_PARSERS: dict[str, Callable[[str], object]] = {
    "program_id": read_program_id,
    "name": _text,
    "specialty": _text,
    "city": _text,
    "state": _state,
    "latitude": _latitude,
    "longitude": _longitude,
    "positions": _positive_count,
    "program_type": read_program_type,
    "sponsors_j1": read_yes_no,
    "sponsors_h1b": read_yes_no,
    "md_share": read_share,
    "do_share": read_share,
    "img_share": read_share,
}
_PROGRAM_REQUIRED = ("program_id", "name", "specialty")

_STATS_COLUMNS: dict[str, Callable[[str], object]] = {
    "specialty": _text,
    "programs_2025": read_count,
    "positions_2025": read_count,
    "fill_rate_2025": _percent,
    "pct_positions_filled_by_usmd_seniors_2025": _percent,
    "mean_step2ck_matched_usmd": _finite,
    "mean_research_items_matched": _finite,
    "gold_signals": read_count,
    "silver_signals": read_count,
    "mean_applications_usmd": _finite,
    "sources": _text,
}


def _parse_row(
    number: int, row: Mapping[str, str | None], columns: Mapping[str, Callable[[str], object]], required: Iterable[str]
) -> dict[str, object]:
    values: dict[str, object] = {}
    for column, parse in columns.items():
        cell = (row.get(column) or "").strip()
        if not cell:
            if column in required:
                raise CatalogRowError(number, column, "is required")
            continue
        try:
            values[column] = parse(cell)
        except ValueError as error:
            reason = str(error) if str(error).startswith("must") else f"{cell!r} is not a valid number"
            raise CatalogRowError(number, column, reason) from error
    return values


def parse_programs(rows: Iterable[Mapping[str, str | None]]) -> list[Program]:
    """Programs from csv.DictReader-style rows; extra columns (institution, source) are ignored."""
    programs: list[Program] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        program = Program(**_parse_row(number, row, PROGRAM_CELL_PARSERS, _PROGRAM_REQUIRED))
        if program.program_id in seen:
            raise CatalogRowError(number, "program_id", f"{program.program_id} appears twice")
        seen.add(program.program_id)
        programs.append(program)
    return programs


def parse_specialty_stats(rows: Iterable[Mapping[str, str | None]]) -> dict[str, SpecialtyStats]:
    """Specialty figures keyed by specialty name, from csv.DictReader-style rows."""
    stats: dict[str, SpecialtyStats] = {}
    for number, row in enumerate(rows, start=1):
        figures = SpecialtyStats(**_parse_row(number, row, _STATS_COLUMNS, ("specialty",)))
        if figures.specialty in stats:
            raise CatalogRowError(number, "specialty", f"{figures.specialty!r} appears twice")
        stats[figures.specialty] = figures
    return stats
