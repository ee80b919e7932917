"""Issue 14: the everyday loop — forms the browser can submit, no duplicates, the pause, what the insured reads."""

import re

import pytest
from coordinator_support import act, advance, make_directory, open_case
from coordinator_support import covered_insured as insured_for

from portal.extensions import db


@pytest.fixture
def world(make_policy, make_user):
    directory = make_directory()
    coord = make_user("coordinator", display_name="陈晓")
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    return directory, coord, case


def test_document_kind_checkboxes_are_not_each_required(world, login_as):
    """Chrome demanded all nine boxes: `required` on a checkbox group means every box (issue 14 item 1)."""
    _, coord, case = world
    advance(case, coord, "verify")
    html = login_as(coord).get(f"/staff/cases/{case.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]+id="action-request-documents".*?</form>', html, re.S).group(0)
    boxes = re.findall(r'<input[^>]+type="checkbox"[^>]*>', form)
    assert len(boxes) == 9 and not any("required" in box for box in boxes)


def test_request_documents_without_a_kind_is_refused_in_chinese(world, login_as):
    _, coord, case = world
    advance(case, coord, "verify")
    client = login_as(coord)
    response = act(client, case, "request_documents", reason="请补充")
    assert response.status_code == 422 and "请至少选择一项资料" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "verifying"
