import uuid
from datetime import UTC, datetime, timedelta

import pytest

from smartpick_gateway.domain import auth
from smartpick_gateway.domain.auth import Principal, Role

SCHOOL_A, SCHOOL_B = uuid.uuid4(), uuid.uuid4()
STUDENT, OTHER_STUDENT = uuid.uuid4(), uuid.uuid4()


def principal(role: Role, tenant=SCHOOL_A, student=None) -> Principal:
    return Principal("k", role, None if role is Role.OPERATOR else tenant, student)


def test_new_key_round_trips_and_only_its_secret_matches():
    key = auth.new_key()
    key_id, secret = auth.parse_token(key.token)
    assert key_id == key.key_id
    assert auth.secret_matches(secret, key.secret_sha256)
    assert not auth.secret_matches(secret + "x", key.secret_sha256)
    assert secret not in key.secret_sha256.hex()


@pytest.mark.parametrize("token", ["", "spk", "spk_", "spk_abc", "xyz_abc_def", "Bearer spk_a_b"])
def test_malformed_tokens_are_rejected(token):
    assert auth.parse_token(token) is None


def test_another_schools_key_cannot_see_a_school():
    auth.require_school_member(principal(Role.ADVISOR), SCHOOL_A)
    auth.require_school_member(principal(Role.OPERATOR), SCHOOL_B)
    with pytest.raises(auth.NotVisible):
        auth.require_school_member(principal(Role.SCHOOL_ADMIN, tenant=SCHOOL_B), SCHOOL_A)


def test_students_see_only_themselves():
    me = principal(Role.STUDENT, student=STUDENT)
    assert auth.require_can_write_student(me, STUDENT) == SCHOOL_A
    with pytest.raises(auth.NotVisible):
        auth.require_can_read_student(me, OTHER_STUDENT)
    with pytest.raises(auth.Forbidden):
        auth.require_can_list_students(me)


def test_advisors_read_but_do_not_write():
    advisor = principal(Role.ADVISOR)
    assert auth.require_can_read_student(advisor, STUDENT) == SCHOOL_A
    with pytest.raises(auth.Forbidden):
        auth.require_can_write_student(advisor, STUDENT)


def test_operators_manage_schools_not_students():
    operator = principal(Role.OPERATOR)
    auth.require_operator(operator)
    with pytest.raises(auth.Forbidden):
        auth.require_can_read_student(operator, STUDENT)
    with pytest.raises(auth.Forbidden):
        auth.require_operator(principal(Role.SCHOOL_ADMIN))


def test_only_school_admins_change_their_school():
    assert auth.require_own_school_admin(principal(Role.SCHOOL_ADMIN)) == SCHOOL_A
    with pytest.raises(auth.Forbidden):
        auth.require_own_school_admin(principal(Role.ADVISOR))


def test_mentors_answer_only_their_own_proposals_and_manage_only_their_registration():
    mentor_id, other_mentor = uuid.uuid4(), uuid.uuid4()
    mentor = Principal("k", Role.MENTOR, SCHOOL_A, None, mentor_id)
    auth.require_the_mentor(mentor, mentor_id)
    auth.require_can_manage_mentor(mentor, mentor_id, SCHOOL_A)
    with pytest.raises(auth.NotVisible):
        auth.require_the_mentor(mentor, other_mentor)
    with pytest.raises(auth.NotVisible):
        auth.require_can_manage_mentor(mentor, other_mentor, SCHOOL_A)
    with pytest.raises(auth.Forbidden):
        auth.require_the_mentor(principal(Role.SCHOOL_ADMIN), mentor_id)
    with pytest.raises(auth.Forbidden):
        auth.require_can_read_student(mentor, STUDENT)


def test_school_admins_register_their_mentors_and_operators_platform_wide_ones():
    assert auth.require_can_register_mentor(principal(Role.SCHOOL_ADMIN)) == SCHOOL_A
    assert auth.require_can_register_mentor(principal(Role.OPERATOR)) is None
    with pytest.raises(auth.Forbidden):
        auth.require_can_register_mentor(principal(Role.ADVISOR))
    mentor_id = uuid.uuid4()
    auth.require_can_manage_mentor(principal(Role.SCHOOL_ADMIN), mentor_id, SCHOOL_A)
    auth.require_can_manage_mentor(principal(Role.OPERATOR), mentor_id, None)
    with pytest.raises(auth.Forbidden):
        auth.require_can_manage_mentor(principal(Role.SCHOOL_ADMIN, tenant=SCHOOL_B), mentor_id, SCHOOL_A)
    with pytest.raises(auth.Forbidden):
        auth.require_can_manage_mentor(principal(Role.SCHOOL_ADMIN), mentor_id, None)


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DEFAULT, LONGEST = timedelta(days=90), timedelta(days=365)


def test_a_key_expires_after_the_default_unless_the_issuer_names_a_time_within_the_longest():
    assert auth.key_expiry(None, NOW, DEFAULT, LONGEST) == NOW + DEFAULT
    asked = NOW + timedelta(hours=1)
    assert auth.key_expiry(asked, NOW, DEFAULT, LONGEST) == asked
    assert auth.key_expiry(NOW + LONGEST, NOW, DEFAULT, LONGEST) == NOW + LONGEST


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        (NOW, "in the future"),
        (NOW - timedelta(days=1), "in the future"),
        (NOW + LONGEST + timedelta(seconds=1), "at most 365 days"),
        (datetime(2027, 1, 1), "time zone"),
    ],
)
def test_an_expiry_in_the_past_beyond_the_longest_or_without_a_zone_is_refused(asked, says):
    with pytest.raises(auth.BadExpiry, match=says):
        auth.key_expiry(asked, NOW, DEFAULT, LONGEST)
