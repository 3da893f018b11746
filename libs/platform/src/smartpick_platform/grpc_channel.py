"""A gRPC channel from one service to another: mutual TLS, the callee's certificate checked against its
service name, and the current caller's signed context on every call (caller_context.py)."""

from collections.abc import Sequence

import grpc

from smartpick_platform.caller_context import CallerContextClientInterceptor, ContextSigner
from smartpick_platform.identity import ServiceIdentity


def connect(
    identity: ServiceIdentity,
    target: str,
    service: str,
    signer: ContextSigner | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
):
    """A channel to `service` (its name in the manifest, a DNS name of its certificate) at `target`;
    `interceptors` run before the one that adds the caller's signed context."""
    return grpc.aio.secure_channel(
        target,
        identity.channel_credentials(),
        # The certificate is checked against the service's name, whichever address (an IP, a pod) is dialled.
        options=[("grpc.ssl_target_name_override", service)],
        interceptors=[*interceptors, CallerContextClientInterceptor(signer or ContextSigner(identity), service)],
    )
