"""`smartpick-ranking`: serve the gRPC API, run Kafka workers, or import the program catalog.

Each command is a composition root: it reads settings, migrates the database, and wires the adapters
(asyncpg repository, onnxruntime model, Kafka) to the service layer."""

import argparse
import asyncio
import json
import multiprocessing
from pathlib import Path

import grpc
import structlog
from pydantic_settings import SettingsConfigDict
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc
from tqdm import tqdm

from smartpick_platform import background, db, heap, kafka, services
from smartpick_platform.caller_context import AccessPolicy
from smartpick_platform.grpc_server import run_grpc_service
from smartpick_platform.ops_http import serve_ops_http
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_platform.telemetry import configure_logging
from smartpick_ranking.adapters.onnx_model import SHIPPED_MODEL, OnnxModel
from smartpick_ranking.adapters.repository import RankingRepository
from smartpick_ranking.data import load_programs, load_specialty_stats, program_sources
from smartpick_ranking.domain.known_gaps import KnownGaps
from smartpick_ranking.entrypoints.grpc_api import RankingServicer
from smartpick_ranking.entrypoints.rescore import Rescorer
from smartpick_ranking.entrypoints.supervisor import WorkerSupervisor
from smartpick_ranking.entrypoints.worker import GROUP_ID, RankingWorker, stop_on_signals
from smartpick_ranking.service import RankingService

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The public try-it page scores a profile (for no school) and reads the specialty names without an account.
ACCESS = AccessPolicy(public=frozenset({"ScoreWhatIf", "ListSpecialties"}))


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_RANKING_")

    grpc_port: int = services.port("ranking", "grpc_port")
    ops_port: int = services.port("ranking", "ops_port")
    # Worker i of `worker --workers N` serves /healthz, /readyz, /metrics on worker_ops_port + i.
    worker_ops_port: int = services.port("ranking-worker", "worker_ops_port")
    model_path: Path = SHIPPED_MODEL
    onnx_threads: int = 1
    batch_size: int = 50
    # Each worker joins its group as a static member named after this host and its ops port, so a worker
    # killed and started again takes its partitions back without a rebalance (off: a dynamic member).
    static_membership: bool = True


async def _open(settings: Settings) -> tuple[RankingRepository, RankingService]:
    await db.migrate(settings.database_url, MIGRATIONS, migration_database_url=settings.migration_database_url)
    repo = RankingRepository(await db.create_pool(settings.database_url))
    model = OnnxModel(settings.model_path, intra_op_threads=settings.onnx_threads)
    return repo, await RankingService.load(repo, model, _known_gaps(settings.model_path))


def _known_gaps(model_path: Path) -> KnownGaps:
    """The external check of the model's card beside the model file (a model without a card has none)."""
    card = model_path.with_name("model_card.json")
    if not card.exists():
        log.warning("no model card beside the model: lists carry no note on its checked gaps", model=str(model_path))
        return KnownGaps({})
    return KnownGaps.from_card(json.loads(card.read_text()))


async def serve(settings: Settings) -> None:
    repo, service = await _open(settings)

    def register(server: grpc.aio.Server) -> list[str]:
        ranking_pb2_grpc.add_RankingServiceServicer_to_server(RankingServicer(service), server)
        return [ranking_pb2.DESCRIPTOR.services_by_name["RankingService"].full_name]

    async def readiness() -> dict[str, bool]:
        return {"database": await db.is_ready(repo.pool), "catalog": bool(service.by_specialty)}

    await run_grpc_service(settings, register, readiness, on_stop=repo.pool.close, access=ACCESS)


async def work(settings: Settings, index: int) -> None:
    repo, service = await _open(settings)  # the catalog and the model, before the group is joined
    client_id = f"{GROUP_ID}-{index}"
    ops_port = settings.worker_ops_port + index
    static = settings.static_membership and ops_port != 0
    member = kafka.static_member_id(GROUP_ID, ops_port) if static else None
    consumer = kafka.create_consumer(settings.kafka_bootstrap, GROUP_ID, client_id, group_instance_id=member)
    producer = kafka.create_producer(settings.kafka_bootstrap, client_id)
    await consumer.start()
    await producer.start()
    worker = RankingWorker(service, consumer, producer, settings.batch_size)
    heap.settle_after_startup()

    async def readiness() -> dict[str, bool]:
        return {"database": await db.is_ready(repo.pool), "consuming": worker.running}

    # Bound before the group is joined (worker.run), so a second process on this port exits before it could
    # take the static member's place.
    ops, ops_task = await serve_ops_http(settings.grpc_host, ops_port, readiness)
    stop = stop_on_signals()
    tasks = [background.start(worker.run(), "consumer"), background.start(Rescorer(service, producer).run(), "rescore")]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
        ops.should_exit = True
        await ops_task
        await repo.pool.close()
        log.info("worker stopped", worker=index, tasks_died=background.died())
    background.exit_if_a_task_died()


def _work_process(index: int) -> None:
    settings = Settings()
    configure_logging(f"ranking-worker-{index}", settings.log_level, settings.log_format)
    asyncio.run(work(settings, index))


def run_workers(count: int) -> None:
    """Worker processes, one consumer each: scoring is CPU-bound, so the group scales by processes. One
    worker runs in this process (its own supervisor restarts it); several are supervised here.

    They are forked from a fork server that imported this module (onnxruntime, numpy, the service) once, so
    a worker started again is consuming in about the time it takes to load the catalog, not a whole
    interpreter's start; no worker inherits another's connections or threads."""
    if count == 1:
        _work_process(0)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    WorkerSupervisor(count, context, _work_process).run()


async def import_catalog(settings: Settings) -> None:
    """Loads (or refreshes) the shipped program catalog and specialty figures; safe to run again."""
    sources = program_sources()
    programs = [(program, sources[program.program_id]) for program in load_programs()]
    stats = load_specialty_stats()
    await db.migrate(settings.database_url, MIGRATIONS, migration_database_url=settings.migration_database_url)
    repo = RankingRepository(await db.create_pool(settings.database_url))
    try:
        with tqdm(total=len(programs), unit="program", desc="import catalog") as bar:
            await repo.import_catalog(programs, stats, progress=bar.update)
    finally:
        await repo.pool.close()
    print(f"catalog: {len(programs)} programs, {len(stats)} specialties' figures")


def main() -> None:
    parser = argparse.ArgumentParser(prog="smartpick-ranking", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve ranking.v1.RankingService over gRPC")
    worker = commands.add_parser("worker", help="consume ProfileUpdated and publish RecommendationsGenerated")
    worker.add_argument("--workers", type=int, default=1, help="worker processes (one consumer each)")
    commands.add_parser("import-catalog", help="import or refresh the shipped program catalog")
    args = parser.parse_args()
    settings = Settings()
    configure_logging("ranking", settings.log_level, settings.log_format)
    if args.command == "serve":
        asyncio.run(serve(settings))
    elif args.command == "worker":
        if args.workers < 1:
            parser.error("--workers must be at least 1")
        run_workers(args.workers)
    else:
        asyncio.run(import_catalog(settings))
