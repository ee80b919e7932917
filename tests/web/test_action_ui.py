"""The presentation table (portal/web/action_ui.py) and the handler registry stay in step with the domain
table (portal/domain/lines.py): an action added to one without the other fails here, not at run time."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.domain import lines
from portal.domain.handlers import HANDLERS, handles
from portal.web import action_ui

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates" / "coordinator"


class _AnyChoices:
    """Stands in for coordinator.choices.Choices: every list empty (the builders only label and type)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: [] if name != "currency_for" else "USD"


def _case(line_code):
    return SimpleNamespace(line_code=line_code, department=None, hospital=None, admission_slip_date=None,
                           request_data=None)


def test_every_action_has_exactly_one_presentation_entry_in_table_order():
    assert list(action_ui.ACTION_UI) == list(lines.ACTIONS)


@pytest.mark.parametrize("code", list(lines.ACTIONS))
def test_every_field_of_every_action_has_a_builder_on_every_line(code):
    spec = lines.ACTIONS[code]
    for line_code in spec.lines or tuple(lines.MILESTONES):
        ctx = action_ui.BuildContext(_case(line_code), code, _AnyChoices(), action_ui.upload_kind(code, line_code))
        for name in action_ui.shown_fields(spec, line_code):
            field = action_ui.builder(code, name)(ctx)
            assert field.args and isinstance(field.args[0], str) and field.args[0], (code, name)  # a label


@pytest.mark.parametrize("code", list(lines.ACTIONS))
def test_an_entry_names_only_fields_and_lines_its_action_has(code):
    spec, ui = lines.ACTIONS[code], action_ui.ACTION_UI[code]
    assert set(ui.fields) <= set(spec.fields)
    assert set(ui.field_lines) <= set(spec.fields)
    assert set(ui.extra_uploads) <= set(spec.lines or lines.MILESTONES)
    # a file is uploaded exactly where the domain takes the id of a stored document
    assert (ui.upload is not None) == ("document_id" in spec.fields)


def test_every_shared_field_builder_is_used_by_some_action():
    used = {name for spec in lines.ACTIONS.values() for name in spec.fields
            if name not in action_ui.ACTION_UI[spec.code].fields}
    assert set(action_ui.FIELDS) == used


def test_every_panel_an_action_sits_in_is_shown_by_the_workspace():
    rendered = set()
    for template in TEMPLATES.rglob("*.html"):
        rendered |= set(re.findall(r'panels\["([a-z_]+)"\]', template.read_text(encoding="utf-8")))
    staff_codes = [c for c, s in lines.ACTIONS.items() if set(s.roles) & set(lines.STAFF)]
    assert {action_ui.panel_of(c, line) for c in staff_codes for line in lines.MILESTONES} <= rendered


def test_every_line_has_its_panels_and_each_panel_its_template():
    assert set(action_ui.LINE_PANELS) == set(lines.MILESTONES)
    for panels in action_ui.LINE_PANELS.values():
        for panel in panels:
            assert (TEMPLATES / "panels" / f"_{panel}.html").is_file(), panel


def test_handlers_are_registered_by_action_code_and_a_typo_fails_at_import():
    assert set(HANDLERS) <= set(lines.ACTIONS)
    assert all(fn.__name__ == code for code, fn in HANDLERS.items())
    with pytest.raises(KeyError, match="no such action"):
        handles("confirm_hospitl")
    with pytest.raises(KeyError, match="already handled"):
        handles("confirm_hospital")(lambda step: None)


def test_history_labels_cover_the_lifecycle_and_the_actions_written_outside_it():
    assert action_ui.action_label("confirm_hospital") == lines.ACTIONS["confirm_hospital"].label
    assert action_ui.action_label("submit") == "提交申请"
    assert not set(action_ui.HISTORY_ACTIONS) & set(lines.ACTIONS)
