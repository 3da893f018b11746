"""People's sign-in: a school issues a one-time sign-in code (and link), the person exchanges it for a
session cookie, reads the session (with its CSRF token) and signs out."""

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from smartpick.mentorship.v1 import mentorship_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.adapters.sessions_repository import Session, SignInCode
from smartpick_gateway.domain import auth, sessions
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Deps, SessionCookie, signed_in_session, within_rate

router = APIRouter(tags=["sign-in"])

PersonRole = Literal[auth.Role.SCHOOL_ADMIN, auth.Role.ADVISOR, auth.Role.STUDENT, auth.Role.MENTOR]
HOME = {
    auth.Role.SCHOOL_ADMIN: "/admin",
    auth.Role.ADVISOR: "/advisor",
    auth.Role.STUDENT: "/student",
    auth.Role.MENTOR: "/mentor",
}


class SignInCodeIn(schemas.Body):
    role: PersonRole
    student_id: uuid.UUID | None = Field(None, description="Required for, and only for, the student role")
    mentor_id: uuid.UUID | None = Field(None, description="Required for, and only for, the mentor role")
    label: str = Field("", max_length=200, description="Who it is for, e.g. a name or an email address")


class SignInCodeOut(BaseModel):
    code_id: str
    role: str
    student_id: str | None
    mentor_id: str | None
    label: str
    created_at: str
    expires_at: str
    used_at: str | None

    @classmethod
    def of(cls, code: SignInCode) -> "SignInCodeOut":
        return cls(
            code_id=code.code_id,
            role=code.role.value,
            student_id=str(code.student_id) if code.student_id else None,
            mentor_id=str(code.mentor_id) if code.mentor_id else None,
            label=code.label,
            created_at=code.created_at.isoformat(),
            expires_at=code.expires_at.isoformat(),
            used_at=code.used_at.isoformat() if code.used_at else None,
        )


class SignInCodeIssued(SignInCodeOut):
    code: str = Field(description="Shown once; only its hash is stored. Works once, until expires_at")
    sign_in_path: str = Field(description="Path of the sign-in link on this site, code included")


class SignInCodeList(BaseModel):
    codes: list[SignInCodeOut]


class SessionIn(schemas.Body):
    code: str = Field(min_length=8, max_length=100, description="The one-time sign-in code")


class SessionOut(BaseModel):
    role: str
    school_id: str
    student_id: str | None
    mentor_id: str | None
    label: str
    expires_at: str
    home: str = Field(description="The page for this role")
    csrf_token: str = Field(description="Send as X-CSRF-Token on every POST, PUT and DELETE")


def session_out(found: Session, token: str) -> SessionOut:
    person = found.principal
    return SessionOut(
        role=person.role.value,
        school_id=str(person.tenant_id),
        student_id=str(person.student_id) if person.student_id else None,
        mentor_id=str(person.mentor_id) if person.mentor_id else None,
        label=found.label,
        expires_at=found.expires_at.isoformat(),
        home=HOME[person.role],
        csrf_token=sessions.csrf_token(token),
    )


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


@router.post("/v1/schools/{school_id}/sign-in-codes", status_code=201, response_model=SignInCodeIssued)
async def issue_sign_in_code(school_id: uuid.UUID, body: SignInCodeIn, deps: Deps, caller: Caller):
    """Issues a person of the school a one-time sign-in code and link (school admins)."""
    auth.require_school_admin(caller, school_id)
    role = auth.Role(body.role)
    if (role is auth.Role.STUDENT) != (body.student_id is not None):
        raise _invalid("student_id", "give student_id for, and only for, role 'student'")
    if (role is auth.Role.MENTOR) != (body.mentor_id is not None):
        raise _invalid("mentor_id", "give mentor_id for, and only for, role 'mentor'")
    if body.student_id is not None:
        await deps.profiles.rpc.GetStudent(
            profile_pb2.GetStudentRequest(tenant_id=str(school_id), student_id=str(body.student_id))
        )
    if body.mentor_id is not None:
        reply = await deps.mentorship.rpc.GetMentor(
            mentorship_pb2.GetMentorRequest(tenant_id=str(school_id), mentor_id=str(body.mentor_id))
        )
        if reply.mentor.tenant_id != str(school_id):
            raise _invalid("mentor_id", "the mentor is not registered with this school")
    person = auth.Principal("", role, school_id, body.student_id, body.mentor_id)
    secret = sessions.new_sign_in_code()
    lifetime = timedelta(hours=deps.settings.sign_in_code_hours)
    code = await deps.sessions.save_code(secret, person, body.label, caller.key_id, lifetime)
    return SignInCodeIssued(
        **SignInCodeOut.of(code).model_dump(), code=secret.token, sign_in_path=f"/signin#code={secret.token}"
    )


@router.get("/v1/schools/{school_id}/sign-in-codes", response_model=SignInCodeList)
async def list_sign_in_codes(
    school_id: uuid.UUID, deps: Deps, caller: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 200
):
    """The codes issued to the school's people, newest first, and whether each was used (never the code)."""
    auth.require_school_admin(caller, school_id)
    return SignInCodeList(codes=[SignInCodeOut.of(c) for c in await deps.sessions.list_codes(school_id, limit)])


@router.post(
    "/v1/sessions",
    response_model=SessionOut,
    responses={429: {"description": "Too many sign-in attempts from this client; wait Retry-After seconds"}},
)
async def sign_in(body: SessionIn, request: Request, response: Response, deps: Deps):
    """Exchanges a one-time sign-in code for a session, kept in an HttpOnly cookie. Rate-limited per client."""
    await within_rate(deps.sign_in_limit, request, "sign-in")
    token = sessions.new_session()
    found = await deps.sessions.open_session(body.code, token, timedelta(hours=deps.settings.session_hours))
    if found is None:
        raise HTTPException(401, "this sign-in code is unknown, already used or expired; ask your school for a new one")
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token.token,
        max_age=int(deps.settings.session_hours * 3600),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return session_out(found, token.token)


@router.get("/v1/session", response_model=SessionOut)
async def current_session(deps: Deps, session_token: SessionCookie = None):
    """Who is signed in, and the CSRF token of the session."""
    if session_token is None:
        raise HTTPException(401, "not signed in")
    return session_out(await signed_in_session(deps, session_token), session_token)


@router.delete("/v1/session", status_code=204)
async def sign_out(request: Request, deps: Deps, caller: Caller):
    """Ends the session (the CSRF token is required, as on every state change) and clears the cookie."""
    session_id = sessions.session_id_of(caller.key_id)
    if session_id is None:
        raise HTTPException(409, "this request carries an API key, not a session; revoke keys instead")
    await deps.sessions.end_session(caller.tenant_id, session_id)
    response = Response(status_code=204)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/", secure=request.url.scheme == "https", httponly=True)
    return response
