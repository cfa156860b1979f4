"""Alembic, driven from code: ``rhip migrate`` and the test fixtures call :func:`upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def import_all_models() -> None:
    """Import every domain's tables so that Base.metadata knows them."""
    import rhip.contracts.models  # noqa: F401
    import rhip.fhir.models  # noqa: F401
    import rhip.mpi.models  # noqa: F401
    import rhip.programs.models  # noqa: F401
    import rhip.records.models  # noqa: F401
    import rhip.records.models_immunization  # noqa: F401
    import rhip.records.models_medication  # noqa: F401
    import rhip.records.models_reports  # noqa: F401
    import rhip.registry.models  # noqa: F401
    import rhip.security.models  # noqa: F401
    import rhip.synth.models  # noqa: F401


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from rhip.kit.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
