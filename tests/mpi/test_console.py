"""The review page of the console: pending pairs side by side, decisions with CSRF, counts on the home page."""

from __future__ import annotations

from sqlalchemy import select

from rhip.mpi.models import MpiReview
from tests.factories import V11, auth
from tests.mpi.test_online import _index
from tests.web.test_console import csrf_of, signed_in


def _queue_pair(client, county):
    r = client.post("/api/residents", json={"name": "王金刚", "sex": "1", "birth_date": "1955-08-01",
                                            "village_code": V11}, headers=auth(county, "admin"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_review_page_shows_pair_and_decides(county, db, client):
    _index(db)
    _queue_pair(client, county)
    signed_in(client, "admin")
    page = client.get("/console/mpi/reviews")
    assert page.status_code == 200, page.text
    html = page.text
    assert "疑似重复档案审核" in html and "王建国" in html and "王金刚" in html
    assert "仅姓氏相同" in html and "出生日期一致" in html  # the field-by-field comparison
    assert "城关镇 · 1" in html  # pending per township
    with db.read_only() as s:
        rid = s.scalar(select(MpiReview.id))
    r = client.post(f"/console/mpi/reviews/{rid}", data={"decision": "distinct", "reason": "父子同名同村",
                                                         "csrf_token": csrf_of(html)}, follow_redirects=False)
    assert r.status_code == 303 and "done=distinct" in r.headers["location"]
    with db.read_only() as s:
        assert s.scalar(select(MpiReview.status)) == "distinct"
    home = client.get("/console/")
    assert "疑似重复待审核" in home.text


def test_review_page_refuses_missing_reason_and_bad_csrf(county, db, client):
    _index(db)
    _queue_pair(client, county)
    signed_in(client, "admin")
    html = client.get("/console/mpi/reviews").text
    with db.read_only() as s:
        rid = s.scalar(select(MpiReview.id))
    r = client.post(f"/console/mpi/reviews/{rid}", data={"decision": "link", "reason": "",
                                                         "csrf_token": csrf_of(html)}, follow_redirects=False)
    assert r.status_code == 303 and "error=" in r.headers["location"]
    assert "请填写理由" in client.get(r.headers["location"]).text
    r = client.post(f"/console/mpi/reviews/{rid}", data={"decision": "link", "reason": "同一人", "csrf_token": "x"})
    assert r.status_code == 403
    with db.read_only() as s:
        assert s.scalar(select(MpiReview.status)) == "pending"


def test_review_page_needs_permission(county, db, client):
    signed_in(client, "village_doctor")
    r = client.get("/console/mpi/reviews")
    assert r.status_code == 403
    assert "疑似重复档案" not in client.get("/console/").text.split("<main")[0]  # not in the navigation
