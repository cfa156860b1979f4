"""FastAPI dependencies: who is calling (bearer token or console session) and what they may do."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rhip.kit.errors import Forbidden, NotAuthenticated, RhipError
from rhip.kit.http import DbSession, client_addr
from rhip.security import service as sec

SESSION_COOKIE = "rhip_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_principal(request: Request, s: DbSession) -> sec.Principal:
    auth = request.headers.get("authorization", "")
    principal = None
    if auth.lower().startswith("bearer "):
        user = sec.token_user(s, auth[7:].strip())
        if user is not None:
            principal = sec.principal_for(s, user, channel="api", client_addr=client_addr(request))
    elif (cookie := request.cookies.get(SESSION_COOKIE)):
        found = sec.session_user(s, cookie)
        if found is not None:
            user, ws = found
            if request.method not in SAFE_METHODS and request.headers.get("x-csrf-token") != ws.csrf_token:
                raise Forbidden("缺少或错误的CSRF令牌", "missing or wrong CSRF token (X-CSRF-Token header)")
            principal = sec.principal_for(s, user, channel="console", client_addr=client_addr(request),
                                          csrf_token=ws.csrf_token)
    if principal is None:
        raise NotAuthenticated()
    request.state.principal = principal
    return principal


Who = Annotated[sec.Principal, Depends(current_principal)]


def audit_refusal(request: Request, err: RhipError) -> None:
    """Record a refusal the service marked for audit (``err.audit = (action, resident ids)``).

    The request's own transaction was rolled back, so the ``denied`` event is committed in a transaction
    of its own. Used by the API's error handler and by the console's error pages.
    """
    info = getattr(err, "audit", None)
    principal = getattr(request.state, "principal", None)
    if not info or principal is None:
        return
    action, ids = info
    with request.app.state.db.unit_of_work() as s:
        sec.audit(s, principal, action, outcome="denied", resident_ids=ids, detail={"path": request.url.path})
