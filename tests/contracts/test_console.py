"""Contract pages of the console on both databases: list with masked ID numbers, the sign form (CSRF,
errors shown in place), renew and terminate, the resident's panel, scope."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from rhip.contracts.models import Contract
from rhip.registry.models import Resident
from tests.contracts.conftest import sign_body
from tests.factories import auth
from tests.web.test_console import csrf_of, signed_in


def test_sign_a_contract_through_the_form(client, setup, db):
    st = setup
    signed_in(client, "village_doctor")
    found = client.get("/console/contracts/new", params={"q": "张丽"})
    assert found.status_code == 200 and "张丽" in found.text
    zhang = st.county.residents["zhang"]
    form = client.get(f"/console/contracts/new?resident={zhang}")
    assert form.status_code == 200
    assert "I10 诊断于 2025-03-02" in form.text and "城关镇家庭医生一队" in form.text
    with db.read_only() as s:
        idn = s.get(Resident, zhang).id_number
    assert idn not in form.text  # masked
    data = {"csrf_token": csrf_of(form.text), "resident_id": str(zhang), "team_doctor": f"{st.team1}:{st.doc2}",
            "packages": ["basic", "hypertension"], "start_date": "2026-03-01", "consent_date": "2026-03-01",
            "consent_method": "written"}
    bad = client.post("/console/contracts", data=data, follow_redirects=False)
    assert bad.status_code == 422 and "不是团队“城关镇家庭医生一队”的成员" in bad.text
    assert client.post("/console/contracts", data={**data, "csrf_token": "forged"}).status_code == 403
    data["team_doctor"] = f"{st.team1}:{st.vdoc}"
    ok = client.post("/console/contracts", data=data, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"])
    assert "签约成功" in page.text and "高血压包" in page.text and "履约情况" in page.text
    with db.read_only() as s:
        c = s.scalar(select(Contract))
    assert (c.source, c.created_by, c.team_id) == ("console", "village_doctor", st.team1)
    again = client.post("/console/contracts", data=data, follow_redirects=False)
    assert again.status_code == 409 and "同一时间只能有一份有效签约" in again.text


def test_list_filters_and_masks(client, setup, db):
    st = setup
    client.post("/api/contracts", json=sign_body(st), headers=auth(st.county, "admin"))
    client.post("/api/contracts", json=sign_body(st, "child", packages=["basic", "child"]),
                headers=auth(st.county, "admin"))
    signed_in(client, "admin")
    page = client.get("/console/contracts")
    assert page.status_code == 200 and "张丽" in page.text and "王小宇" in page.text
    assert re.search(r"\d{4}\*{10}\w{4}", page.text)
    with db.read_only() as s:
        assert s.get(Resident, st.county.residents["zhang"]).id_number not in page.text
    children = client.get("/console/contracts", params={"population": "child0_6"})
    assert "王小宇" in children.text and "张丽" not in children.text
    assert client.get("/console/contracts", params={"status": "nonsense"}).status_code == 422


def test_renew_and_terminate_from_the_contract_page(client, setup, frozen):
    st = setup
    c = client.post("/api/contracts", json=sign_body(st), headers=auth(st.county, "admin")).json()
    frozen.at = datetime(2027, 2, 10, 9)
    signed_in(client, "village_doctor")
    page = client.get(f"/console/contracts/{c['id']}")
    assert 'id="renew-form"' in page.text and 'id="terminate-form"' in page.text
    token = csrf_of(page.text)
    r = client.post(f"/console/contracts/{c['id']}/renew", data={
        "csrf_token": token, "version": "1", "packages": ["basic", "hypertension"], "consent_date": "2027-02-10",
        "consent_method": "verbal_witnessed", "consent_witness": ""}, follow_redirects=False)
    assert r.status_code == 422 and "口头同意须填写见证人" in r.text
    r = client.post(f"/console/contracts/{c['id']}/renew", data={
        "csrf_token": token, "version": "1", "packages": ["basic", "hypertension"], "consent_date": "2027-02-10",
        "consent_method": "verbal_witnessed", "consent_witness": "村委会李主任"}, follow_redirects=False)
    assert r.status_code == 303
    renewed = client.get(r.headers["location"])
    assert "续约成功" in renewed.text and "2027-03-01" in renewed.text
    new_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    t = client.post(f"/console/contracts/{new_id}/terminate", data={
        "csrf_token": token, "version": "1", "reason": "moved_out", "note": "", "last_day": "2027-02-10"},
        follow_redirects=False)
    assert t.status_code == 303 and "已解约" in client.get(t.headers["location"]).text


def test_transfer_from_the_contract_page(client, setup, db, frozen):
    st = setup
    c = client.post("/api/contracts", json=sign_body(st), headers=auth(st.county, "admin")).json()
    frozen.at = datetime(2026, 6, 1, 9)
    signed_in(client, "village_doctor")
    page = client.get(f"/console/contracts/{c['id']}")
    assert 'id="transfer-form"' in page.text
    # only the other team serving the village is offered, with its members
    offered = re.findall(r'<option value="(\d+):(\d+)">', page.text.split('id="transfer-form"')[1])
    assert offered and {int(t) for t, _ in offered} == {st.team2}
    token = csrf_of(page.text)
    form = {"csrf_token": token, "version": "1", "team_doctor": f"{st.team2}:{st.doc2}", "reason": "",
            "effective_date": "2026-06-01"}
    bad = client.post(f"/console/contracts/{c['id']}/transfer", data=form, follow_redirects=False)
    assert bad.status_code == 422 and "请填写转签原因" in bad.text
    none = client.post(f"/console/contracts/{c['id']}/transfer", data={**form, "team_doctor": "", "reason": "搬家"},
                       follow_redirects=False)
    assert none.status_code == 422 and "请选择新团队和责任医生" in none.text
    with db.read_only() as s:
        assert s.get(Contract, c["id"]).status == "active"  # refused forms changed nothing
    ok = client.post(f"/console/contracts/{c['id']}/transfer", data={**form, "reason": "居民搬到邻村亲属家"},
                     follow_redirects=False)
    assert ok.status_code == 303, ok.text
    moved = client.get(ok.headers["location"])
    assert "已转签至新团队" in moved.text
    with db.read_only() as s:
        old, new = s.get(Contract, c["id"]), s.scalars(select(Contract).where(Contract.previous_id == c["id"])).one()
    assert (old.status, old.end_reason, new.team_id, new.doctor_id, new.source, new.fee_fen) == (
        "transferred", "transfer", st.team2, st.doc2, "console", 0)


def test_resident_panel_and_scope(client, setup):
    st = setup
    client.post("/api/contracts", json=sign_body(st), headers=auth(st.county, "admin"))
    zhang = st.county.residents["zhang"]
    signed_in(client, "village_doctor")
    panel = client.get(f"/console/residents/{zhang}/contracts")
    assert panel.status_code == 200 and "I10 诊断于 2025-03-02" in panel.text and "城关镇家庭医生一队" in panel.text
    assert f"/console/residents/{zhang}/contracts" in client.get(f"/console/residents/{zhang}").text
    client.post("/console/logout", data={"csrf_token": csrf_of(panel.text)})
    signed_in(client, "township")
    assert client.get(f"/console/residents/{zhang}/contracts").status_code == 404
    assert "张丽" not in client.get("/console/contracts").text
