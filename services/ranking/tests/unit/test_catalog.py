import pytest

from smartpick_ranking.data import load_programs, load_specialty_stats
from smartpick_ranking.domain.catalog import (
    CatalogRowError,
    Program,
    SpecialtyStats,
    parse_programs,
    parse_specialty_stats,
)
from smartpick_ranking.domain.public_facts import parse_public_facts

GOOD_ROW = {
    "program_id": "0801200001",
    "name": "Example Program",
    "specialty": "Dermatology",
    "institution": "",
    "city": "Boston",
    "state": "MA",
    "latitude": "42.36",
    "longitude": "-71.06",
    "positions": "",
    "program_type": "",
    "source": "cmb2025",
}


def test_a_good_row_parses_and_empty_cells_stay_unknown():
    [program] = parse_programs([GOOD_ROW])
    assert program == Program(
        program_id="0801200001",
        name="Example Program",
        specialty="Dermatology",
        city="Boston",
        state="MA",
        latitude=42.36,
        longitude=-71.06,
    )
    assert program.positions is None and program.sponsors_visa is None and program.img_share is None


def test_known_school_facts_parse():
    row = GOOD_ROW | {"positions": "4", "program_type": "Community affiliated", "sponsors_j1": "no", "img_share": "0.1"}
    [program] = parse_programs([row])
    assert (program.positions, program.program_type, program.sponsors_j1, program.img_share) == (
        4,
        "community_affiliated",
        False,
        0.1,
    )
    assert program.sponsors_visa is None  # H-1B unknown: sponsorship of some visa is not known either


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("program_id", "08012", "must be a 10-digit ACGME program number"),
        ("program_id", "", "is required"),
        ("name", "", "is required"),
        ("state", "Mass", "must be a two-letter upper-case state code"),
        ("latitude", "north", "'north' is not a valid number"),
        ("latitude", "95", "must be between -90 and 90"),
        ("positions", "0", "must be a whole number above 0"),
        ("program_type", "military", "must be one of academic, community_affiliated, community"),
        ("sponsors_h1b", "maybe", "must be yes or no"),
        ("img_share", "35", "must be a fraction between 0 and 1"),
    ],
)
def test_a_bad_cell_is_refused_naming_row_and_column(column, cell, message):
    with pytest.raises(CatalogRowError) as raised:
        parse_programs([GOOD_ROW, GOOD_ROW | {"program_id": "0801200002", column: cell}])
    assert (raised.value.row, raised.value.column, raised.value.message) == (2, column, message)
    assert str(raised.value) == f"row 2, column {column}: {message}"


def test_a_repeated_program_id_is_refused():
    with pytest.raises(CatalogRowError, match="row 2, column program_id: 0801200001 appears twice"):
        parse_programs([GOOD_ROW, GOOD_ROW])


def test_specialty_stats_keep_empty_cells_unknown():
    stats = parse_specialty_stats(
        [
            {
                "specialty": "Dermatology",
                "programs_2025": "",
                "positions_2025": "",
                "fill_rate_2025": "",
                "pct_positions_filled_by_usmd_seniors_2025": "80.0",
                "mean_step2ck_matched_usmd": "257",
                "mean_research_items_matched": "20.9",
                "gold_signals": "3",
                "silver_signals": "25",
                "mean_applications_usmd": "",
                "sources": "HCN24;QP",
            }
        ]
    )
    assert stats["Dermatology"].signals == 28
    assert stats == {
        "Dermatology": SpecialtyStats(
            specialty="Dermatology",
            pct_positions_filled_by_usmd_seniors_2025=80.0,
            mean_step2ck_matched_usmd=257.0,
            mean_research_items_matched=20.9,
            gold_signals=3,
            silver_signals=25,
            sources="HCN24;QP",
        )
    }


def test_a_bad_specialty_figure_is_refused_naming_row_and_column():
    with pytest.raises(CatalogRowError, match="row 1, column fill_rate_2025: must be a percentage between 0 and 100"):
        parse_specialty_stats([{"specialty": "Dermatology", "fill_rate_2025": "140"}])


def test_the_shipped_catalog_parses_whole_with_the_public_facts_and_their_sources():
    programs = load_programs()
    stats = load_specialty_stats()
    assert len(programs) == 5786
    assert len({p.specialty for p in programs}) == 35
    assert set(stats) <= {p.specialty for p in programs}
    assert stats["Orthopaedic Surgery"].positions_2025 == 929
    assert stats["Diagnostic Radiology"].positions_2025 == 1208  # PGY-1 and PGY-2
    assert (stats["Dermatology"].gold_signals, stats["Dermatology"].silver_signals) == (3, 25)
    assert stats["Dermatology"].pct_positions_filled_by_usmd_seniors_2025 is None  # no PGY-2 figure public
    with_facts = [p for p in programs if p.provenance]
    assert len([p for p in programs if p.positions is not None]) == 4666  # PROGRAM_FACTS_SOURCES.md
    assert len({p.program_id for p in programs if p.rate_no_signal is not None or p.rate_top_signal is not None}) > 1800
    assert all(source for p in with_facts for _, source in p.provenance)


def test_public_facts_keep_their_values_and_provenance():
    rows = [
        {
            "program_id": "0801200001",
            "setting": "community_affiliated",
            "positions_year1": "0",
            "visa_j1": "yes",
            "visa_h1b": "no",
            "share_us_md": "0.9",
            "share_us_do": "0.1",
            "share_img": "0.0",
            "applications_2021": "800",
            "pct_applicants_interviewed": "0.05",
            "source": "aamc_re_2021",
            "as_of": "2021",
        }
    ]
    rates = [
        {"program_id": "0801200001", "rate_signal": "0.4", "rate_no_signal": "0.02", "source": "s24", "as_of": "2024"}
    ]
    facts = parse_public_facts(rows, rates)["0801200001"]
    assert "positions" not in facts  # 0 is the source's "unknown"
    assert (facts["program_type"], facts["sponsors_j1"], facts["sponsors_h1b"]) == ("community_affiliated", True, False)
    assert (facts["rate_top_signal"], facts["rate_no_signal"]) == (0.4, 0.02)
    assert facts["provenance"] == (("program facts", "aamc_re_2021, 2021"), ("interview rates", "s24, 2024"))
