"""Keep the server's long-lived objects out of the garbage collector's way.

A full (generation-2) collection walks every tracked object. In the server that includes the module globals of
everything it imported, among them pypinyin's phrase dictionaries (loaded with the MPI's name rules, hundreds of
thousands of entries): one full collection then took ~190 ms of CPU, and a request that triggered one (about one
in twenty-five large $everything responses) waited for it — that was the p95 of Patient/$everything.
``settle`` imports those modules (and builds the FHIR validators, which the first requests would otherwise wait
for) at start-up and moves everything alive then into the permanent generation
(``gc.freeze``), which collections do not walk; what requests allocate is still collected as before.
"""

from __future__ import annotations

import gc
import importlib
from contextlib import asynccontextmanager

# imported lazily by the code that needs them; loaded here so that their data is frozen with the rest
HEAVY_MODULES = ("rhip.mpi.service", "rhip.fhir.mpi")
# "module:function"s that build caches every request would otherwise build on first use (then frozen too)
WARM_UP = ("rhip.fhir.fastcheck:warm",)

_imported = False


def settle() -> None:
    """Import the heavy modules and collect what is garbage now (both once per process), then freeze what is
    alive."""
    global _imported
    if not _imported:
        for name in HEAVY_MODULES:
            importlib.import_module(name)
        for target in WARM_UP:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)()
        gc.collect()
        _imported = True
    gc.freeze()


@asynccontextmanager
async def lifespan(_app):
    """FastAPI lifespan: settle the heap before serving; unfreeze it at shutdown, so that what became garbage
    in the meantime is collected (an app started and stopped many times, as in tests, leaks nothing)."""
    settle()
    try:
        yield
    finally:
        gc.unfreeze()
