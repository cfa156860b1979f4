"""Console plumbing: message catalogues, rendering, form helpers, error pages, and the signed-in user.

- ``console_principal`` — the signed-in user from the ``rhip_session`` cookie (server-side session);
  not signed in → 303 to the login page; ``must_change_password`` → 303 to /console/password.
- ``checked_form`` — every POST form carries a hidden ``csrf_token`` equal to the session's token.
  The login form (no session yet) uses a double-submit cookie ``rhip_login_csrf`` instead.
- ``guarded`` — a service error inside a page becomes a friendly error page in the layout. The
  request's transaction is rolled back and a refusal that must be audited (``err.audit``, set by
  the services for out-of-scope residents) is written in its own transaction by
  ``security.deps.audit_refusal``, as for the API.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from rhip.kit.errors import RhipError
from rhip.kit.http import DbSession, client_addr
from rhip.kit.idcard import SEX_LABELS
from rhip.kit.masking import mask_id_number, mask_phone
from rhip.registry.rules import (
    DISABILITIES, ETHNICITIES, ID_STATUSES, ORG_KINDS, PROFESSIONS, RELATIONS, STATUSES, TAGS, TEAM_ROLES, TIERS,
)
from rhip.security import service as sec
from rhip.security.deps import SESSION_COOKIE, audit_refusal
from rhip.security.rules import NAVIGATION, ROLES

WEB_DIR = Path(__file__).resolve().parent
LANGS = ("zh", "en")
LANG_COOKIE = "rhip_lang"
LOGIN_CSRF_COOKIE = "rhip_login_csrf"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
AUDIT_PAGE_SIZE = 50
USERS_PAGE_SIZE = 50
# Messages that may be shown after a redirect (?msg=…); anything else is ignored.
FLASH_KEYS = frozenset({"password_changed", "user_created"})

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals.update(
    ROLES=ROLES, SEX=SEX_LABELS, STATUSES=STATUSES, RELATIONS=RELATIONS, ORG_KINDS=ORG_KINDS, TIERS=TIERS,
    TEAM_ROLES=TEAM_ROLES, TAGS=TAGS, DISABILITIES=DISABILITIES, ETHNICITIES=ETHNICITIES, ID_STATUSES=ID_STATUSES,
    PROFESSIONS=PROFESSIONS,
)

# ---------------------------------------------------------------- i18n

@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    with open(WEB_DIR / "i18n" / f"{lang}.json", encoding="utf-8") as fh:
        return json.load(fh)


class Translator:
    """``t("nav.residents")`` → the message in the request's language (the other language, then the key, as fallback)."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **kw: Any) -> str:
        msg = catalogue(self.lang).get(key) or catalogue("en" if self.lang == "zh" else "zh").get(key) or key
        return msg.format(**kw) if kw else msg


def label(table: dict, code: object, lang: str) -> str:
    """A code's label from one of the (zh, en) — or (tier, zh, en) — code tables."""
    if code is None or code == "":
        return ""
    entry = table.get(code)
    if entry is None:
        return str(code)
    return entry[-2] if lang == "zh" else entry[-1]


def request_lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LANGS:
        return remembered
    default = getattr(request.app.state.settings, "default_lang", "zh")
    return default if default in LANGS else "zh"


def error_message(err: RhipError, lang: str) -> str:
    return err.message_zh if lang == "zh" else err.message_en


