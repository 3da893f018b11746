"""Direct attempts on every gRPC port of the real stack, as a process that reached the port would make them:
without TLS, without a client certificate, with a certificate of another CA, as a service that may not call,
without a signed caller context, with a forged or expired one, for another school. All refused; the
gateway's own identity and a context of the school asked about get through (the control)."""

import time
import uuid

import grpc
import jwt
import pytest
from devstack import Ports, ServiceProcess
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from infra import TEST_STATE_DIR
from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc

from smartpick_platform import caller_context, local_ca
from smartpick_platform.caller_context import ALGORITHM, HEADER, CallerContext
from smartpick_platform.grpc_channel import connect

pytestmark = pytest.mark.integration

# One call per service that reads a school's data: what an attacker on the port would ask for.
PROBES = {
    "profile": (profile_pb2_grpc.ProfileServiceStub, "ListStudents", profile_pb2.ListStudentsRequest),
    "ranking": (ranking_pb2_grpc.RankingServiceStub, "SearchPrograms", ranking_pb2.SearchProgramsRequest),
    "mentorship": (
        mentorship_pb2_grpc.MentorshipServiceStub,
        "GetMatchingPolicy",
        mentorship_pb2.GetMatchingPolicyRequest,
    ),
}


@pytest.fixture(scope="module")
def stranger_ca(tmp_path_factory):
    """A CA that is not the platform's, with certificates of the same service names."""
    return local_ca.ensure(tmp_path_factory.mktemp("stranger-ca"))


async def probe(channel: grpc.aio.Channel, service: str, tenant: str, metadata=()) -> grpc.StatusCode:
    stub_class, method, request_class = PROBES[service]
    try:
        await getattr(stub_class(channel), method)(request_class(tenant_id=tenant), timeout=5, metadata=metadata)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def target(stack, service: str) -> str:
    return f"127.0.0.1:{stack.ports.grpc[service]}"


def tls_channel(stack, service: str, credentials: grpc.ChannelCredentials) -> grpc.aio.Channel:
    return grpc.aio.secure_channel(
        target(stack, service), credentials, options=[("grpc.ssl_target_name_override", service)]
    )


@pytest.fixture
async def school(http, new_school) -> str:
    return (await new_school()).school_id


@pytest.mark.parametrize("service", sorted(PROBES))
async def test_every_grpc_port_refuses_callers_without_the_platforms_credentials(stack, school, stranger_ca, service):
    directory = stack.endpoints.identity_dir
    gateway = local_ca.identity(directory, "gateway")
    refused = {}

    async with grpc.aio.insecure_channel(target(stack, service)) as channel:
        refused["plaintext"] = await probe(channel, service, school)
    no_client_cert = grpc.ssl_channel_credentials(gateway.ca_pem)
    async with tls_channel(stack, service, no_client_cert) as channel:
        refused["TLS without a client certificate"] = await probe(channel, service, school)
    stranger = local_ca.identity(stranger_ca, "gateway")
    other_ca = grpc.ssl_channel_credentials(gateway.ca_pem, stranger.key_pem, stranger.cert_pem)
    async with tls_channel(stack, service, other_ca) as channel:
        refused["a 'gateway' certificate of another CA"] = await probe(channel, service, school)

    caller_context.act_as(CallerContext(role="school_admin", tenant_id=school))
    # A service of the platform that the manifest does not let call this one, with a context it signed.
    not_a_caller = "ranking" if service != "ranking" else "profile"
    async with connect(local_ca.identity(directory, not_a_caller), target(stack, service), service) as channel:
        refused[f"the {not_a_caller} service's certificate"] = await probe(channel, service, school)
    async with tls_channel(stack, service, gateway.channel_credentials()) as channel:
        refused["the gateway's certificate, no caller context"] = await probe(channel, service, school)
        now = int(time.time())
        claims = {"iss": "gateway", "aud": service, "role": "school_admin", "tenant": school}
        forged = jwt.encode(
            {**claims, "iat": now, "exp": now + 60},
            local_ca.identity(directory, not_a_caller).signing_key,
            algorithm=ALGORITHM,
        )
        refused["a context signed by another key"] = await probe(channel, service, school, [(HEADER, forged)])
        expired = jwt.encode({**claims, "iat": now - 200, "exp": now - 100}, gateway.signing_key, algorithm=ALGORITHM)
        refused["an expired context"] = await probe(channel, service, school, [(HEADER, expired)])
    async with connect(gateway, target(stack, service), service) as channel:
        refused["another school's tenant_id"] = await probe(channel, service, str(uuid.uuid4()))
        allowed = await probe(channel, service, school)

    assert refused == {
        "plaintext": grpc.StatusCode.UNAVAILABLE,
        "TLS without a client certificate": grpc.StatusCode.UNAVAILABLE,
        "a 'gateway' certificate of another CA": grpc.StatusCode.UNAVAILABLE,
        f"the {not_a_caller} service's certificate": grpc.StatusCode.PERMISSION_DENIED,
        "the gateway's certificate, no caller context": grpc.StatusCode.UNAUTHENTICATED,
        "a context signed by another key": grpc.StatusCode.UNAUTHENTICATED,
        "an expired context": grpc.StatusCode.UNAUTHENTICATED,
        "another school's tenant_id": grpc.StatusCode.PERMISSION_DENIED,
    }
    assert allowed is grpc.StatusCode.OK


