from smartpick_ranking.domain.enrichment import ProgramFacts, parse_enrichment_csv

KNOWN = {"0801200001", "0801200002"}


def test_good_rows_parse_with_unknown_cells_left_unknown():
    facts, errors = parse_enrichment_csv(
        "program_id,positions,program_type,sponsors_visa,img_share,do_share\n"
        "0801200001,4,Academic,yes,0.1,0.05\n"
        "0801200002,,,,,\n",
        KNOWN,
    )
    assert errors == []
    assert facts == [
        ProgramFacts("0801200001", 4, "academic", True, 0.1, 0.05),
        ProgramFacts("0801200002"),
    ]


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
