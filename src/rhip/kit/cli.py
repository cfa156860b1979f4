"""What every ``rhip`` command group shares: the configured database and a clean failure message."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

err = Console(stderr=True)


def open_db():
    """The database of the settings (``RHIP_DATABASE_URL``, default the embedded SQLite file)."""
    from rhip.kit.db import Database
    from rhip.settings import get_settings

    return Database(get_settings().db_url)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]✗[/red] {message}")
    raise typer.Exit(code)
