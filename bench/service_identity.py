"""What service identity costs a call: signing a caller context (fresh and reused), verifying one, and a unary
gRPC call over loopback with mutual TLS and a verified context against the same call in plaintext.

    .venv/bin/python bench/service_identity.py [--calls 2000]"""

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import grpc
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc

from smartpick_platform import caller_context, local_ca
from smartpick_platform.caller_context import AccessPolicy, CallerContext, CallerContextInterceptor, ContextSigner
from smartpick_platform.grpc_channel import connect


class Echo(profile_pb2_grpc.ProfileServiceServicer):
    async def ListStudents(self, request, context):
        return profile_pb2.ListStudentsResponse()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def per_call_us(function, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls * 1e6


async def call_latencies(channel, tenant: str, calls: int) -> list[float]:
    stub = profile_pb2_grpc.ProfileServiceStub(channel)
    request = profile_pb2.ListStudentsRequest(tenant_id=tenant)
    await stub.ListStudents(request, timeout=5)  # the handshake, outside the figures
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        await stub.ListStudents(request, timeout=5)
        latencies.append((time.perf_counter() - started) * 1e3)
    return latencies


async def serve(port: int, secure: bool, directory: Path) -> grpc.aio.Server:
    interceptors = []
    profile = local_ca.identity(directory, "profile")
    if secure:
        interceptors = [CallerContextInterceptor("profile", frozenset({"gateway"}), AccessPolicy())]
    server = grpc.aio.server(interceptors=interceptors)
    profile_pb2_grpc.add_ProfileServiceServicer_to_server(Echo(), server)
    if secure:
        server.add_secure_port(f"127.0.0.1:{port}", profile.server_credentials())
    else:
        server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


def summary(latencies: list[float]) -> str:
    q = statistics.quantiles(latencies, n=100)
    return f"p50 {q[49]:.3f} ms, p99 {q[98]:.3f} ms"


async def calls(directory: Path, count: int) -> None:
    tenant = str(uuid.uuid4())
    caller_context.act_as(CallerContext(role="school_admin", tenant_id=tenant))
    gateway = local_ca.identity(directory, "gateway")
    for secure in (False, True):
        port = free_port()
        server = await serve(port, secure, directory)
        try:
            if secure:
                channel = connect(gateway, f"127.0.0.1:{port}", "profile")
            else:
                channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
            async with channel:
                latencies = await call_latencies(channel, tenant, count)
        finally:
            await server.stop(None)
        label = "mutual TLS + verified context" if secure else "plaintext, no context"
        print(f"unary call over loopback, {label}: {summary(latencies)} ({count} calls, one channel)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = local_ca.ensure(Path(folder))
        gateway = local_ca.identity(directory, "gateway")
        caller = CallerContext(role="school_admin", tenant_id=str(uuid.uuid4()), subject="bench")
        fresh = per_call_us(lambda: ContextSigner(gateway).token(caller, "profile"), args.calls)
        signer = ContextSigner(gateway)
        reused = per_call_us(lambda: signer.token(caller, "profile"), args.calls)
        token = signer.token(caller, "profile")
        verified = per_call_us(
            lambda: caller_context.verify(token, gateway.cert_pem, "gateway", "profile", frozenset({"gateway"})),
            args.calls,
        )
        print(f"sign a context: {fresh:.1f} us fresh, {reused:.2f} us reused (within half its minute)")
        print(f"verify a context's signature: {verified:.1f} us (a server does it once per token)")
        asyncio.run(calls(directory, args.calls))


if __name__ == "__main__":
    main()
