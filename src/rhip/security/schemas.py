"""API shapes for users, tokens and the audit trail."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    username: str
    password: str


class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    role_label: str
    must_change_password: bool
    scope_everything: bool
    scope: list[str]
    permissions: list[str]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    display_name: str = ""
    role: str
    password: str | None = Field(None, description="为空则只能用API令牌（系统账户）")
    divisions: list[str] = Field(default_factory=list, description="服务范围：区划代码（县/乡镇/村）")
    organizations: list[int] = Field(default_factory=list, description="服务范围：机构ID")
    practitioner_id: int | None = None
    org_id: int | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenIn(BaseModel):
    name: str = Field(description="令牌用途，例如 县医院HIS")
    days: int | None = Field(365, ge=1, le=3650)


class TokenOut(BaseModel):
    token: str = Field(description="只显示一次，请妥善保存")
    prefix: str
    name: str
    expires_at: datetime | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    username: str | None
    role: str | None
    action: str
    outcome: str
    client_addr: str | None
    channel: str | None
    resident_ids: list[int]
    detail: str | None
