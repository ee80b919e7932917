"""Directory screens: list with search, add, edit, deactivate/reactivate, CSV import."""

import io

import pytest
from sqlalchemy import func, select

from portal.domain import directory
from portal.extensions import db
from portal.models import AuditLog, Escort, Hospital

HX = {"HX-Request": "true"}


@pytest.fixture
def boss(login_as, product):
    return login_as("supervisor")


def _escort(name="周丽", phone="13800010001", city="北京"):
    row = directory.create("escort", {"name": name, "phone": phone, "city": city})
    db.session.commit()
    return row


@pytest.mark.parametrize("kind", list(directory.KINDS))
def test_every_directory_has_a_list_a_form_and_an_import_page(boss, kind):
    for url in (f"/staff/admin/directory/{kind}", f"/staff/admin/directory/{kind}/new",
                f"/staff/admin/directory/{kind}/import"):
        response = boss.get(url)
        assert response.status_code == 200, url
        assert "<html" in response.get_data(as_text=True)


def test_unknown_directory_is_404(boss):
    assert boss.get("/staff/admin/directory/dentists").status_code == 404


def test_search_without_htmx_is_a_full_page_with_the_match(boss):
    _escort()
    _escort("吴敏", "13800010003", "上海")
    body = boss.get("/staff/admin/directory/escort?q=上海").get_data(as_text=True)
    assert "<html" in body and "吴敏" in body and "周丽" not in body


def test_search_with_htmx_is_the_results_fragment(boss):
    _escort()
    response = boss.get("/staff/admin/directory/escort?q=周", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="directory-results">') and "周丽" in body


def test_list_is_paginated(boss):
    for n in range(30):
        directory.create("hospital", {"name": f"医院{n:02d}", "city": "北京"})
    db.session.commit()
    first = boss.get("/staff/admin/directory/hospital").get_data(as_text=True)
    second = boss.get("/staff/admin/directory/hospital?page=2", headers=HX).get_data(as_text=True)
    assert "第 1 / 2 页，共 30 条" in first and "医院29" not in first
    assert "医院29" in second and "医院00" not in second


def test_adding_a_hospital_redirects_to_the_list_and_audits(boss):
    response = boss.post("/staff/admin/directory/hospital/new",
                         data={"name": "东莞市人民医院", "city": "东莞", "level": "三甲", "address": "", "phone": ""})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/admin/directory/hospital")
    row = db.session.scalar(select(Hospital).where(Hospital.name == "东莞市人民医院"))
    assert row.active and not row.overseas and row.address is None
    assert db.session.scalar(select(AuditLog.action)) == "hospital.create"


def test_a_bad_escort_city_is_shown_at_the_field_with_422(boss):
    response = boss.post("/staff/admin/directory/escort/new",
                         data={"name": "李四", "phone": "13900000000", "city": "东莞"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<div class="field has-error" id="field-city">' in body and "城市“东莞”不在服务范围内" in body
    assert db.session.scalar(select(func.count(Escort.id))) == 0


def test_a_duplicate_is_refused_by_the_domain_at_the_key_field(boss):
    _escort()
    response = boss.post("/staff/admin/directory/escort/new",
                         data={"name": "另一人", "phone": "13800010001", "city": "上海"})
    assert response.status_code == 422
    assert "已有电话相同的陪诊员" in response.get_data(as_text=True)


def test_required_fields_are_reported_in_chinese(boss):
    response = boss.post("/staff/admin/directory/overseas_hospital/new", data={"name": "", "city": "", "country": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写名称。" in body and "请选择国家。" in body


def test_editing_saves_changes_and_audits_them(boss):
    escort = _escort()
    form = boss.get(f"/staff/admin/directory/escort/{escort.id}/edit").get_data(as_text=True)
    assert 'value="13800010001"' in form
    response = boss.post(f"/staff/admin/directory/escort/{escort.id}/edit",
                         data={"name": "周丽", "phone": "13800010009", "city": "北京"})
    assert response.status_code == 303
    assert db.session.get(Escort, escort.id).phone == "13800010009"
    assert db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()[-1] == "escort.update"


def test_an_overseas_hospital_is_not_editable_as_a_domestic_one(boss):
    row = directory.create("overseas_hospital", {"name": "Mayo Clinic", "country": "美国", "city": "罗切斯特"})
    db.session.commit()
    assert boss.get(f"/staff/admin/directory/hospital/{row.id}/edit").status_code == 404
    assert boss.get(f"/staff/admin/directory/overseas_hospital/{row.id}/edit").status_code == 200


def test_deactivating_with_htmx_swaps_the_row(boss):
    escort = _escort()
    response = boss.post(f"/staff/admin/directory/escort/{escort.id}/deactivate", headers=HX,
                         data={"next": "/staff/admin/directory/escort?q=周"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="escort-{escort.id}" class="inactive"')
    assert "恢复启用" in body and 'value="/staff/admin/directory/escort?q=周"' in body
    assert db.session.get(Escort, escort.id).active is False


def test_deactivating_without_htmx_redirects_back_and_keeps_the_row(boss):
    escort = _escort()
    response = boss.post(f"/staff/admin/directory/escort/{escort.id}/deactivate",
                         data={"next": "/staff/admin/directory/escort?active=all"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/admin/directory/escort?active=all")
    assert db.session.scalar(select(func.count(Escort.id))) == 1


def test_reactivating_offers_the_row_again(boss):
    escort = _escort()
    boss.post(f"/staff/admin/directory/escort/{escort.id}/deactivate")
    response = boss.post(f"/staff/admin/directory/escort/{escort.id}/reactivate", headers=HX)
    assert response.status_code == 200 and "停用" in response.get_data(as_text=True)
    assert db.session.get(Escort, escort.id).active is True
    assert "周丽" in boss.get("/staff/admin/directory/escort").get_data(as_text=True)


def _upload(client, kind, text, encoding="utf-8"):
    return client.post(f"/staff/admin/directory/{kind}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(text.encode(encoding)), "rows.csv")})


def test_csv_import_adds_rows_and_reports_counts(boss):
    response = _upload(boss, "escort", "name,phone,city\n周丽,13800010001,北京\n吴敏,13800010003,上海\n")
    assert response.status_code == 303
    page = boss.get("/staff/admin/directory/escort").get_data(as_text=True)
    assert "新增 2 条" in page and "吴敏" in page


def test_csv_import_accepts_gbk_files_saved_by_excel(boss):
    response = _upload(boss, "hospital", "名称,城市\n北京协和医院,北京\n", encoding="gbk")
    assert response.status_code == 303
    assert db.session.scalar(select(Hospital.name)) == "北京协和医院"


def test_csv_import_with_errors_lists_them_by_line_and_writes_nothing(boss):
    response = _upload(boss, "escort", "name,phone,city\n周丽,13800010001,北京\n吴敏,,东莞\n")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "文件中的任何数据都未写入" in body and "第 3 行" in body and "请填写电话。" in body
    assert db.session.scalar(select(func.count(Escort.id))) == 0


def test_csv_import_without_a_file_is_refused_at_the_field(boss):
    response = boss.post("/staff/admin/directory/escort/import", data={})
    assert response.status_code == 422
    assert "请选择要导入的 CSV 文件。" in response.get_data(as_text=True)


def test_csv_template_has_the_header_of_the_kind(boss):
    response = boss.get("/staff/admin/directory/expert/template.csv")
    assert response.mimetype == "text/csv"
    header = response.get_data(as_text=True).lstrip("\ufeff").strip()
    assert header == "name,title,specialty,country,city,hospital_name,hospital_grade"
