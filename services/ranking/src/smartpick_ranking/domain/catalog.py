"""The program catalog and the public specialty figures, parsed from their CSV rows without I/O.

An empty cell is unknown and stays None: nothing is filled in by guessing. A malformed cell is refused
with an error naming its row (1 = first data row) and column.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

PROGRAM_TYPES = ("academic", "community")
_TRUE, _FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


@dataclass(frozen=True)
class Program:
    """One residency program (ACGME number as key); None means no source states the value."""

    program_id: str
    name: str
    specialty: str
    city: str | None = None
    state: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    positions: int | None = None
    program_type: str | None = None
    sponsors_visa: bool | None = None
    img_share: float | None = None
    do_share: float | None = None
    # (positions, academic, sponsors_visa, img_share, do_share) as floats, NaN where unknown: every scoring
    # of the program reads them, so they are converted once.
    numbers: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        academic = None if self.program_type is None else self.program_type == "academic"
        known = (self.positions, academic, self.sponsors_visa, self.img_share, self.do_share)
        object.__setattr__(self, "numbers", tuple(math.nan if v is None else float(v) for v in known))


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
    signals_2025: int | None = None
    sources: str | None = None


class CatalogRowError(ValueError):
    """A catalog row that cannot be read; names the row (1 = first data row) and the column."""

    def __init__(self, row: int, column: str, message: str):
        super().__init__(f"row {row}, column {column}: {message}")
        self.row = row
        self.column = column
        self.message = message


def _text(value: str) -> str:
    return value


def _count(value: str) -> int:
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


def _share(value: str) -> float:
    number = _finite(value)
    if not 0 <= number <= 1:
        raise ValueError("must be a fraction between 0 and 1")
    return number


def _percent(value: str) -> float:
    number = _finite(value)
    if not 0 <= number <= 100:
        raise ValueError("must be a percentage between 0 and 100")
    return number


def _program_type(value: str) -> str:
    if value.lower() not in PROGRAM_TYPES:
        raise ValueError(f"must be one of {', '.join(PROGRAM_TYPES)}")
    return value.lower()


def _yes_no(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError("must be yes or no")


def _program_id(value: str) -> str:
    if len(value) != 10 or not value.isdigit():
        raise ValueError("must be a 10-digit ACGME program number")
    return value


def _state(value: str) -> str:
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        raise ValueError("must be a two-letter upper-case state code")
    return value


# How each programs.csv cell is read; a school's enrichment CSV reads its columns the same way.
PROGRAM_CELL_PARSERS: dict[str, Callable[[str], object]] = {
    "program_id": _program_id,
    "name": _text,
    "specialty": _text,
    "city": _text,
    "state": _state,
    "latitude": _latitude,
    "longitude": _longitude,
    "positions": _positive_count,
    "program_type": _program_type,
    "sponsors_visa": _yes_no,
    "img_share": _share,
    "do_share": _share,
}
_PROGRAM_REQUIRED = ("program_id", "name", "specialty")

_STATS_COLUMNS: dict[str, Callable[[str], object]] = {
    "specialty": _text,
    "programs_2025": _count,
    "positions_2025": _count,
    "fill_rate_2025": _percent,
    "pct_positions_filled_by_usmd_seniors_2025": _percent,
    "mean_step2ck_matched_usmd": _finite,
    "mean_research_items_matched": _finite,
    "signals_2025": _count,
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
