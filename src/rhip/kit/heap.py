"""Keep the server's long-lived objects out of the garbage collector's way.

A full (generation-2) collection walks every tracked object. In the server that includes the module globals of
everything it imported, among them pypinyin's phrase dictionaries (loaded with the MPI's name rules, hundreds of
thousands of entries): one full collection then took ~190 ms of CPU, and a request that triggered one (about one
in twenty-five large $everything responses) waited for it — that was the p95 of Patient/$everything.
``settle`` imports those modules at start-up and moves everything alive then into the permanent generation
(``gc.freeze``), which collections do not walk; what requests allocate is still collected as before.
"""

from __future__ import annotations

import gc
import importlib
from contextlib import asynccontextmanager

# imported lazily by the code that needs them; loaded here so that their data is frozen with the rest
HEAVY_MODULES = ("rhip.mpi.service", "rhip.fhir.mpi")

_settled = False


def settle() -> None:
    """Once per process: import the heavy modules, collect what is garbage now, freeze the rest."""
    global _settled
    if _settled:
        return
    for name in HEAVY_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    _settled = True


@asynccontextmanager
async def lifespan(_app):
    """FastAPI lifespan: settle the heap before serving."""
    settle()
    yield
