"""Typed settings (env prefix ``RHIP_``). Secrets and paths come from here, never from literals."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RHIP_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the embedded database and secrets live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite under data_dir")
    secret_key: str | None = Field(default=None, description="Signing key; default: generated once into data_dir/secret.key")
    host: str = "127.0.0.1"
    port: int = 8000
    default_lang: str = "zh"
    timezone: str = Field(default="Asia/Shanghai", description="The platform's timezone (IANA name)")
    session_minutes: int = 8 * 60
    # "auto": Secure flag when served over https or on a loopback host (browsers treat those as secure contexts).
    cookie_secure: str = "auto"
    mpi_params: Path | None = Field(default=None, description="MPI matching parameters (JSON from `rhip mpi fit`); "
                                                               "default: the fitted file shipped in rhip/mpi/data")
    page_size_default: int = 20
    page_size_max: int = 200
    # Argon2id parameters (RFC 9106 second recommended option: 64 MiB, 3 passes).
    argon2_memory_kib: int = 65536
    argon2_time_cost: int = 3
    argon2_parallelism: int = 2

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rhip.db').resolve()}"

    def signing_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
