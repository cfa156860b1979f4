"""Console (server-rendered pages): sign-in, sessions, CSRF, scope, masking, auditing, i18n.

Every test runs on SQLite and PostgreSQL (the ``db_url`` fixture is parametrized).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from rhip.registry.models import Resident
from rhip.security import repository as sec_repo
from rhip.security import service as sec
from rhip.security.deps import SESSION_COOKIE
from tests.factories import PASSWORD, V11

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_PASSWORD = "Neues-Passw0rt#2026"


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "the page has no csrf_token field"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str | None = None):
    page = client.get("/console/login")
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    if next_url:
        data["next"] = next_url
    return client.post("/console/login", data=data, follow_redirects=False)


def signed_in(client: TestClient, username: str) -> TestClient:
    r = login(client, username)
    assert r.status_code == 303, r.text
    return client


def audit_rows(db, **filters) -> list:
    with db.read_only() as s:
        rows, _ = sec_repo.audit_page(s, resident_id=filters.get("resident_id"), username=filters.get("username"),
                                      action=filters.get("action"), offset=0, limit=200)
        subjects = sec_repo.audit_subjects(s, [e.id for e in rows])
        fields = ("id", "action", "outcome", "username", "role", "channel", "detail", "resident_count")
        return [(SimpleNamespace(**{f: getattr(e, f) for f in fields}), sorted(subjects.get(e.id, [])))
                for e in rows]


def id_number_of(db, resident_id: int) -> str:
    with db.read_only() as s:
        return s.get(Resident, resident_id).id_number


def set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


# ---------------------------------------------------------------- i18n and static files (no database)

def test_catalogues_have_the_same_keys_and_no_empty_message():
    base = Path(__file__).resolve().parents[2] / "src" / "rhip" / "web" / "i18n"
    zh = json.loads((base / "zh.json").read_text(encoding="utf-8"))
    en = json.loads((base / "en.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    assert all(zh.values()) and all(en.values())
    assert zh["nav.residents"] == "居民档案" and en["nav.residents"] == "Residents"


def test_templates_use_only_known_message_keys():
    base = Path(__file__).resolve().parents[2] / "src" / "rhip" / "web"
    keys = set(json.loads((base / "i18n" / "zh.json").read_text(encoding="utf-8")))
    used = set()
    for path in [*(base / "templates").glob("*.html"), base / "console.py"]:
        used |= set(re.findall(r"""\bt\(['"]([a-z0-9_]+\.[a-z0-9_.]+)['"]""", path.read_text(encoding="utf-8")))
    assert used and used <= keys, sorted(used - keys)


# ---------------------------------------------------------------- sign-in

def test_login_page_in_chinese_by_default_and_english_on_request(client):
    r = client.get("/console/login")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert "区域全民健康信息平台" in r.text and "用户名" in r.text and "密码" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert set_cookie_headers(r, "rhip_login_csrf"), "the login form sets its double-submit cookie"

    en = client.get("/console/login?lang=en")
    assert en.status_code == 200
    assert '<html lang="en">' in en.text
    assert "Regional Health Information Platform" in en.text and "User name" in en.text
    assert "用户名" not in en.text
    assert any("rhip_lang=en" in h for h in en.headers.get_list("set-cookie"))
    # remembered in the cookie
    assert "User name" in client.get("/console/login").text
    assert "用户名" in client.get("/console/login?lang=zh").text


def test_wrong_password_is_refused_with_401_and_audited(client, county, db):
    r = login(client, "manager", "not-the-password")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert not set_cookie_headers(r, SESSION_COOKIE)
    denied = [e for e, ids in audit_rows(db, action="login") if e.outcome == "denied"]
    assert len(denied) == 1
    assert json.loads(denied[0].detail)["username"] == "manager"
    assert denied[0].resident_count == 0 and denied[0].channel == "console"
    # an unknown user gets the same answer
    r = login(client, "nobody", "whatever-Pass1")
    assert r.status_code == 401 and "用户名或密码错误" in r.text


def test_wrong_password_message_in_english(client, county):
    client.get("/console/login?lang=en")
    r = login(client, "manager", "nope")
    assert r.status_code == 401 and "Wrong user name or password" in r.text


def test_repeated_failures_lock_the_account(client, county, db):
    for _ in range(5):
        assert login(client, "township", "wrong-Passw0rd!").status_code == 401
    r = login(client, "township", PASSWORD)  # even the right password is refused while locked
    assert r.status_code == 403
    assert "锁定" in r.text
    assert not set_cookie_headers(r, SESSION_COOKIE)
    assert len([e for e, _ in audit_rows(db, action="login") if e.outcome == "denied"]) == 6


