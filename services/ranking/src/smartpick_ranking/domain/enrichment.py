"""A school's CSV of program facts: parsed and checked whole, so that nothing is half-applied.

Columns (header row required, any order): program_id (required, 10-digit ACGME number), positions
(first-year positions, whole number > 0), program_type (academic | community_affiliated | community),
sponsors_j1 and sponsors_h1b (yes | no), sponsors_visa (yes | no: both kinds at once, unless a kind's own
column says otherwise), md_share, do_share and img_share (fractions 0-1 of the residents). Cells are read
exactly as the catalog's own. An empty cell means unknown. Each row replaces what the school said before
about that program, and wins over the public facts."""

import csv
import dataclasses
import io
from dataclasses import dataclass

from smartpick_ranking.domain.catalog import PROGRAM_CELL_PARSERS

FACT_FIELDS = ("positions", "program_type", "sponsors_j1", "sponsors_h1b", "md_share", "do_share", "img_share")
COLUMNS = ("program_id", *FACT_FIELDS, "sponsors_visa")
SCHOOL_PROVENANCE = ("your school's facts", "uploaded by your school")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class ProgramFacts:
    program_id: str
    positions: int | None = None
    program_type: str | None = None
    sponsors_j1: bool | None = None
    sponsors_h1b: bool | None = None
    md_share: float | None = None
    do_share: float | None = None
    img_share: float | None = None


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = first data row; 0 = the header
    column: str
    message: str


def parse_enrichment_csv(text: str, known_program_ids: set[str]) -> tuple[list[ProgramFacts], list[RowError]]:
    """All rows' facts, or every error found (then the facts are not to be applied)."""
    reader = csv.DictReader(io.StringIO(text.strip()))
    header = [h.strip() for h in reader.fieldnames or []]
    if "program_id" not in header:
        return [], [RowError(0, "program_id", f"the header must name program_id; columns are {', '.join(COLUMNS)}")]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        return [], [RowError(0, unknown[0], f"unknown column; columns are {', '.join(COLUMNS)}")]
    facts, errors, seen = [], [], set()
    for number, raw in enumerate(reader, start=1):
        if number > MAX_ROWS:
            errors.append(RowError(number, "", f"at most {MAX_ROWS} rows per upload"))
            break
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        program_id = row.get("program_id", "")
        if program_id not in known_program_ids:
            errors.append(
                RowError(number, "program_id", f"{program_id!r} is not an ACGME program number in the catalog")
            )
            continue
        if program_id in seen:
            errors.append(RowError(number, "program_id", f"{program_id} appears twice"))
            continue
        seen.add(program_id)
        values = {}
        for column in header:
            cell = row.get(column, "") if column != "program_id" else ""
            if not cell:
                continue
            parse = PROGRAM_CELL_PARSERS["sponsors_j1" if column == "sponsors_visa" else column]
            try:
                values[column] = parse(cell)
            except ValueError as error:
                reason = str(error) if str(error).startswith("must") else f"{cell!r} is not a number"
                errors.append(RowError(number, column, reason))
        both = values.pop("sponsors_visa", None)
        if both is not None:
            values.setdefault("sponsors_j1", both)
            values.setdefault("sponsors_h1b", both)
        facts.append(ProgramFacts(program_id, **values))
    return ([] if errors else facts), errors


def with_facts(program, facts: ProgramFacts | None):
    """The program as the school sees it: what the school knows fills the catalog's unknowns and wins."""
    if facts is None:
        return program
    known = {c: getattr(facts, c) for c in FACT_FIELDS if getattr(facts, c) is not None}
    if not known:
        return program
    provenance = (*program.provenance, SCHOOL_PROVENANCE)
    return dataclasses.replace(program, **known, provenance=provenance)