def field_errors(err: RhipError, lang: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for fe in err.errors:
        out.setdefault(fe.field, []).append(fe.message_zh if lang == "zh" else fe.message_en)
    return out


# ---------------------------------------------------------------- small helpers

def cookie_secure(request: Request) -> bool:
    """Secure cookies: always when configured "true"; with "auto" on https or a loopback host (secure contexts)."""
    mode = str(request.app.state.settings.cookie_secure).strip().lower()
    if mode in ("true", "1", "yes"):
        return True
    if mode != "auto":
        return False
    return request.url.scheme == "https" or (request.url.hostname or "") in LOOPBACK_HOSTS


def tokens_equal(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return secrets.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def safe_next(target: str | None) -> str | None:
    """Only console paths on this site (no open redirect)."""
    if not target or not target.startswith("/console/") or any(c in target for c in "\\\r\n"):
        return None
    if target.startswith(("/console/login", "/console/logout")):
        return None
    return target


def to_int(value: str | None, default: int | None = None, *, minimum: int | None = None) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    if minimum is not None and n < minimum:
        return default
    return n


def blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def url_with(request: Request, **changes: Any) -> str:
    """The current page's URL with some query parameters replaced (None or "" removes them)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "lang"]
    params += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    return request.url.path + ("?" + urlencode(params) if params else "")


def navigation(who: sec.Principal | None, lang: str, path: str) -> list[dict]:
    if who is None or who.must_change_password:
        return []
    items = []
    for href, zh, en, permission in NAVIGATION:
        if permission is None or who.can(permission):
            active = path == href if href == "/console/" else path.startswith(href)
            items.append({"href": href, "label": zh if lang == "zh" else en, "active": active})
    return items


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> Response:
    """Render a page in the layout; remembers ``?lang=`` in a cookie."""
    lang = request_lang(request)
    who = getattr(request.state, "principal", None)
    other = "en" if lang == "zh" else "zh"
    ctx = {
        "who": who, "lang": lang, "t": Translator(lang),
        "L": lambda table, code: label(table, code, lang),
        "nav": navigation(who, lang, request.url.path),
        "url_with": lambda **kw: url_with(request, **kw),
        "lang_url": url_with(request, lang=other), "other_lang": other,
        "mask_id": mask_id_number, "mask_phone": mask_phone,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGS and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax",
                            secure=cookie_secure(request))
    return response


# ---------------------------------------------------------------- errors

class ConsoleRedirect(Exception):
    """Raised by the console dependencies: answer with a 303 to ``url``."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


class ConsolePageError(Exception):
    """Raised by the console dependencies: answer with an error page (status, i18n key of the message)."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status = status
        self.key = key


def error_page(request: Request, s: Session, err: RhipError) -> Response:
    """A service refused: roll back the request's transaction, audit the refusal if asked, show a friendly page."""
    s.rollback()  # nothing a failed use case did may be committed; the session is not used again
    audit_refusal(request, err)
    lang = request_lang(request)
    return render(request, "error.html", {"status": err.http_status, "message": error_message(err, lang),
                                          "errors": field_errors(err, lang)}, status_code=err.http_status)


def guarded(route: Callable[..., Response]) -> Callable[..., Response]:
    """Turn a RhipError raised inside a console route into :func:`error_page` (the route takes ``request`` and ``s``)."""

    @functools.wraps(route)
    def wrapper(**kwargs: Any) -> Response:
        try:
            return route(**kwargs)
        except RhipError as err:
            return error_page(kwargs["request"], kwargs["s"], err)

    return wrapper


async def on_redirect(request: Request, exc: ConsoleRedirect) -> Response:
    return RedirectResponse(exc.url, status_code=303)


async def on_page_error(request: Request, exc: ConsolePageError) -> Response:
    t = Translator(request_lang(request))
    return render(request, "error.html", {"status": exc.status, "message": t(exc.key), "errors": {}},
                  status_code=exc.status)


# ---------------------------------------------------------------- authentication

def login_url(request: Request) -> str:
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if safe_next(here) and here != "/console/":
            return "/console/login?" + urlencode({"next": here})
    return "/console/login"


def console_principal(request: Request, s: DbSession) -> sec.Principal:
    token = request.cookies.get(SESSION_COOKIE)
    found = sec.session_user(s, token) if token else None
    if found is None:
        raise ConsoleRedirect(login_url(request))
    user, ws = found
    who = sec.principal_for(s, user, channel="console", client_addr=client_addr(request), csrf_token=ws.csrf_token)
    request.state.principal = who  # the error handlers audit refusals with it
    if who.must_change_password and request.url.path not in ("/console/password", "/console/logout"):
        raise ConsoleRedirect("/console/password")
    return who


Console = Annotated[sec.Principal, Depends(console_principal)]


async def checked_form(request: Request, who: Console) -> sec.Principal:
    """A signed-in POST: the form's hidden ``csrf_token`` must be the session's token."""
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not tokens_equal(token, who.csrf_token):
        raise ConsolePageError(403, "error.csrf")
    return who


FormUser = Annotated[sec.Principal, Depends(checked_form)]
FormStr = Annotated[str, Form()]


