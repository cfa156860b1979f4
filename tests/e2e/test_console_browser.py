"""The console in a real browser (headless Chromium): sign-in, scoped search with masked numbers, detail, refusal."""

from __future__ import annotations

from tests.e2e.browser import PHONE, sign_in


def test_village_doctor_searches_on_a_phone_and_sees_only_their_villages(live, page):
    page.set_viewport_size(PHONE)
    sign_in(page, live.base, "village_doctor")
    page.goto(f"{live.base}/console/residents")
    page.fill("#q", "王")
    with page.expect_navigation():
        page.click("form.search-form button[type=submit]")
    body = page.inner_text("main")
    assert "王建国" in body and "王小宇" in body
    full = live.id_number("wang")
    assert full not in page.content(), "lists must mask ID numbers"
    assert full[:3] in body  # the masked form keeps the first digits

    with page.expect_navigation():
        page.click("a.strong:has-text('王建国')")
    assert page.url.endswith(f"/console/residents/{live.county.residents['wang']}")
    assert "王建国" in page.inner_text("main")

    page.goto(f"{live.base}/console/residents")

    page.fill("#q", "刘强")  # lives in 红星村, outside the team's villages
    with page.expect_navigation():
        page.click("form.search-form button[type=submit]")
    assert "刘强" not in page.inner_text("main")

    response = page.goto(f"{live.base}/console/residents/{live.county.residents['out']}")
    assert response.status in (403, 404)
    assert "刘强" not in page.inner_text("body")


def test_sign_in_with_a_wrong_password_stays_on_the_form(live, page):
    page.goto(f"{live.base}/console/login")
    page.fill("#username", "admin")
    page.fill("#password", "not-the-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/console/login" in page.url
    assert page.locator("[role=alert]").count() == 1
