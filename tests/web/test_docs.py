"""docs/adding-an-action.md stays true: the files it names exist, its examples run, its names are real."""

import dataclasses
import re
from pathlib import Path

from portal.domain import lifecycle, lines
from portal.domain.handlers import base
from portal.web import action_ui, saving

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "adding-an-action.md").read_text(encoding="utf-8")


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE, flags=re.S)


def test_every_file_and_folder_the_guide_names_exists():
    paths = {p for p in re.findall(r"`([\w./<>-]+/[\w.<>-]*)`", GUIDE) if "<" not in p and not p.startswith("/")}
    assert paths
    for path in paths:
        candidates = [ROOT / path, ROOT / "portal" / path, ROOT / "portal" / "templates" / path,
                      ROOT / "portal" / "blueprints" / path, ROOT / "portal" / "domain" / path]
        assert any(c.exists() for c in candidates), path


def test_the_spec_example_is_a_valid_action_declaration():
    spec = eval(_blocks()[0].strip().rstrip(","), vars(lines))  # noqa: S307  (our own documentation)
    assert isinstance(spec, lines.ActionSpec) and spec.fields


def test_the_presentation_example_is_a_valid_entry():
    key, _, entry = _blocks()[2].strip().rstrip(",").partition(": ")
    assert isinstance(eval(entry, vars(action_ui)), action_ui.ActionUI)  # noqa: S307


def test_the_names_the_guide_uses_are_real():
    ui_fields = {f.name for f in dataclasses.fields(action_ui.ActionUI)}
    spec_fields = {f.name for f in dataclasses.fields(lines.ActionSpec)}
    step_names = {f.name for f in dataclasses.fields(base.Step)} | {"notify", "require", "actor", "now"}
    for name in ("panel", "side", "fields", "field_lines", "upload", "extra_uploads"):
        assert name in ui_fields and f"`{name}" in GUIDE
    for name in ("roles", "lines", "from_statuses", "sets_milestone", "requires_milestone", "until_milestone",
                 "to_status", "fields", "kind", "internal"):
        assert name in spec_fields and f"`{name}" in GUIDE
    for name in ("milestone", "to_status", "reason", "summary", "data", "notify", "actor", "now"):
        assert name in step_names and f"step.{name}" in GUIDE
    for module, name in [(action_ui, "FIELDS"), (action_ui, "ACTION_UI"), (action_ui, "LINE_PANELS"),
                         (action_ui, "DELIVERABLE"), (action_ui, "ExtraUpload"), (action_ui, "date_field"),
                         (action_ui, "datetime_field"), (action_ui, "select"), (base, "handles"),
                         (base, "HANDLERS"), (lifecycle, "refusal"), (lifecycle, "available_actions"),
                         (saving, "save"), (lines, "MILESTONES"), (lines, "SERVICE_STARTS"), (lines, "DELIVERABLES")]:
        assert hasattr(module, name) and name in GUIDE, name


RULES_DOC = (ROOT / "docs" / "business-rules.md").read_text(encoding="utf-8")


def test_the_business_rules_page_states_every_line_with_its_units_and_promises():
    from portal.domain.product_data import CLOCK_LABELS, LINES

    rows = {line.split("|")[1].strip(): line for line in RULES_DOC.splitlines() if line.startswith("| ")}
    for line in LINES:
        row = rows[line["name"]]
        assert f"| {line['entitlement']} |" in row, line["code"]
        for clock in line["clocks"]:
            assert f"{CLOCK_LABELS[clock['kind']]} {clock['days']}" in row, (line["code"], clock)


def test_the_business_rules_page_names_every_milestone_reason_rule_and_status():
    from portal.domain.eligibility import RULES
    from portal.models import STATUSES

    for milestones in lines.MILESTONES.values():
        for _, label in milestones:
            assert label in RULES_DOC, label
    for reason in lines.TERMINATION_REASONS.values():
        used = "yes" if reason.consumes_entitlement else "once arranged" if reason.consumes_once_arranged else "no"
        assert re.search(rf"\| {re.escape(reason.label)}( \([^)]*\))? \| {used} \|", RULES_DOC), reason
    for _, label in RULES:
        assert label in RULES_DOC, label
    for code, label in STATUSES.items():
        assert f"{label} `{code}`" in RULES_DOC, code
    assert f"capped at {lines.ESCORT_HOURS_CAP} hours" in RULES_DOC
