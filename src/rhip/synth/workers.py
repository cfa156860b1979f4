"""Worker processes for the generator's record stages (clinical, programmes, contracts).

The parent feeds chunks of residents to ``WORKERS`` spawned processes through a bounded queue; each worker
stages its rows in a file of its own and reports ``("progress", n)``, ``("done", stats)`` or
``("error", traceback)`` on the results queue. A failing or dying worker fails the stage.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from collections.abc import Callable, Iterable
from typing import Any

WORKERS = 2


class Counts:
    """A dataclass of counters that a stage's workers fill and the parent sums (``run_workers(on_done=…add)``)."""

    def add(self, other: "Counts") -> None:
        for f in self.__dataclass_fields__:  # type: ignore[attr-defined]
            setattr(self, f, getattr(self, f) + getattr(other, f))


def run_workers(target: Callable, args_of: Callable[[int], tuple], chunks: Iterable[Any], *, name: str,
                on_done: Callable[[Any], None], progress: Callable[[int], None] | None = None,
                workers: int = WORKERS) -> None:
    """Run ``target(tasks, results, *args_of(i))`` in ``workers`` processes and feed it every chunk, then ``None``
    once per worker; ``on_done`` receives each worker's stats. ``name`` appears in the error messages."""
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(maxsize=2 * workers), ctx.Queue()
    procs = [ctx.Process(target=target, args=(tasks, results, *args_of(i)), daemon=True) for i in range(workers)]
    for p in procs:
        p.start()
    done = 0

    def drain(block: bool) -> None:
        nonlocal done
        while True:
            try:
                kind, payload = results.get(timeout=5 if block else 0.001)
            except queue_mod.Empty:
                if block and any(not p.is_alive() and p.exitcode for p in procs):
                    raise RuntimeError(f"a {name} worker died") from None
                return
            if kind == "error":
                raise RuntimeError(f"a {name} worker failed:\n{payload}")
            if kind == "progress" and progress:
                progress(payload)
            if kind == "done":
                on_done(payload)
                done += 1
            if block:
                return

    try:
        for chunk in chunks:
            while True:
                try:
                    tasks.put(chunk, timeout=1)
                    break
                except queue_mod.Full:
                    drain(block=False)
            drain(block=False)
        for _ in procs:
            tasks.put(None)
        while done < workers:
            drain(block=True)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