def test_correct_login_sets_a_strict_session_cookie_and_redirects_home(client, county, db):
    r = login(client, "manager")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/"
    cookies = set_cookie_headers(r, SESSION_COOKIE)
    assert len(cookies) == 1
    flags = [part.strip().lower() for part in cookies[0].split(";")]
    assert "httponly" in flags and "secure" in flags and "samesite=lax" in flags and "path=/" in flags
    ok = [e for e, ids in audit_rows(db, action="login") if e.outcome == "ok"]
    assert len(ok) == 1 and ok[0].username == "manager" and ok[0].channel == "console"
    home = client.get("/console/")
    assert home.status_code == 200
    assert "卫健委管理人员" in home.text and "青岚县" in home.text


def test_session_cookie_secure_flag_follows_the_setting(app, county):
    with TestClient(app, base_url="http://rhip.example.org") as plain:
        r = login(plain, "manager")
        assert r.status_code == 303
        assert "secure" not in set_cookie_headers(r, SESSION_COOKIE)[0].lower()
    with TestClient(app, base_url="http://localhost") as local:  # a loopback host is a secure context for browsers
        r = local.get("/console/login")
        assert "secure" in set_cookie_headers(r, "rhip_login_csrf")[0].lower()
    app.state.settings.cookie_secure = "true"
    with TestClient(app, base_url="http://rhip.example.org") as forced:
        page = forced.get("/console/login")
        assert "secure" in set_cookie_headers(page, "rhip_login_csrf")[0].lower()
        token = csrf_of(page.text)  # the client will not send a Secure cookie over http: send it by hand
        r = forced.post("/console/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token},
                        headers={"cookie": f"rhip_login_csrf={token}"}, follow_redirects=False)
        assert r.status_code == 303
        assert "secure" in set_cookie_headers(r, SESSION_COOKIE)[0].lower()


