"""A profile body may leave honors, home program and away rotations unsaid: null or left out goes to the
contract as unstated_inputs, a said 0 or false does not, and both read back as they were sent."""

from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.entrypoints.schemas import ProfileIn


def body(**fields) -> ProfileIn:
    prefs = {"specialties": ["Dermatology"], "application_budget": 40}
    return ProfileIn.model_validate({"degree_type": "MD", "preferences": prefs} | fields)


def test_left_out_or_null_is_unsaid_and_reads_back_as_null():
    for unsaid in (body(), body(clerkship_honors=None, has_home_program=None, away_rotations=None)):
        proto = unsaid.to_proto()
        assert list(proto.unstated_inputs) == [
            profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS,
            profile_pb2.APPLICANT_INPUT_HOME_PROGRAM,
            profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS,
        ]
        back = ProfileIn.from_proto(proto)
        assert (back.clerkship_honors, back.has_home_program, back.away_rotations) == (None, None, None)


def test_a_said_zero_or_false_is_said():
    said = body(clerkship_honors=0, has_home_program=False, away_rotations=2)
    proto = said.to_proto()
    assert list(proto.unstated_inputs) == []
    assert ProfileIn.from_proto(proto) == said
    partly = body(has_home_program=True)
    assert list(partly.to_proto().unstated_inputs) == [
        profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS,
        profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS,
    ]
    assert ProfileIn.from_proto(partly.to_proto()) == partly


def test_a_profile_written_before_unstated_inputs_reads_its_zeros_as_said():
    old = profile_pb2.ApplicantProfile(
        degree_type=profile_pb2.DEGREE_TYPE_MD, preferences=profile_pb2.Preferences(specialties=["Dermatology"])
    )
    back = ProfileIn.from_proto(old)
    assert (back.clerkship_honors, back.has_home_program, back.away_rotations) == (0, False, 0)
