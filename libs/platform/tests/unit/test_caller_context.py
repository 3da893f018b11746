"""The signed caller context and the local CA, without a network: who is refused, and why."""

import time
import uuid

import grpc
import jwt
import pytest
from smartpick.profile.v1 import profile_pb2

from smartpick_platform import local_ca, services
from smartpick_platform.caller_context import (
    ALGORITHM,
    AccessPolicy,
    CallerContext,
    ContextSigner,
    Refused,
    check_scope,
    verify,
)
from smartpick_platform.identity import ServiceIdentity

SCHOOL_A, SCHOOL_B = str(uuid.uuid4()), str(uuid.uuid4())
ADMIN_A = CallerContext(role="school_admin", tenant_id=SCHOOL_A, subject="k1")
CALLERS = frozenset({"gateway"})


@pytest.fixture(scope="module")
def identities(tmp_path_factory):
    directory = local_ca.ensure(tmp_path_factory.mktemp("identity"))
    return {name: local_ca.identity(directory, name) for name in services.manifest().services}


def refusal(call) -> Refused:
    with pytest.raises(Refused) as raised:
        call()
    return raised.value


def test_each_service_has_a_certificate_naming_it(identities):
    assert {name: identity.name for name, identity in identities.items()} == {n: n for n in identities}


def test_a_context_signed_by_the_calling_service_is_the_caller_it_names(identities):
    gateway = identities["gateway"]
    token = ContextSigner(gateway).token(ADMIN_A, "profile")
    caller, expires = verify(token, gateway.cert_pem, "gateway", "profile", CALLERS, now=time.time())
    assert caller == ADMIN_A and 0 < expires - time.time() <= 60


def test_the_signer_reuses_a_token_for_the_same_caller_and_audience_only(identities):
    signer = ContextSigner(identities["gateway"])
    assert signer.token(ADMIN_A, "profile") == signer.token(ADMIN_A, "profile")
    assert signer.token(ADMIN_A, "profile") != signer.token(ADMIN_A, "ranking")


def test_no_client_certificate_is_unauthenticated(identities):
    token = ContextSigner(identities["gateway"]).token(ADMIN_A, "profile")
    assert refusal(lambda: verify(token, None, None, "profile", CALLERS)).code is grpc.StatusCode.UNAUTHENTICATED


def test_a_service_the_manifest_does_not_let_call_is_denied(identities):
    ranking = identities["ranking"]
    token = ContextSigner(ranking).token(ADMIN_A, "profile")
    refused = refusal(lambda: verify(token, ranking.cert_pem, "ranking", "profile", CALLERS))
    assert refused.code is grpc.StatusCode.PERMISSION_DENIED and "ranking" in str(refused)


def test_no_context_is_unauthenticated(identities):
    gateway = identities["gateway"]
    refused = refusal(lambda: verify(None, gateway.cert_pem, "gateway", "profile", CALLERS))
    assert refused.code is grpc.StatusCode.UNAUTHENTICATED and "x-smartpick-caller" in str(refused)


def test_a_context_signed_by_another_key_than_the_connections_certificate_is_unauthenticated(identities):
    """A service that holds its own key but not the gateway's cannot pass a context off as the gateway's."""
    forged = ContextSigner(identities["ranking"]).token(ADMIN_A, "profile")
    gateway = identities["gateway"]
    refused = refusal(lambda: verify(forged, gateway.cert_pem, "gateway", "profile", CALLERS))
    assert refused.code is grpc.StatusCode.UNAUTHENTICATED


def test_a_context_meant_for_another_service_is_unauthenticated(identities):
    gateway = identities["gateway"]
    token = ContextSigner(gateway).token(ADMIN_A, "ranking")
    refused = refusal(lambda: verify(token, gateway.cert_pem, "gateway", "profile", CALLERS))
    assert refused.code is grpc.StatusCode.UNAUTHENTICATED and "audience" in str(refused).lower()


def signed(identity, **claims) -> str:
    now = int(time.time())
    base = {"iss": "gateway", "aud": "profile", "iat": now, "exp": now + 60, "role": "school_admin"}
    return jwt.encode({**base, **claims}, identity.signing_key, algorithm=ALGORITHM)


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iat": int(time.time()) - 400, "exp": int(time.time()) - 30}, "expired"),
        ({"exp": int(time.time()) + 3600}, "lives too long"),
        ({"role": "superuser"}, "unknown role"),
        ({"iss": "ranking"}, "issuer"),
    ],
)
def test_an_expired_overlong_or_odd_context_is_unauthenticated(identities, claims, why):
    gateway = identities["gateway"]
    token = signed(gateway, **claims)
    refused = refusal(lambda: verify(token, gateway.cert_pem, "gateway", "profile", CALLERS, now=time.time()))
    assert refused.code is grpc.StatusCode.UNAUTHENTICATED and why in str(refused).lower()


def test_a_request_for_another_school_is_denied():
    request = profile_pb2.ListStudentsRequest(tenant_id=SCHOOL_B)
    refused = refusal(
        lambda: check_scope(ADMIN_A, "/smartpick.profile.v1.ProfileService/ListStudents", request, AccessPolicy())
    )
    assert refused.code is grpc.StatusCode.PERMISSION_DENIED and "tenant_id" in str(refused)
    check_scope(ADMIN_A, "/p/ListStudents", profile_pb2.ListStudentsRequest(tenant_id=SCHOOL_A), AccessPolicy())


