"""A school's own historical outcomes, as a CSV, turned into training rows (docs/model.md has the schema).

One row per application a past student sent. Every row is checked before anything is trained: one bad row
refuses the whole file, with every problem named by row (1 = first data row) and column.

| column | required | values |
| --- | --- | --- |
| applicant_ref | yes | the school's id of the past student (groups their rows; never leaves the training run) |
| program_id | yes | 10-digit ACGME number present in the catalog |
| degree_type | yes | MD, DO or IMG |
| interviewed, matched | yes | yes/no; matched=yes needs interviewed=yes |
| step2_ck_score | no | 1-300; empty = not taken |
| step1_result | no | pass or fail; empty = unknown, read as a pass |
| comlex_level2_score | no | 9-999, DO only; empty = not taken |
| visa_need | no | none, J1 or H1B; empty = unknown |
| research_items, clerkship_honors, years_since_graduation, signals_sent, away_rotations | no | counts; empty = 0 |
| aoa_member, has_home_program, signaled | no | yes/no; empty = no |
| preferred_states | no | two-letter codes separated by spaces or semicolons |
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.features import build_features
from smartpick_ranking.training.dataset import Dataset

REQUIRED = ("applicant_ref", "program_id", "degree_type", "interviewed", "matched")
COUNTS = {
    "research_items": 1000,
    "clerkship_honors": 12,
    "years_since_graduation": 60,
    "signals_sent": 100,
    "away_rotations": 20,
}
FLAGS = ("aoa_member", "has_home_program", "signaled")
OPTIONAL = ("step2_ck_score", "step1_result", "comlex_level2_score", "visa_need", "preferred_states")
COLUMNS = REQUIRED + OPTIONAL + tuple(COUNTS) + FLAGS
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = first data row; 0 = the header
    column: str
    message: str


class OutcomesInvalid(ValueError):
    """The outcomes file has bad rows; nothing was trained."""

    def __init__(self, errors: list[RowError]):
        shown = "\n".join(f"  row {e.row}, column {e.column}: {e.message}" for e in errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        super().__init__(f"{len(errors)} problem(s) in the outcomes file, nothing was trained:\n{shown}{more}")
        self.errors = errors


class _RowProblems(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems


def _flag(cell: str) -> bool:
    if cell.lower() in _YES:
        return True
    if cell.lower() in _NO:
        return False
    raise ValueError("must be yes or no")


def _whole(cell: str, low: int, high: int) -> int:
    try:
        value = int(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}, got {value}")
    return value


def _parse_row(row: Mapping[str, str], catalog: Mapping[str, Program]) -> tuple[Applicant, Program, bool, bool]:
    """The row's applicant, program and outcomes; raises _RowProblems listing every (column, message)."""
    problems: list[tuple[str, str]] = []

    def read(column: str, parse):
        try:
            return parse(row.get(column, ""))
        except ValueError as error:
            problems.append((column, str(error)))
            return None

    for column in REQUIRED:
        if not row.get(column, ""):
            problems.append((column, "is required"))
    program = catalog.get(row.get("program_id", ""))
    if row.get("program_id") and program is None:
        problems.append(("program_id", f"{row['program_id']!r} is not an ACGME program number in the catalog"))
    degree = row.get("degree_type", "").upper()
    if degree and degree not in ("MD", "DO", "IMG"):
        problems.append(("degree_type", "must be MD, DO or IMG"))
    interviewed = read("interviewed", _flag) if row.get("interviewed") else None
    matched = read("matched", _flag) if row.get("matched") else None
    if matched and interviewed is False:
        problems.append(("matched", "a matched application must also be interviewed"))
    step2 = read("step2_ck_score", lambda c: _whole(c, 1, 300) if c else None)
    comlex = read("comlex_level2_score", lambda c: _whole(c, 9, 999) if c else None)
    if comlex is not None and degree != "DO":
        problems.append(("comlex_level2_score", "is only taken by DO applicants"))
    step1 = row.get("step1_result", "").lower() or None
    if step1 not in (None, "pass", "fail"):
        problems.append(("step1_result", "must be pass or fail"))
    visa = row.get("visa_need", "") or None
    visa = {"none": "none", "j1": "J1", "h1b": "H1B"}.get(visa.lower(), visa) if visa else None
    if visa not in (None, "none", "J1", "H1B"):
        problems.append(("visa_need", "must be none, J1 or H1B"))
    counts = {
        column: read(column, lambda c, high=high: _whole(c, 0, high) if c else 0) for column, high in COUNTS.items()
    }
    flags = {column: read(column, lambda c: _flag(c) if c else False) for column in FLAGS}
    states = row.get("preferred_states", "").replace(";", " ").split()
    bad_states = [s for s in states if len(s) != 2 or not s.isalpha() or not s.isupper()]
    if bad_states:
        problems.append(("preferred_states", f"use two-letter upper-case state codes, not {bad_states}"))
    if problems:
        raise _RowProblems(problems)
    applicant = Applicant(
        degree=degree,
        step2_ck_score=step2,
        step1_result=step1,
        comlex_level2_score=comlex,
        visa_need=visa,
        aoa_member=flags["aoa_member"],
        has_home_program=flags["has_home_program"],
        specialties=(program.specialty,),
        preferred_states=frozenset(states),
        signaled_program_ids=frozenset({program.program_id}) if flags["signaled"] else frozenset(),
        **counts,
    )
    return applicant, program, bool(interviewed), bool(matched)


def parse_outcomes(text: str, catalog: Mapping[str, Program], stats: Mapping[str, SpecialtyStats]) -> Dataset:
    """The training rows of a school's outcomes CSV; raises OutcomesInvalid naming every bad row and column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    errors = [RowError(0, name, "is a required column") for name in REQUIRED if name not in header]
    errors += [
        RowError(0, name, f"unknown column; columns are {', '.join(COLUMNS)}") for name in header if name not in COLUMNS
    ]
    if errors:
        raise OutcomesInvalid(errors)
    blocks, interviewed, matched, specialty, refs = [], [], [], [], []
    for number, raw in enumerate(reader, start=1):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        try:
            applicant, program, was_interviewed, was_matched = _parse_row(row, catalog)
        except _RowProblems as problems:
            errors += [RowError(number, column, message) for column, message in problems.problems]
            continue
        blocks.append(build_features(applicant, [program], stats))
        interviewed.append(was_interviewed)
        matched.append(was_matched)
        specialty.append(program.specialty)
        refs.append(row["applicant_ref"])
    if errors:
        raise OutcomesInvalid(errors)
    if not blocks:
        raise OutcomesInvalid([RowError(1, "applicant_ref", "the file has no data rows")])
    _, group = np.unique(np.array(refs), return_inverse=True)
    by_applicant = np.argsort(group, kind="stable")  # each applicant's rows together
    # A school's records say where a student matched, not whether a program would have taken a student who
    # matched higher on their list: matched is the admitted label, a lower bound of the counterfactual one.
    return Dataset(
        np.concatenate(blocks)[by_applicant],
        np.array(interviewed)[by_applicant],
        np.array(matched)[by_applicant],
        np.array(specialty, dtype=object)[by_applicant],
        group[by_applicant],
    )
