"""The public per-program facts (program_facts.csv, program_signal_interview_rates.csv; their sources in
PROGRAM_FACTS_SOURCES.md), read into Program fields with their provenance. Empty cells stay unknown."""

from collections.abc import Callable, Iterable, Mapping

from smartpick_ranking.domain.catalog import (
    CatalogRowError,
    read_count,
    read_program_id,
    read_program_type,
    read_share,
    read_yes_no,
)

# program_facts.csv (PROGRAM_FACTS_SOURCES.md) column -> Program field, and how it is read. A 0 positions
# count is unknown there (the source's own convention), hence read_count then the check below.
PUBLIC_FACT_COLUMNS: dict[str, tuple[str, Callable[[str], object]]] = {
    "setting": ("program_type", read_program_type),
    "positions_year1": ("positions", read_count),
    "visa_j1": ("sponsors_j1", read_yes_no),
    "visa_h1b": ("sponsors_h1b", read_yes_no),
    "share_us_md": ("md_share", read_share),
    "share_us_do": ("do_share", read_share),
    "share_img": ("img_share", read_share),
    "applications_2021": ("applications", read_count),
    "pct_applicants_interviewed": ("interview_share", read_share),
}
# program_signal_interview_rates.csv: the top signal is gold where signals are tiered, else the one tier.
SIGNAL_RATE_COLUMNS: dict[str, str] = {
    "rate_gold_signal": "rate_top_signal",
    "rate_signal": "rate_top_signal",
    "rate_silver_signal": "rate_second_signal",
    "rate_no_signal": "rate_no_signal",
    "rate_in_state_school": "rate_in_state",
    "rate_out_of_state_school": "rate_out_of_state",
}


def parse_public_facts(
    facts_rows: Iterable[Mapping[str, str | None]], rate_rows: Iterable[Mapping[str, str | None]]
) -> dict[str, dict[str, object]]:
    """Public facts by program id: Program fields plus `provenance`, from program_facts.csv and
    program_signal_interview_rates.csv (PROGRAM_FACTS_SOURCES.md). Empty cells stay unknown."""
    found: dict[str, dict[str, object]] = {}
    for number, row in enumerate(facts_rows, start=1):
        values: dict[str, object] = {}
        for column, (name, parse) in PUBLIC_FACT_COLUMNS.items():
            cell = (row.get(column) or "").strip()
            if cell:
                try:
                    values[name] = parse(cell)
                except ValueError as error:
                    raise CatalogRowError(number, column, str(error)) from error
        if values.get("positions") == 0:
            del values["positions"]
        if values.get("applications") == 0:
            del values["applications"]
        values["provenance"] = (("program facts", f"{row['source']}, {row['as_of']}"),)
        found[read_program_id(row["program_id"])] = values
    for number, row in enumerate(rate_rows, start=1):
        values = found.setdefault(read_program_id(row["program_id"]), {"provenance": ()})
        for column, name in SIGNAL_RATE_COLUMNS.items():
            cell = (row.get(column) or "").strip()
            if cell:
                try:
                    values[name] = read_share(cell)
                except ValueError as error:
                    raise CatalogRowError(number, column, str(error)) from error
        values["provenance"] = (*values["provenance"], ("interview rates", f"{row['source']}, {row['as_of']}"))
    return found
