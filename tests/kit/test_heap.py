"""The server settles its heap at start-up: the lazily imported heavy modules are loaded, and what is alive
then is frozen out of the garbage collector's full collections until shutdown (see rhip/kit/heap.py)."""

from __future__ import annotations

import gc
import sys

from fastapi.testclient import TestClient

from rhip.app import create_app
from rhip.kit import heap


def test_starting_the_app_loads_the_heavy_modules_and_freezes_them(tmp_path):
    from rhip.settings import Settings

    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert all(name in sys.modules for name in heap.HEAVY_MODULES) and "pypinyin" in sys.modules
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # unfrozen at shutdown: frozen garbage would never be freed
