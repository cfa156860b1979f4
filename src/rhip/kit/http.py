"""HTTP plumbing shared by every router: the per-request transaction and the one error mapping."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from rhip.kit.db import Database
from rhip.kit.errors import RhipError

log = logging.getLogger("rhip")


def database(request: Request) -> Database:
    return request.app.state.db


def _unit_of_work(request: Request) -> Iterator[Session]:
    """One request = one transaction, committed before the response is sent (scope="function")."""
    with request.app.state.db.unit_of_work() as s:
        yield s


DbSession = Annotated[Session, Depends(_unit_of_work, scope="function")]


async def _request_body(request: Request) -> bytes:
    return await request.body()


# The raw request body, read on the event loop before the transaction begins (declare it before DbSession).
# It lets an endpoint that needs the body be a plain ``def``: FastAPI runs those in its threadpool, so their
# synchronous database work never blocks the event loop (an ``async def`` endpoint doing it stops the whole
# server while, say, a big transaction Bundle is stored).
RawBody = Annotated[bytes, Depends(_request_body)]


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


def _loc_to_field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or ".".join(map(str, loc))


PYDANTIC_ZH = {
    "missing": "必填项缺失", "extra_forbidden": "不允许的字段", "date_from_datetime_parsing": "日期格式应为YYYY-MM-DD",
    "date_parsing": "日期格式应为YYYY-MM-DD", "int_parsing": "应为整数", "bool_parsing": "应为true或false",
    "string_type": "应为字符串", "json_invalid": "JSON格式错误", "model_attributes_type": "应为对象",
    "list_type": "应为数组", "date_type": "应为日期", "int_type": "应为整数", "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
}


Renderer = Callable[[Request, Exception], Response]


def install_error_handlers(app: FastAPI, on_refusal: Callable[[Request, RhipError], None] | None = None,
                           renderers: dict[str, Renderer] | None = None) -> None:
    """``on_refusal`` is called for every RhipError after the request's transaction was rolled back
    (the app passes security's audit of refusals; kit knows nothing of security). ``renderers`` maps a
    path prefix (e.g. "/fhir") to the function that renders errors there in that API's own format."""

    def rendered(request: Request, exc: Exception) -> Response | None:
        for prefix, render in (renderers or {}).items():
            if request.url.path.startswith(prefix):
                return render(request, exc)
        return None

    @app.exception_handler(RhipError)
    async def _rhip(request: Request, exc: RhipError):
        if on_refusal is not None:  # it writes to the database: in the threadpool, not on the event loop
            await run_in_threadpool(on_refusal, request, exc)
        return rendered(request, exc) or JSONResponse(exc.as_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        if (response := rendered(request, exc)) is not None:
            return response
        errors = []
        for e in exc.errors():
            field = "body" if e.get("type") == "json_invalid" else _loc_to_field(tuple(e.get("loc", ())))
            zh = PYDANTIC_ZH.get(e.get("type", ""), "输入无效")
            errors.append({"field": field, "code": f"input.{e.get('type', 'invalid')}",
                           "message_zh": f"{field}：{zh}", "message_en": f"{field}: {e.get('msg')}"})
        first = errors[0] if errors else {"message_zh": "输入无效", "message_en": "invalid input"}
        body = {"code": "validation_failed", "message_zh": f"输入有误：{first['message_zh']}",
                "message_en": f"invalid input: {first['message_en']}", "errors": errors}
        if len(errors) == 1:
            body["field"] = errors[0]["field"]
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if (response := rendered(request, exc)) is not None:
            return response
        zh = {404: "请求的地址不存在", 405: "不支持该请求方法", 401: "未登录", 403: "无权访问"}.get(exc.status_code, "请求错误")
        return JSONResponse({"code": f"http_{exc.status_code}", "message_zh": zh, "message_en": str(exc.detail)},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"code": "internal_error", "message_zh": "服务器内部错误，已记录，请联系管理员",
                             "message_en": "internal server error; it was logged, contact the administrator"},
                            status_code=500)


class AccessLog:
    """One line per request without the query string (searches carry ID numbers and phones there).

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` (BaseHTTPMiddleware) runs every request
    through an extra task and memory streams, which costs about a millisecond per request on a busy machine."""

    def __init__(self, app, logger: logging.Logger | None = None):
        self.app = app
        self.log = logger or logging.getLogger("rhip.access")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import time

        started = time.perf_counter()
        status = [500]

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                principal = getattr((scope.get("state") or {}).get("principal"), "username", None)
                client = scope.get("client")
                self.log.info("%s %s %s %s %d %.1fms", client[0] if client else "-", principal or "-",
                              scope["method"], scope["path"], status[0], (time.perf_counter() - started) * 1000)
