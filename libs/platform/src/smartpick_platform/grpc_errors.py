"""Rich gRPC errors: INVALID_ARGUMENT carries google.rpc.BadRequest field violations, so callers can
name the bad field to their own users without parsing messages."""

import uuid

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

DETAILS_KEY = "grpc-status-details-bin"


async def abort_invalid(context: grpc.aio.ServicerContext, violations: dict[str, str]) -> None:
    """Ends the call with INVALID_ARGUMENT, one field violation per bad field."""
    message = "; ".join(f"{field}: {why}" for field, why in violations.items())
    detail = any_pb2.Any()
    detail.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=field, description=why)
                for field, why in violations.items()
            ]
        )
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message, details=[detail])
    await context.abort(
        grpc.StatusCode.INVALID_ARGUMENT, message, trailing_metadata=((DETAILS_KEY, status.SerializeToString()),)
    )


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The field violations an INVALID_ARGUMENT error carries; empty when it has none."""
    for key, value in error.trailing_metadata() or ():
        if key == DETAILS_KEY:
            status = status_pb2.Status.FromString(value)
            violations: dict[str, str] = {}
            for detail in status.details:
                bad_request = error_details_pb2.BadRequest()
                if detail.Unpack(bad_request):
                    violations.update({v.field: v.description for v in bad_request.field_violations})
            return violations
    return {}


async def require_uuid(context: grpc.aio.ServicerContext, field: str, value: str) -> uuid.UUID:
    """The request field as a UUID, or the call ends with INVALID_ARGUMENT naming the field."""
    try:
        return uuid.UUID(value)
    except ValueError:
        await abort_invalid(context, {field: f"must be a UUID, got {value!r}"})
