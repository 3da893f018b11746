"""`python -m smartpick_platform.migrate SERVICE`: applies one service's pending schema migrations and exits.

What a migration Job runs before a rollout (deploy/k8s/base/migrations.yaml), as the service's migration role
(the owner of its tables), so that the serving replicas (SMARTPICK_MIGRATIONS=verify) never change a schema;
then it grants the service's runtime role (named in the services manifest) its DML. The database is the
service's own: SMARTPICK_<SERVICE>_MIGRATION_DATABASE_URL; the migrations are those its package ships."""

import argparse
import os
from importlib import resources
from pathlib import Path

from smartpick_platform import db, outbox, services
from smartpick_platform.settings import PlatformSettings
from smartpick_platform.telemetry import configure_logging


def migrations_dirs(service: str) -> list[Path]:
    """The `migrations` folder inside the service's Python package (smartpick_<service>), then the outbox's
    where the service has one (as the service itself applies them at start)."""
    declared = services.manifest().services[service]
    own = Path(str(resources.files(declared.package.replace("-", "_")) / "migrations"))
    return [own, outbox.MIGRATIONS] if declared.outbox else [own]


def main() -> None:
    manifest = services.manifest()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=list(manifest.services))
    args = parser.parse_args()
    settings = PlatformSettings()
    configure_logging(f"{args.service}-migrate", settings.log_level, settings.log_format)
    service = manifest.services[args.service]
    variable = f"{service.env_prefix}MIGRATION_DATABASE_URL"
    database_url = os.environ.get(variable)
    if not database_url:
        parser.error(f"{variable} is not set: the URL of the {args.service} service's database, as its migration role")
    applied = db.apply_migrations(database_url, *migrations_dirs(args.service), runtime_role=service.runtime_role)
    print(f"{args.service}: {len(applied)} migration(s) applied")


if __name__ == "__main__":
    main()
