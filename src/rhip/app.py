"""FastAPI app factory: mounts the routers, error handling, console and static files."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from rhip import __version__
from rhip.kit import heap
from rhip.kit.db import Database
from rhip.kit.http import AccessLog, install_error_handlers
from rhip.settings import Settings, get_settings


access = logging.getLogger("rhip.access")


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="RHIP 区域全民健康信息平台",
        version=__version__,
        description="Regional Health Information Platform: registry, residents and households, "
                    "organizations, family-doctor teams. 所有居民数据的读写均按服务范围授权并留痕审计。",
        docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
        lifespan=heap.lifespan,  # long-lived objects out of the collector's way (kit/heap.py)
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.db_url)
    from rhip.security.deps import audit_refusal

    from rhip.fhir.endpoints import mount_fhir, render_error

    install_error_handlers(app, on_refusal=audit_refusal, renderers={"/fhir": render_error})

    from rhip.registry.endpoints import router as registry_router
    from rhip.security.endpoints import router as security_router
    from rhip.web.console import mount_console

    app.include_router(security_router)
    app.include_router(registry_router)
    from rhip.contracts.endpoints import router as contracts_router

    app.include_router(contracts_router)
    from rhip.contracts.console import router as contracts_console

    app.include_router(contracts_console)  # before the console's catch-all route
    from rhip.mpi.endpoints import router as mpi_router

    app.include_router(mpi_router)
    from rhip.mpi.console import router as mpi_console

    app.include_router(mpi_console)  # before mount_console: its catch-all /console/{rest} would shadow it
    from rhip.programs.endpoints import router as programs_router

    app.include_router(programs_router)
    from rhip.programs.fhir_endpoints import router as programs_fhir_router

    app.include_router(programs_fhir_router)  # before the generic /fhir/{rtype} routes
    from rhip.programs.console import router as programs_console_router

    app.include_router(programs_console_router)  # before the console's catch-all page
    mount_console(app)
    mount_fhir(app)

    app.add_middleware(AccessLog, logger=access)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/console/")

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"status": "ok", "version": __version__}

    return app
