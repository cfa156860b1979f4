"""Signing a family-doctor contract in a real browser (headless Chromium), on a phone-sized screen."""

from __future__ import annotations

from sqlalchemy import select

from rhip.contracts.models import Contract, ContractPackage
from tests.e2e.browser import PHONE, sign_in


def test_village_doctor_signs_a_contract_on_a_phone(live, page):
    page.set_viewport_size(PHONE)
    sign_in(page, live.base, "village_doctor")
    page.goto(f"{live.base}/console/contracts")
    with page.expect_navigation():
        page.click("a.btn:has-text('新签约')")
    page.fill("#q", "张丽")
    with page.expect_navigation():
        page.click("form.search-form button[type=submit]")
    assert live.id_number("zhang") not in page.content(), "the resident list masks ID numbers"
    with page.expect_navigation():
        page.click("a.btn:has-text('为其签约')")
    assert "年龄 68" in page.inner_text("main")  # key population with its reason
    page.select_option("#team_doctor", label="赵村医（乡村医生）")
    page.check("input[name=packages][value=elderly]")
    assert page.is_disabled("input[name=packages][value=hypertension]")  # not in that key population
    page.select_option("#consent_method", "verbal_witnessed")
    with page.expect_navigation():
        page.click("#sign-form button[type=submit]")
    assert "口头同意须填写见证人" in page.inner_text("main")  # refused, the form is shown again with the reason
    page.fill("#consent_witness", "村委会李主任")
    with page.expect_navigation():
        page.click("#sign-form button[type=submit]")
    main = page.inner_text("main")
    assert "签约成功" in main and "老年人包" in main and "城关镇家庭医生一队" in main
    with live.db.read_only() as s:
        c = s.scalar(select(Contract).where(Contract.resident_id == live.county.residents["zhang"]))
        codes = sorted(s.scalars(select(ContractPackage.package_code).where(ContractPackage.contract_id == c.id)))
    assert (c.status, c.consent_method, c.consent_witness, c.source) == ("active", "verbal_witnessed", "村委会李主任",
                                                                         "console")
    assert codes == ["basic", "elderly"]
    assert page.url.endswith(f"/console/contracts/{c.id}?msg=signed")
