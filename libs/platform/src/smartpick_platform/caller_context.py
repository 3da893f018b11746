"""The caller's tenant and role, carried on every gRPC call as a signed, short-lived context.

The gateway authenticates a person or a machine; the services behind it must not take the request's
`tenant_id` on trust. So each call carries, in the `x-smartpick-caller` metadata, a JWT (ES256) that says
who the end caller is (role, tenant, student or mentor), for which service (audience) and until when (a
minute). It is signed with the calling service's own TLS key, so a server verifies it with the public key of
the certificate the same connection presented: no other secret to hand out, and a context cannot be lifted
from one caller and replayed by another.

A server (CallerContextInterceptor) refuses a call
- without a client certificate, or from a service the manifest does not let call it: UNAUTHENTICATED /
  PERMISSION_DENIED;
- without a context, or with one that is forged, expired, or meant for another service: UNAUTHENTICATED;
- whose request names a tenant (`tenant_id`, `school_id`) other than the context's, a student (`student_id`)
  other than a calling student, or acts as a mentor (`mentor_id` for no school) other than a calling mentor,
  or calls a method the role may not: PERMISSION_DENIED.
Operators act on every school, so their requests' tenants are not held to one. gRPC health and reflection
need the client certificate only."""

import contextvars
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import grpc
import jwt
import structlog
from cryptography import x509

from smartpick_platform.identity import ServiceIdentity

log = structlog.get_logger(__name__)

HEADER = "x-smartpick-caller"
ALGORITHM = "ES256"
LIFETIME_SECONDS = 60
MAX_LIFETIME_SECONDS = 300  # a context that claims to live longer is refused, whoever signed it
LEEWAY_SECONDS = 5  # clocks of two hosts
ROLES = frozenset({"operator", "school_admin", "advisor", "student", "mentor", "anonymous"})
# Needs a client certificate but no caller: probes and, where a setting turns it on, reflection.
UNSCOPED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True)
class CallerContext:
    """The end caller a service call acts for. Ids are strings, as in the requests ('' for none)."""

    role: str
    tenant_id: str = ""
    student_id: str = ""
    mentor_id: str = ""
    subject: str = ""  # the gateway's key id (not secret), for the services' logs

    def claims(self) -> dict[str, str]:
        return {
            "role": self.role,
            "tenant": self.tenant_id,
            "student": self.student_id,
            "mentor": self.mentor_id,
            "sub": self.subject,
        }


ANONYMOUS = CallerContext(role="anonymous")
_current: contextvars.ContextVar[CallerContext] = contextvars.ContextVar("smartpick_caller", default=ANONYMOUS)


def act_as(caller: CallerContext) -> None:
    """The calls made from here on in this task (a request's) carry `caller`; a server's handler finds the
    verified caller here too."""
    _current.set(caller)


def current() -> CallerContext:
    return _current.get()


# Signing (client side)


class ContextSigner:
    """Signs contexts with the calling service's key; a token is reused for half its lifetime."""

    def __init__(self, identity: ServiceIdentity, lifetime_seconds: int = LIFETIME_SECONDS):
        self._identity = identity
        self._lifetime = lifetime_seconds
        self._tokens: dict[tuple[CallerContext, str], tuple[str, float]] = {}

    def token(self, caller: CallerContext, audience: str) -> str:
        now = time.time()
        cached = self._tokens.get((caller, audience))
        if cached is not None and cached[1] > now:
            return cached[0]
        issued = int(now)
        claims = {
            **caller.claims(),
            "iss": self._identity.name,
            "aud": audience,
            "iat": issued,
            "exp": issued + self._lifetime,
        }
        token = jwt.encode(claims, self._identity.signing_key, algorithm=ALGORITHM)
        if len(self._tokens) > 4096:
            self._tokens.clear()
        self._tokens[(caller, audience)] = (token, now + self._lifetime / 2)
        return token


class CallerContextClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the current caller's signed context to every call to `audience` (the callee service)."""

    def __init__(self, signer: ContextSigner, audience: str):
        self._signer = signer
        self._audience = audience

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
        metadata.add(HEADER, self._signer.token(current(), self._audience))
        return await continuation(client_call_details._replace(metadata=metadata), request)


# Verifying (server side)


@dataclass(frozen=True)
class AccessPolicy:
    """Which roles call which methods of a service (names without the service, e.g. "CreateSchool").
    A method not named is open to every authenticated role; `anonymous` callers (the public try-it page)
    reach only the `public` methods."""

    public: frozenset[str] = frozenset()
    only: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, method: str, role: str) -> bool:
        name = method.rsplit("/", 1)[-1]
        if name in self.only:
            return role in self.only[name]
        return role != "anonymous" or name in self.public


class Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code


def verify(
    token: str | None,
    peer_cert_pem: bytes | None,
    peer: str | None,
    service: str,
    callers: frozenset[str],
    now: float | None = None,
) -> tuple[CallerContext, float]:
    """The caller a call acts for and until when, or Refused saying why not. Free of gRPC objects, so it is
    unit-tested."""
    if peer_cert_pem is None or peer is None:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, "a client certificate signed by the platform's CA is required")
    if peer not in callers:
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, f"service {peer!r} may not call the {service} service")
    if not token:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, f"send the caller's signed context in the {HEADER} metadata")
    try:
        claims = jwt.decode(
            token,
            _public_key(peer_cert_pem),
            algorithms=[ALGORITHM],
            audience=service,
            issuer=peer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "iat", "exp", "role"]},
        )
    except jwt.InvalidTokenError as error:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, f"the caller context is not valid: {error}") from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, "the caller context lives too long")
    if now is not None and claims["iat"] > now + LEEWAY_SECONDS:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, "the caller context is issued in the future")
    if claims["role"] not in ROLES:
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, f"the caller context names an unknown role {claims['role']!r}")
    caller = CallerContext(
        role=claims["role"],
        tenant_id=str(claims.get("tenant", "")),
        student_id=str(claims.get("student", "")),
        mentor_id=str(claims.get("mentor", "")),
        subject=str(claims.get("sub", "")),
    )
    return caller, float(claims["exp"])


def check_scope(caller: CallerContext, method: str, request, policy: AccessPolicy) -> None:
    """Refused unless the caller's role may call `method` on what the request names."""
    if not policy.allows(method, caller.role):
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, f"role {caller.role!r} may not call {method}")
    if caller.role == "operator":
        return
    fields = request.DESCRIPTOR.fields_by_name
    # A mentor acts as themself by mentor_id alone (their inbox, their answers), for no school.
    as_the_mentor = caller.role == "mentor" and "mentor_id" in fields and request.mentor_id == caller.mentor_id
    tenants = {name: getattr(request, name) for name in ("tenant_id", "school_id") if name in fields}
    for name, tenant in tenants.items():
        if tenant != caller.tenant_id and not (as_the_mentor and tenant == ""):
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, f"{name} is not the caller's school")
    if caller.role == "mentor" and "mentor_id" in fields and not any(tenants.values()) and not as_the_mentor:
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, "mentor_id is not the calling mentor")
    if caller.role == "student" and "student_id" in fields and request.student_id != caller.student_id:
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, "student_id is not the calling student")


@lru_cache(maxsize=64)
def _public_key(cert_pem: bytes):
    return x509.load_pem_x509_certificate(cert_pem).public_key()


class CallerContextInterceptor(grpc.aio.ServerInterceptor):
    """Verifies the client's certificate and the caller context of every call (module docstring); the
    handler finds the verified caller in `current()`."""

    def __init__(self, service: str, callers: frozenset[str], policy: AccessPolicy):
        self._service = service
        self._callers = callers
        self._policy = policy
        # A client reuses a token for half its minute: its signature is checked once (~0.1 ms of ECDSA).
        self._verified: dict[tuple[str, bytes], tuple[CallerContext, float]] = {}

    def _caller(self, token: str | None, pem: bytes | None, peer: str | None) -> CallerContext:
        now = time.time()
        known = self._verified.get((token, pem)) if token and pem else None
        if known is not None and known[1] > now:
            return known[0]
        caller, expires = verify(token, pem, peer, self._service, self._callers, now=now)
        if len(self._verified) > 4096:
            self._verified.clear()
        self._verified[(token, pem)] = (caller, expires)
        return caller

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(UNSCOPED_PREFIXES):
            return handler
        if handler.unary_unary is None:
            return None  # every scoped method is unary; anything else is not served
        token = next((v for k, v in handler_call_details.invocation_metadata or () if k == HEADER), None)
        inner = handler.unary_unary

        async def guarded(request, context: grpc.aio.ServicerContext):
            auth = context.auth_context()
            pem = next(iter(auth.get("x509_pem_cert", ())), None)
            peer = next(iter(auth.get("x509_common_name", ())), None)
            try:
                caller = self._caller(token, pem, peer.decode() if peer else None)
                check_scope(caller, method, request, self._policy)
            except Refused as refused:
                log.warning("call refused", method=method, code=refused.code.name, reason=str(refused))
                await context.abort(refused.code, str(refused))
            act_as(caller)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
