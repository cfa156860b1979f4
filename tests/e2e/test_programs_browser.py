"""Recording a follow-up from the worklist in a real browser (headless Chromium), on a phone-sized screen."""

from __future__ import annotations

from datetime import datetime

from rhip.kit import clock
from rhip.programs import enrollment as enrol
from rhip.records.models import Condition
from rhip.security.service import system_principal
from tests.e2e.browser import PHONE, sign_in


def test_village_doctor_records_a_followup_from_the_worklist(live, page):
    c, db = live.county, live.db
    zhang = c.residents["zhang"]
    now = datetime(2026, 1, 1)
    with db.unit_of_work() as s:
        s.add(Condition(resident_id=zhang, source_system="test", source_id="htn", version=1, created_at=now,
                        updated_at=now, code_system="http://hl7.org/fhir/sid/icd-10", code="I10", display="高血压",
                        category="problem-list-item", clinical_status="active", onset_date=now.date(),
                        recorded_date=now.date()))
    with db.unit_of_work() as s:
        enrol.recompute(s, system_principal("test"), [zhang])
    page.set_viewport_size(PHONE)
    sign_in(page, live.base, "village_doctor")
    page.goto(f"{live.base}/console/worklist")
    row = page.locator(f"li.wl-row[data-resident='{zhang}'][data-kind^='hypertension.']").first
    assert "张丽" in row.inner_text() and "高血压" in row.inner_text()
    assert "刘强" not in page.inner_text("main")          # outside the village doctor's villages
    with page.expect_navigation():
        row.locator("a.wl-action").click()
    assert "/console/followup/new" in page.url and "张丽" in page.inner_text("main")

    page.fill("#sbp", "400")
    page.fill("#dbp", "90")
    page.select_option("#adherence", "regular")
    with page.expect_navigation():
        page.click("form.followup-form button[type=submit]")
    alert = page.locator("[role=alert]").inner_text()
    assert "收缩压 400" in alert and "超出允许范围" in alert
    assert page.locator("#sbp").input_value() == "400"    # the form keeps what was typed

    page.fill("#sbp", "150")
    page.fill("#dbp", "95")
    with page.expect_navigation():
        page.click("form.followup-form button[type=submit]")
    result = page.inner_text("main")
    assert "随访已保存" in result and "控制不满意" in result and "2周内复诊" in result

    page.goto(f"{live.base}/console/worklist?program=hypertension")
    kinds = page.locator(f"li.wl-row[data-resident='{zhang}']").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)")
    assert "hypertension.recheck" in kinds                  # the revisit within 2 weeks is now on the list
    quarter = clock.now().date()
    assert f"hypertension.{quarter.year}q{(quarter.month - 1) // 3 + 1}" not in kinds   # this quarter is done
