"""The public data shipped with the package, each file with its source note (PROGRAMS_SOURCES.md,
SPECIALTY_SOURCES.md, PROGRAM_FACTS_SOURCES.md), copied from the project's shared data.

- programs.csv: the ACGME catalog; program_facts.csv and program_signal_interview_rates.csv: per-program
  facts (2021; Internal Medicine 2025) and interview rates by signal (ERAS 2024), laid over the catalog.
- specialty_stats.csv: public figures per specialty.
- step2_band_match_rates.csv, step2_quartiles_usmd_2026.csv, img_charting_outcomes_2026.csv: NRMP Charting
  Outcomes figures the simulation is calibrated to and the product is checked against."""

import csv
import dataclasses
import hashlib
from importlib import resources

from smartpick_ranking.domain.catalog import Program, SpecialtyStats, parse_programs, parse_specialty_stats
from smartpick_ranking.domain.cost import FeeSchedule, parse_fee_schedule
from smartpick_ranking.domain.public_facts import parse_public_facts

PROGRAMS_FILE = "programs.csv"
SPECIALTY_STATS_FILE = "specialty_stats.csv"
PROGRAM_FACTS_FILE = "program_facts.csv"
SIGNAL_RATES_FILE = "program_signal_interview_rates.csv"
BAND_RATES_FILE = "step2_band_match_rates.csv"
QUARTILES_FILE = "step2_quartiles_usmd_2026.csv"
IMG_OUTCOMES_FILE = "img_charting_outcomes_2026.csv"
FEES_FILE = "eras_fees.csv"
TRAINING_FILES = (
    PROGRAMS_FILE,
    SPECIALTY_STATS_FILE,
    PROGRAM_FACTS_FILE,
    SIGNAL_RATES_FILE,
    BAND_RATES_FILE,
    IMG_OUTCOMES_FILE,
)
CATALOG_SOURCE = "ACGME public directory (PROGRAMS_SOURCES.md)"


def read_rows(name: str) -> list[dict[str, str]]:
    with resources.files(__name__).joinpath(name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_programs() -> list[Program]:
    """Every program of the shipped catalog (5,786 ACGME programs), with the public facts laid over it."""
    facts = parse_public_facts(read_rows(PROGRAM_FACTS_FILE), read_rows(SIGNAL_RATES_FILE))
    programs = []
    for program in parse_programs(read_rows(PROGRAMS_FILE)):
        known = facts.get(program.program_id)
        if known:
            program = dataclasses.replace(program, **known)
        programs.append(program)
    return programs


def program_sources() -> dict[str, str]:
    """Source tag(s) of each program row (see PROGRAMS_SOURCES.md), by program id."""
    return {row["program_id"]: row["source"] for row in read_rows(PROGRAMS_FILE)}


def load_specialty_stats() -> dict[str, SpecialtyStats]:
    """The shipped public specialty figures, keyed by specialty."""
    return parse_specialty_stats(read_rows(SPECIALTY_STATS_FILE))


def data_digest() -> str:
    """SHA-256 of the shipped data files a model is trained from, so its card names the exact data."""
    digest = hashlib.sha256()
    for name in TRAINING_FILES:
        digest.update(resources.files(__name__).joinpath(name).read_bytes())
    return digest.hexdigest()


def load_fee_schedule() -> FeeSchedule:
    """The latest ERAS residency fee schedule shipped (eras_fees.csv, SPECIALTY_SOURCES.md)."""
    return parse_fee_schedule(read_rows(FEES_FILE))