def test_login_post_without_the_double_submit_token_is_refused(client, county):
    r = client.post("/console/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert not set_cookie_headers(r, SESSION_COOKIE)
    page = client.get("/console/login")
    r = client.post("/console/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "x" * 32},
                    follow_redirects=False)
    assert r.status_code == 403
    assert csrf_of(page.text) != "x" * 32


def test_pages_redirect_to_login_and_come_back_after_it(client, county):
    r = client.get("/console/residents?q=张", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/console/login?next=%2Fconsole%2Fresidents")
    r = login(client, "admin", next_url="/console/residents?q=张")
    assert r.status_code == 303 and unquote(r.headers["location"]) == "/console/residents?q=张"
    # no open redirect
    client.cookies.clear()
    r = login(client, "admin", next_url="https://evil.example/console/")
    assert r.headers["location"] == "/console/"


def test_must_change_password_flow(client, county, db):
    with db.unit_of_work() as s:
        sec.create_user(s, username="newdoc", display_name="新村医", role="village_doctor", password=PASSWORD,
                        division_codes=[V11], must_change_password=True)
    r = login(client, "newdoc")
    assert r.status_code == 303 and r.headers["location"] == "/console/password"
    # every other page sends them back to the password form
    for path in ("/console/", "/console/residents", "/console/users"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/password", path
    form = client.get("/console/password")
    assert form.status_code == 200 and "请先设置新密码" in form.text
    token = csrf_of(form.text)
    r = client.post("/console/password", data={"csrf_token": token, "old_password": PASSWORD,
                                               "new_password": NEW_PASSWORD, "new_password2": "different"})
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.text
    r = client.post("/console/password", data={"csrf_token": token, "old_password": PASSWORD,
                                               "new_password": "short", "new_password2": "short"})
    assert r.status_code == 422 and "密码至少10位" in r.text
    r = client.post("/console/password", data={"csrf_token": token, "old_password": "wrong-Passw0rd",
                                               "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert r.status_code == 422 and "原密码不正确" in r.text
    r = client.post("/console/password", data={"csrf_token": token, "old_password": PASSWORD,
                                               "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/")
    home = client.get(r.headers["location"], follow_redirects=False)
    assert home.status_code == 200 and "密码已修改" in home.text and "新村医" in home.text
    with db.read_only() as s:
        assert sec_repo.user_by_username(s, "newdoc").must_change_password is False
    assert [e.outcome for e, _ in audit_rows(db, action="password.change", username="newdoc")].count("ok") == 1
    # the new password works, the old one no longer does
    client.cookies.clear()
    assert login(client, "newdoc", PASSWORD).status_code == 401
    r = login(client, "newdoc", NEW_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/console/"


# ---------------------------------------------------------------- layout and navigation

def test_navigation_follows_permissions(client, county):
    signed_in(client, "supervision")
    home = client.get("/console/")
    assert home.status_code == 200
    assert "居民档案" not in home.text and 'href="/console/residents"' not in home.text
    assert 'href="/console/organizations"' in home.text and "卫生监督人员" in home.text
    assert 'href="/console/users"' not in home.text and 'href="/console/audit"' not in home.text
    r = client.get("/console/residents")
    assert r.status_code == 403 and "无权" in r.text
    client.cookies.clear()
    signed_in(client, "admin")
    home = client.get("/console/").text
    for href in ("/console/residents", "/console/organizations", "/console/teams", "/console/audit", "/console/users"):
        assert f'href="{href}"' in home


def test_home_shows_scope_and_counts(client, county):
    signed_in(client, "village_doctor")
    home = client.get("/console/")
    assert home.status_code == 200
    assert "王庄村" in home.text and "村医" in home.text
    assert re.search(r'stat-value">3<', home.text), "3 residents in the village doctor's village"
    en = client.get("/console/?lang=en")
    assert "village doctor" in en.text and "Sign out" in en.text


def test_static_css_is_served_and_responsive(client):
    r = client.get("/static/console.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]
    assert "@media (max-width: 640px)" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # nothing from a CDN


def test_unknown_console_page_is_a_friendly_404(client, county):
    signed_in(client, "admin")
    r = client.get("/console/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text and "class=\"topbar\"" in r.text


# ---------------------------------------------------------------- residents

def test_resident_search_shows_masked_id_and_phone_only(client, county, db):
    signed_in(client, "admin")
    full = id_number_of(db, county.residents["zhang"])
    r = client.get("/console/residents")
    assert r.status_code == 200
    assert "张丽" in r.text and "刘强" in r.text  # an empty search lists everyone in scope
    assert full[:4] + "**********" + full[-4:] in r.text
    assert full not in r.text
    assert "138****5678" in r.text and "13812345678" not in r.text
    assert "65岁及以上老年人" in r.text  # tag badge
    searches = audit_rows(db, action="resident.search", username="admin")
    assert len(searches) == 1 and county.residents["zhang"] in searches[0][1]


def test_resident_search_filters_sorts_and_paginates(client, county):
    signed_in(client, "admin")
    r = client.get("/console/residents", params={"q": "王"})
    assert "王建国" in r.text and "王小宇" in r.text and "张丽" not in r.text
    r = client.get("/console/residents", params={"tag": "child0_6"})
    assert "王小宇" in r.text and "王建国" not in r.text
    r = client.get("/console/residents", params={"village": county.villages[1]})
    assert "李秀英" in r.text and "张丽" not in r.text
    asc = client.get("/console/residents", params={"sort": "birth_date"}).text
    desc = client.get("/console/residents", params={"sort": "-birth_date"}).text
    assert asc.index("李秀英") < asc.index("王小宇") and desc.index("王小宇") < desc.index("李秀英")
    assert "sort=-birth_date" in asc  # the header toggles the direction
    bad = client.get("/console/residents", params={"tag": "nonsense"})
    assert bad.status_code == 422 and "标签“nonsense”不存在" in bad.text
    assert client.get("/console/residents", params={"page": "2"}).status_code == 200


def test_resident_search_paginates_by_twenty(client, county, db):
    from datetime import date

    from tests.factories import resident_row

    with db.unit_of_work() as s:
        s.add_all([resident_row(f"赵{i:02d}", "1", date(1990, 1, 1), V11, 100 + i) for i in range(25)])
    signed_in(client, "admin")
    first = client.get("/console/residents", params={"q": "赵"})
    assert "共 25 条" in first.text and "第 1/2 页" in first.text and first.text.count('class="strong"') == 20
    assert "page=2" in first.text
    second = client.get("/console/residents", params={"q": "赵", "page": 2})
    assert second.text.count('class="strong"') == 5 and "赵24" in second.text


def test_resident_detail_shows_everything_and_is_audited(client, county, db):
    signed_in(client, "village_doctor")
    zhang = county.residents["zhang"]
    full = id_number_of(db, zhang)
    r = client.get(f"/console/residents/{zhang}")
    assert r.status_code == 200
    assert full in r.text and "13812345678" in r.text
    assert "王建国" in r.text and "王小宇" in r.text  # the other household members
    assert "户主" in r.text and "王庄村" in r.text and "版本 1" in r.text
    reads = audit_rows(db, action="resident.read", resident_id=zhang)
    assert len(reads) == 1 and reads[0][0].outcome == "ok" and reads[0][0].username == "village_doctor"
    assert reads[0][1] == [zhang]
    assert audit_rows(db, action="household.read", username="village_doctor")


def test_household_outside_the_scope_is_hidden_and_the_refusal_audited(client, county, db):
    from datetime import date, datetime

    from rhip.registry.models import Household
    from tests.factories import V21, resident_row

    with db.unit_of_work() as s:
        hh = Household(code=f"{V21}00009", village_code=V21, address="红星村9号", created_at=datetime(2026, 1, 1))
        s.add(hh)
        s.flush()
        mover = resident_row("孙迁", "2", date(1970, 1, 1), V11, 50, household_id=hh.id, relation="02")
        s.add(mover)
        s.flush()
        mover_id = mover.id
    signed_in(client, "village_doctor")
    r = client.get(f"/console/residents/{mover_id}")
    assert r.status_code == 200 and "孙迁" in r.text
    assert "该户不在您的服务范围内" in r.text and f"{V21}00009" not in r.text
    outcomes = sorted((e.action, e.outcome) for e, _ in audit_rows(db, username="village_doctor")
                      if e.action != "login")
    assert outcomes == [("household.read", "denied"), ("resident.read", "ok")]


def test_out_of_scope_resident_is_404_and_the_refusal_is_audited(client, county, db):
    signed_in(client, "village_doctor")
    out = county.residents["out"]
    r = client.get(f"/console/residents/{out}")
    assert r.status_code == 404
    assert "不在您的服务范围内" in r.text and "刘强" not in r.text
    denied = audit_rows(db, resident_id=out)
    assert [(e.action, e.outcome, e.username) for e, _ in denied] == [("resident.read", "denied", "village_doctor")]
    # and the search does not show them either; the village select only offers the doctor's village
    listing = client.get("/console/residents")
    assert "刘强" not in listing.text and "张丽" in listing.text
    assert "红星村" not in listing.text and "王庄村" in listing.text


def test_missing_resident_is_a_404_page(client, county):
    signed_in(client, "admin")
    assert client.get("/console/residents/999999").status_code == 404
    r = client.get("/console/residents/abc")
    assert r.status_code == 404 and "class=\"topbar\"" in r.text


# ---------------------------------------------------------------- CSRF and sign-out

def test_post_without_csrf_token_is_refused(client, county, db):
    signed_in(client, "admin")
    r = client.post("/console/users", data={"username": "sneaky", "display_name": "x", "role": "administrator",
                                            "password": NEW_PASSWORD})
    assert r.status_code == 403 and "安全令牌" in r.text
    r = client.post("/console/users", data={"username": "sneaky", "role": "administrator", "password": NEW_PASSWORD,
                                            "csrf_token": "forged-token-value"})
    assert r.status_code == 403
    with db.read_only() as s:
        assert sec_repo.user_by_username(s, "sneaky") is None
    assert client.post("/console/logout", follow_redirects=False).status_code == 403
    assert client.get("/console/", follow_redirects=False).status_code == 200  # still signed in


def test_logout_ends_the_session(client, county, db):
    signed_in(client, "manager")
    token = client.cookies.get(SESSION_COOKIE)
    page = client.get("/console/")
    r = client.post("/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert any("Max-Age=0" in h or "expires=" in h.lower() for h in set_cookie_headers(r, SESSION_COOKIE))
    r = client.get("/console/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    # the old cookie value is dead on the server too
    client.cookies.set(SESSION_COOKIE, token, domain="testserver", path="/")
    r = client.get("/console/residents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert [e.outcome for e, _ in audit_rows(db, action="logout", username="manager")] == ["ok"]


# ---------------------------------------------------------------- registry pages

def test_organizations_page_lists_and_filters_by_kind(client, county):
    signed_in(client, "supervision")
    r = client.get("/console/organizations")
    assert r.status_code == 200
    assert "青岚县人民医院" in r.text and "县人民医院" in r.text and "县级" in r.text
    assert "青岚县医共体" in r.text and "城关镇" in r.text
    r = client.get("/console/organizations", params={"kind": "village_clinic"})
    assert "王庄村卫生室" in r.text and "青岚县人民医院" not in r.text and "共 1 条" in r.text
    en = client.get("/console/organizations?lang=en")
    assert "county hospital" in en.text and "Medical community" in en.text


def test_teams_page_shows_members_roles_and_villages(client, county):
    signed_in(client, "village_doctor")
    r = client.get("/console/teams")
    assert r.status_code == 200
    assert "城关镇家庭医生一队" in r.text and "城关镇卫生院" in r.text
    assert "钱全科" in r.text and "团队长" in r.text and "赵村医" in r.text and "乡村医生" in r.text
    assert "王庄村" in r.text


# ---------------------------------------------------------------- audit trail

def test_audit_page_filters_and_is_restricted(client, county, db):
    signed_in(client, "admin")
    client.get(f"/console/residents/{county.residents['li']}")
    client.cookies.clear()
    signed_in(client, "manager")
    r = client.get("/console/audit", params={"resident": county.residents["li"]})
    assert r.status_code == 200
    assert "resident.read" in r.text and "admin" in r.text and "共 1 条" in r.text
    r = client.get("/console/audit", params={"action": "login", "username": "manager"})
    assert "共 1 条" in r.text
    assert "共 0 条" in client.get("/console/audit", params={"resident": "not-a-number"}).text
    client.cookies.clear()
    signed_in(client, "village_doctor")
    assert client.get("/console/audit").status_code == 403


# ---------------------------------------------------------------- users

def test_admin_creates_a_user_who_must_change_the_password(client, county, db):
    signed_in(client, "admin")
    page = client.get("/console/users")
    assert page.status_code == 200 and "village_doctor" in page.text and "村医" in page.text
    token = csrf_of(page.text)
    r = client.post("/console/users", data={"csrf_token": token, "username": "wang.doc", "display_name": "王医生",
                                            "role": "village_doctor", "password": NEW_PASSWORD,
                                            "divisions": f"{V11}，{county.villages[1]}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/users?created=wang.doc"
    listing = client.get(r.headers["location"])
    assert "已创建用户 wang.doc" in listing.text and "王医生" in listing.text and "待改密" in listing.text
    with db.read_only() as s:
        u = sec_repo.user_by_username(s, "wang.doc")
        assert u.must_change_password and u.role == "village_doctor"
        assert sorted(sc.division_code for sc in sec_repo.scope_rows(s, u.id)) == sorted([V11, county.villages[1]])
    assert audit_rows(db, action="user.create", username="admin")
    # the new user is sent to the password form
    client.cookies.clear()
    r = login(client, "wang.doc", NEW_PASSWORD)
    assert r.headers["location"] == "/console/password"


def test_user_form_reports_errors_per_field(client, county, db):
    signed_in(client, "admin")
    token = csrf_of(client.get("/console/users").text)
    r = client.post("/console/users", data={"csrf_token": token, "username": "x!", "role": "wizard",
                                            "password": "weak", "divisions": "999999999999"})
    assert r.status_code == 422
    text = r.text
    assert "用户名须为2–64位字母" in text and "角色“wizard”不存在" in text
    assert "密码至少10位" in text and "区划“999999999999”不存在" in text
    assert 'value="x!"' in text  # the form keeps what was typed (but never the password)
    assert "weak" not in text
    r = client.post("/console/users", data={"csrf_token": token, "username": "manager", "role": "cdc_staff",
                                            "password": NEW_PASSWORD})
    assert r.status_code == 409 and "用户名“manager”已存在" in r.text
    with db.read_only() as s:
        assert sec_repo.user_by_username(s, "x!") is None


def test_users_page_is_refused_to_a_village_doctor(client, county, db):
    signed_in(client, "village_doctor")
    r = client.get("/console/users")
    assert r.status_code == 403 and "无此权限" in r.text
    token = csrf_of(client.get("/console/").text)
    r = client.post("/console/users", data={"csrf_token": token, "username": "evil", "role": "administrator",
                                            "password": NEW_PASSWORD})
    assert r.status_code == 403
    with db.read_only() as s:
        assert sec_repo.user_by_username(s, "evil") is None


@pytest.mark.parametrize("path", ["/console/", "/console/residents", "/console/users", "/console/audit"])
def test_console_pages_require_sign_in(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
