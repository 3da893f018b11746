"""The public catalog shipped with the package: programs.csv and specialty_stats.csv, with their source notes
(PROGRAMS_SOURCES.md, SPECIALTY_SOURCES.md). Copied unchanged from the project's shared data."""

import csv
import hashlib
from importlib import resources

from smartpick_ranking.domain.catalog import Program, SpecialtyStats, parse_programs, parse_specialty_stats

PROGRAMS_FILE = "programs.csv"
SPECIALTY_STATS_FILE = "specialty_stats.csv"


def _read_rows(name: str) -> list[dict[str, str]]:
    with resources.files(__name__).joinpath(name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_programs() -> list[Program]:
    """Every program of the shipped catalog (5,786 ACGME programs)."""
    return parse_programs(_read_rows(PROGRAMS_FILE))


def program_sources() -> dict[str, str]:
    """Source tag(s) of each program row (see PROGRAMS_SOURCES.md), by program id."""
    return {row["program_id"]: row["source"] for row in _read_rows(PROGRAMS_FILE)}


def load_specialty_stats() -> dict[str, SpecialtyStats]:
    """The shipped public specialty figures, keyed by specialty."""
    return parse_specialty_stats(_read_rows(SPECIALTY_STATS_FILE))


def data_digest() -> str:
    """SHA-256 of the two shipped CSV files, so a model card names the exact data it was trained from."""
    digest = hashlib.sha256()
    for name in (PROGRAMS_FILE, SPECIALTY_STATS_FILE):
        digest.update(resources.files(__name__).joinpath(name).read_bytes())
    return digest.hexdigest()
