from smartpick_ranking.domain.catalog import Program
from smartpick_ranking.domain.enrichment import ProgramFacts, parse_enrichment_csv, with_facts

KNOWN = {"0801200001", "0801200002"}


def test_good_rows_parse_with_unknown_cells_left_unknown():
    facts, errors = parse_enrichment_csv(
        "program_id,positions,program_type,sponsors_visa,sponsors_h1b,md_share,img_share,do_share\n"
        "0801200001,4,Community affiliated,yes,no,0.85,0.1,0.05\n"
        "0801200002,,,,,,,\n",
        KNOWN,
    )
    assert errors == []
    assert facts == [
        ProgramFacts(
            "0801200001",
            4,
            "community_affiliated",
            sponsors_j1=True,
            sponsors_h1b=False,
            md_share=0.85,
            do_share=0.05,
            img_share=0.1,
        ),
        ProgramFacts("0801200002"),
    ]


def test_a_schools_facts_win_and_say_so():
    program = Program(
        "0801200001", "P", "Dermatology", positions=3, sponsors_j1=False, provenance=(("program facts", "x, 2021"),)
    )
    mine = with_facts(program, ProgramFacts("0801200001", sponsors_j1=True))
    assert (mine.positions, mine.sponsors_j1) == (3, True)
    assert mine.provenance[-1][0] == "your school's facts"
    assert with_facts(program, ProgramFacts("0801200001")) is program


def test_every_bad_row_is_reported_and_nothing_is_returned_to_apply():
    facts, errors = parse_enrichment_csv(
        "program_id,positions,sponsors_visa,img_share\n"
        "0801200001,0,maybe,1.5\n"
        "9999999999,2,yes,0.1\n"
        "0801200002,three,,\n",
        KNOWN,
    )
    assert facts == []
    assert [(e.row, e.column) for e in errors] == [
        (1, "positions"),
        (1, "sponsors_visa"),
        (1, "img_share"),
        (2, "program_id"),
        (3, "positions"),
    ]


def test_header_must_name_known_columns():
    assert parse_enrichment_csv("id,positions\n1,2\n", KNOWN)[1][0].column == "program_id"
    assert parse_enrichment_csv("program_id,beds\n0801200001,2\n", KNOWN)[1][0].column == "beds"


def test_duplicate_programs_are_refused():
    _, errors = parse_enrichment_csv("program_id,positions\n0801200001,2\n0801200001,3\n", KNOWN)
    assert [(e.row, e.column) for e in errors] == [(2, "program_id")]
