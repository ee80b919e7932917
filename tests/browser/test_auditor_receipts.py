"""史带's auditor keeps a receipt and checks it (issue 16): download the latest receipt, upload it back,
see 校验通过; the case page says which checkpoint anchors its history."""

from pathlib import Path

from playwright.sync_api import expect
from test_auditor_journey import seed

from portal.domain import checkpoints
from portal.extensions import db


def test_auditor_downloads_the_latest_receipt_and_verifies_it(desk_page, browser_login, shot, axe_violations,
                                                              make_policy, make_user, app, tmp_path):
    page = desk_page
    case, _ = seed(app, make_policy, make_user)  # the weekly report issued checkpoint 1
    checkpoints.issue(reason="daily")
    db.session.commit()
    make_user("auditor", username="shidai", password="password123", display_name="史带审计 · 王审")
    browser_login(page, "shidai", "password123")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="校验点").click()
    expect(page.get_by_role("heading", name="记录校验点与回执")).to_be_visible()
    expect(page.locator("#checkpoint-table tbody tr")).to_have_count(2)
    shot(page, "receipts-01-checkpoints")
    assert axe_violations(page) == []

    with page.expect_download() as download:
        page.locator("#checkpoint-2").get_by_role("link", name="下载回执").click()
    kept = Path(tmp_path) / download.value.suggested_filename
    download.value.save_as(kept)
    assert kept.name == "checkpoint-000002.json"

    page.get_by_label("校验点回执（JSON 文件，可多选）").set_input_files(str(kept))
    page.get_by_role("button", name="开始校验").click()
    expect(page.locator("#check-outcome")).to_contain_text("校验通过")
    expect(page.locator("#check-outcome")).to_contain_text("第 2 号校验点之前的全部记录与回执一致")
    shot(page, "receipts-02-verified")
    assert axe_violations(page) == []

    page.goto(f"/audit/cases/{case.id}")
    expect(page.locator("#anchor-status")).to_contain_text("已由第 1 号校验点锚定")