@pytest.mark.parametrize("service", sorted(PROBES))
async def test_reflection_is_off(stack, service):
    """Nothing lists the methods, not even to the gateway's own identity (SMARTPICK_<SERVICE>_GRPC_REFLECTION).
    One message is sent as a unary call: the server routes by the method's path, so an unserved one answers
    UNIMPLEMENTED whatever the call's kind."""
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async with connect(gateway, target(stack, service), service) as channel:
        for version in ("v1", "v1alpha"):
            list_services = channel.unary_unary(
                f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await list_services(request, timeout=5)
            assert raised.value.code() is grpc.StatusCode.UNIMPLEMENTED, version


async def test_a_setting_turns_reflection_on(stack):
    """The control of the test above: SMARTPICK_RANKING_GRPC_REFLECTION=true lists the services (still only to a
    caller with a certificate). A second ranking server on ports of its own, beside the stack's."""
    ports = Ports.free()
    second = ServiceProcess("ranking", stack.endpoints, ports, TEST_STATE_DIR / "logs", grpc_reflection="true")
    second.log_path = second.log_path.with_name("ranking-reflection.log")
    try:
        second.start().wait_ready()
        gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
        async with connect(gateway, f"127.0.0.1:{ports.grpc['ranking']}", "ranking") as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            listed = [s.name async for reply in replies for s in reply.list_services_response.service]
        assert "smartpick.ranking.v1.RankingService" in listed
    finally:
        second.stop()


async def test_a_role_reaches_only_the_methods_its_service_lets_it_call(stack, school):
    """Behind the gateway's own checks, each service names who calls its admin-only and public methods."""
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    advisor = CallerContext(role="advisor", tenant_id=school)
    student = CallerContext(role="student", tenant_id=school, student_id=str(uuid.uuid4()))
    anonymous = caller_context.ANONYMOUS
    profile_call = ("profile", profile_pb2_grpc.ProfileServiceStub)
    mentorship_call = ("mentorship", mentorship_pb2_grpc.MentorshipServiceStub)
    attempts = [
        (advisor, *mentorship_call, "RunRound", mentorship_pb2.RunRoundRequest(tenant_id=school)),
        (student, *profile_call, "ListStudents", profile_pb2.ListStudentsRequest(tenant_id=school)),
        (anonymous, *profile_call, "ListStudents", profile_pb2.ListStudentsRequest(tenant_id="")),
        (anonymous, *profile_call, "CreateSchool", profile_pb2.CreateSchoolRequest(name="Forged School")),
        (advisor, *profile_call, "CreateSchool", profile_pb2.CreateSchoolRequest(name="Forged School")),
    ]
    codes = []
    for caller, service, stub_class, method, request in attempts:
        caller_context.act_as(caller)
        async with connect(gateway, target(stack, service), service) as channel:
            try:
                await getattr(stub_class(channel), method)(request, timeout=5)
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as error:
                codes.append(error.code())
    assert codes == [grpc.StatusCode.PERMISSION_DENIED] * len(attempts)
    # The control: what the public try-it page does is open to an anonymous caller, an advisor lists students.
    caller_context.act_as(anonymous)
    async with connect(gateway, target(stack, "ranking"), "ranking") as channel:
        await ranking_pb2_grpc.RankingServiceStub(channel).ListSpecialties(
            ranking_pb2.ListSpecialtiesRequest(), timeout=5
        )
    caller_context.act_as(advisor)
    async with connect(gateway, target(stack, "profile"), "profile") as channel:
        await profile_pb2_grpc.ProfileServiceStub(channel).ListStudents(
            profile_pb2.ListStudentsRequest(tenant_id=school), timeout=5
        )