def test_a_school_id_is_the_callers_school_and_operators_act_on_any():
    request = profile_pb2.GetSchoolRequest(school_id=SCHOOL_B)
    assert refusal(lambda: check_scope(ADMIN_A, "/p/GetSchool", request, AccessPolicy())).code is (
        grpc.StatusCode.PERMISSION_DENIED
    )
    check_scope(CallerContext(role="operator"), "/p/GetSchool", request, AccessPolicy())


def test_a_student_acts_only_on_their_own_record():
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    student = CallerContext(role="student", tenant_id=SCHOOL_A, student_id=me)
    check_scope(
        student, "/p/GetProfile", profile_pb2.GetProfileRequest(tenant_id=SCHOOL_A, student_id=me), AccessPolicy()
    )
    request = profile_pb2.GetProfileRequest(tenant_id=SCHOOL_A, student_id=other)
    refused = refusal(lambda: check_scope(student, "/p/GetProfile", request, AccessPolicy()))
    assert refused.code is grpc.StatusCode.PERMISSION_DENIED and "student_id" in str(refused)


def test_a_mentor_acts_for_no_school_only_as_themself():
    from smartpick.mentorship.v1 import mentorship_pb2

    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    mentor = CallerContext(role="mentor", tenant_id=SCHOOL_A, mentor_id=me)
    check_scope(mentor, "/m/ListMentorInbox", mentorship_pb2.ListMentorInboxRequest(mentor_id=me), AccessPolicy())
    check_scope(mentor, "/m/EndMatch", mentorship_pb2.EndMatchRequest(mentor_id=me), AccessPolicy())
    check_scope(
        mentor, "/m/GetMentor", mentorship_pb2.GetMentorRequest(tenant_id=SCHOOL_A, mentor_id=other), AccessPolicy()
    )
    for method, request in [
        ("/m/ListMentorInbox", mentorship_pb2.ListMentorInboxRequest(mentor_id=other)),
        ("/m/EndMatch", mentorship_pb2.EndMatchRequest(mentor_id=other)),
        ("/m/GetMentor", mentorship_pb2.GetMentorRequest(tenant_id="", mentor_id=other)),
        ("/m/ListMentors", mentorship_pb2.ListMentorsRequest(tenant_id=SCHOOL_B)),
    ]:
        assert refusal(lambda m=method, r=request: check_scope(mentor, m, r, AccessPolicy())).code is (
            grpc.StatusCode.PERMISSION_DENIED
        )


def test_anonymous_callers_reach_only_public_methods_and_roles_only_their_methods():
    policy = AccessPolicy(public=frozenset({"ValidateProfile"}), only={"CreateSchool": frozenset({"operator"})})
    anonymous = CallerContext(role="anonymous")
    check_scope(anonymous, "/p/ValidateProfile", profile_pb2.ValidateProfileRequest(), policy)
    for method, request in [
        ("/p/ListStudents", profile_pb2.ListStudentsRequest()),
        ("/p/CreateSchool", profile_pb2.CreateSchoolRequest(name="x")),
    ]:
        assert (
            refusal(lambda m=method, r=request: check_scope(anonymous, m, r, policy)).code
            is grpc.StatusCode.PERMISSION_DENIED
        )
    create = profile_pb2.CreateSchoolRequest(name="x")
    assert refusal(lambda: check_scope(ADMIN_A, "/p/CreateSchool", create, policy)).code is (
        grpc.StatusCode.PERMISSION_DENIED
    )
    check_scope(CallerContext(role="operator"), "/p/CreateSchool", create, policy)


def test_only_the_gateway_calls_the_grpc_services():
    manifest = services.manifest()
    assert {s: manifest.callers_of(s) for s in ("profile", "ranking", "mentorship", "gateway")} == {
        "profile": {"gateway"},
        "ranking": {"gateway"},
        "mentorship": {"gateway"},
        "gateway": frozenset(),
    }


def test_the_local_ca_keeps_what_it_made_and_renews_what_a_new_ca_voids(tmp_path):
    directory = local_ca.ensure(tmp_path / "identity")
    first = local_ca.certificate_file(directory, "profile").read_bytes()
    local_ca.ensure(directory)
    assert local_ca.certificate_file(directory, "profile").read_bytes() == first
    (directory / "ca.key").unlink()
    local_ca.ensure(directory)
    assert local_ca.certificate_file(directory, "profile").read_bytes() != first
    assert oct((directory / "ca.key").stat().st_mode & 0o777) == "0o600"


def test_a_process_without_its_certificate_does_not_start_and_says_what_to_set(monkeypatch):
    for name in ("CA_FILE", "CERT_FILE", "KEY_FILE"):
        monkeypatch.delenv(f"SMARTPICK_TLS_{name}", raising=False)
    with pytest.raises(RuntimeError, match="SMARTPICK_TLS_CA_FILE, SMARTPICK_TLS_CERT_FILE, SMARTPICK_TLS_KEY_FILE"):
        ServiceIdentity.load()
