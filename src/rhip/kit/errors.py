"""Typed errors, mapped once to HTTP (and later to FHIR OperationOutcome).

Every error carries a stable machine code, and a message in Chinese and English.
A request may report several field errors at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}


@dataclass
class RhipError(Exception):
    code: str
    message_zh: str
    message_en: str
    errors: list[FieldError] = field(default_factory=list)
    http_status: int = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"

    def as_dict(self) -> dict:
        body = {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
            if len(self.errors) == 1:
                body["field"] = self.errors[0].field
        return body


class ValidationFailed(RhipError):
    def __init__(self, errors: list[FieldError]):
        first = errors[0]
        super().__init__(
            code="validation_failed",
            message_zh=f"输入有误：{first.message_zh}" + (f"（另有{len(errors) - 1}处）" if len(errors) > 1 else ""),
            message_en=f"invalid input: {first.message_en}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            errors=errors,
            http_status=422,
        )


class NotFound(RhipError):
    def __init__(self, what_zh: str, what_en: str, ident: object):
        super().__init__("not_found", f"{what_zh}“{ident}”不存在", f"{what_en} '{ident}' does not exist", http_status=404)


class Conflict(RhipError):
    def __init__(self, code: str, message_zh: str, message_en: str, field_name: str | None = None):
        errors = [FieldError(field_name, code, message_zh, message_en)] if field_name else []
        super().__init__(code, message_zh, message_en, errors, http_status=409)


class PreconditionFailed(RhipError):
    def __init__(self, current_version: int):
        super().__init__(
            "version_mismatch",
            f"记录已被他人修改（当前版本 {current_version}），请刷新后重试",
            f"the record was changed by someone else (current version {current_version}); reload and retry",
            http_status=412,
        )


class NotAuthenticated(RhipError):
    def __init__(self) -> None:
        super().__init__("not_authenticated", "未登录或凭据无效", "not signed in or invalid credentials", http_status=401)


class Forbidden(RhipError):
    def __init__(self, message_zh: str = "无权访问该数据", message_en: str = "you are not allowed to access this data"):
        super().__init__("forbidden", message_zh, message_en, http_status=403)


class OutOfScope(RhipError):
    """The resident exists but lies outside the user's org-unit scope.

    Answered as 404 so that the existence of a person outside one's scope is not disclosed.
    """

    def __init__(self, ident: object, *, action: str, resident_ids: list[int]):
        super().__init__("not_found", f"居民“{ident}”不存在或不在您的服务范围内",
                         f"resident '{ident}' does not exist or is outside your scope", http_status=404)
        # The refusal to audit: (action, resident ids). The request's transaction is rolled back, so the
        # error handlers write it in a transaction of its own (security.deps.audit_refusal).
        self.audit = (action, resident_ids)
