"""Directories: validation against product data, upsert by natural key, all-or-nothing CSV import, audit."""

import pytest
from sqlalchemy import func, select

from portal.domain import directory
from portal.domain.errors import DomainError
from portal.domain.policy_import import ImportError_
from portal.extensions import db
from portal.models import AuditLog, Escort, Expert, Hospital


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_domestic_hospital_is_created_in_any_city_and_audited(product):
    row = directory.create("hospital", {"name": " 东莞市人民医院 ", "city": "东莞", "level": "三甲"})
    assert (row.name, row.city, row.country) == ("东莞市人民医院", "东莞", "中国")
    assert row.active and not row.overseas
    entry = db.session.scalars(select(AuditLog)).one()
    assert (entry.action, entry.object_type, entry.object_id) == ("hospital.create", "hospital", row.id)


def test_overseas_hospital_country_must_be_a_product_country(product):
    with pytest.raises(DomainError) as refused:
        directory.create("overseas_hospital", {"name": "Clinique X", "country": "法国", "city": "巴黎"})
    assert refused.value.field == "country"
    assert "美国" in refused.value.message
    row = directory.create("overseas_hospital", {"name": "Mayo Clinic", "country": "美国", "city": "罗切斯特"})
    assert row.overseas and row.level is None


def test_escort_city_must_be_an_escort_city(product):
    with pytest.raises(DomainError) as refused:
        directory.create("escort", {"name": "李四", "phone": "13900000000", "city": "东莞"})
    assert refused.value.field == "city"
    assert directory.create("escort", {"name": "李四", "phone": "13900000000", "city": "北京"}).city == "北京"


def test_escort_phone_is_checked_and_unique(product):
    with pytest.raises(DomainError) as refused:
        directory.create("escort", {"name": "李四", "phone": "call me", "city": "北京"})
    assert refused.value.field == "phone"
    directory.create("escort", {"name": "李四", "phone": "13900000000", "city": "北京"})
    with pytest.raises(DomainError, match="已有电话相同的陪诊员"):
        directory.create("escort", {"name": "王五", "phone": "13900000000", "city": "上海"})


def test_domestic_expert_must_work_in_an_expert_city_overseas_expert_anywhere(product):
    with pytest.raises(DomainError) as refused:
        directory.create("expert", {"name": "张三", "country": "中国", "city": "成都"})
    assert refused.value.field == "city"
    assert "北京、上海、广州" in refused.value.message
    assert directory.create("expert", {"name": "Dr. Lee", "country": "新加坡", "city": "新加坡"}).country == "新加坡"


def test_expert_is_linked_to_the_directory_hospital_of_that_name(product):
    hospital = directory.create("hospital", {"name": "北京协和医院", "city": "北京"})
    expert = directory.create("expert", {"name": "高志远", "country": "中国", "city": "北京",
                                         "hospital_name": "北京协和医院"})
    assert expert.hospital_id == hospital.id


def test_required_fields_and_lengths_are_reported_at_their_field(product):
    with pytest.raises(DomainError) as refused:
        directory.create("hospital", {"name": "", "city": "北京"})
    assert (refused.value.field, refused.value.message) == ("name", "请填写名称。")
    with pytest.raises(DomainError) as refused:
        directory.create("hospital", {"name": "院" * 121, "city": "北京"})
    assert refused.value.field == "name" and "120" in refused.value.message


def test_same_name_in_another_city_is_another_hospital(product):
    directory.create("hospital", {"name": "第一人民医院", "city": "上海"})
    directory.create("hospital", {"name": "第一人民医院", "city": "广州"})
    with pytest.raises(DomainError) as refused:
        directory.create("hospital", {"name": "第一人民医院", "city": "广州"})
    assert refused.value.field == "name"


def test_update_records_only_real_changes(product):
    row = directory.create("hospital", {"name": "北京协和医院", "city": "北京", "phone": "010-69156114"})
    assert directory.update("hospital", row, {"name": "北京协和医院", "city": "北京", "phone": "010-69156114"}) == {}
    changes = directory.update("hospital", row, {"name": "北京协和医院", "city": "北京", "phone": "010-69151188"})
    assert changes == {"phone": ["010-69156114", "010-69151188"]}
    assert _audit_actions() == ["hospital.create", "hospital.update"]
    assert db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first().detail["changes"] == changes


def test_update_may_not_take_another_rows_key(product):
    directory.create("escort", {"name": "甲", "phone": "13900000001", "city": "北京"})
    other = directory.create("escort", {"name": "乙", "phone": "13900000002", "city": "北京"})
    with pytest.raises(DomainError):
        directory.update("escort", other, {"name": "乙", "phone": "13900000001", "city": "北京"})


def test_deactivation_keeps_the_row_and_is_audited_once(product):
    row = directory.create("escort", {"name": "甲", "phone": "13900000001", "city": "北京"})
    directory.set_active("escort", row, False)
    directory.set_active("escort", row, False)
    directory.set_active("escort", row, True)
    assert row.active and _count(Escort) == 1
    assert _audit_actions() == ["escort.create", "escort.deactivate", "escort.reactivate"]


def test_get_does_not_confuse_domestic_and_overseas_hospitals(product):
    row = directory.create("overseas_hospital", {"name": "Mayo Clinic", "country": "美国", "city": "罗切斯特"})
    assert directory.get("overseas_hospital", row.id) is row
    assert directory.get("hospital", row.id) is None


def test_search_matches_name_city_or_phone_and_filters_by_state(product):
    directory.create("escort", {"name": "周丽", "phone": "13800010001", "city": "北京"})
    inactive = directory.create("escort", {"name": "孙强", "phone": "13800010002", "city": "上海"})
    directory.set_active("escort", inactive, False)

    def names(**kw):
        return [e.name for e in db.session.scalars(directory.search("escort", **kw))]

    assert names(q="周") == ["周丽"]
    assert names(q="上海") == []
    assert names(q="上海", active=False) == ["孙强"]
    assert names(q="0002", active=None) == ["孙强"]


ESCORT_CSV = "name,phone,city\n周丽,13800010001,北京\n吴敏,13800010003,上海\n"


def test_csv_import_adds_then_updates_by_key(product):
    result = directory.import_csv("escort", ESCORT_CSV)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    result = directory.import_csv("escort", "姓名,电话,城市\n周丽,13800010001,深圳\n吴敏,13800010003,上海\n")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert db.session.scalar(select(Escort.city).where(Escort.phone == "13800010001")) == "深圳"
    assert _audit_actions().count("escort.import") == 2


def test_csv_import_is_all_or_nothing_with_line_numbers(product):
    text = "\ufeffname,phone,city\n周丽,13800010001,北京\n\n吴敏,,东莞\n周丽,13800010001,上海\n"
    with pytest.raises(ImportError_) as refused:
        directory.import_csv("escort", text)
    errors = refused.value.errors
    assert (4, "请填写电话。") in errors
    assert any(line == 4 and "东莞" in message for line, message in errors)
    assert (5, "与第 2 行重复（13800010001）") in errors
    assert _count(Escort) == 0 and _count(AuditLog) == 0


def test_csv_import_leaves_columns_missing_from_the_header_untouched(product):
    row = directory.create("hospital", {"name": "北京协和医院", "city": "北京", "address": "东城区帅府园1号"})
    result = directory.import_csv("hospital", "name,city,phone\n北京协和医院,北京,010-69156114\n")
    assert result.updated == 1
    assert (row.address, row.phone) == ("东城区帅府园1号", "010-69156114")


def test_csv_header_must_name_the_key_columns(product):
    with pytest.raises(ImportError_, match="hospital_name"):
        directory.import_csv("expert", "name,country,city\n王医生,中国,北京\n")


def test_csv_header_must_name_known_and_required_columns(product):
    with pytest.raises(ImportError_) as refused:
        directory.import_csv("hospital", "name,citty\n协和,北京\n")
    assert [line for line, _ in refused.value.errors] == [1, 1]
    assert "citty" in refused.value.errors[0][1] and "city" in refused.value.errors[1][1]
    with pytest.raises(ImportError_, match="没有数据行"):
        directory.import_csv("hospital", "name,city\n\n")
    with pytest.raises(ImportError_, match="文件为空"):
        directory.import_csv("hospital", "")


def test_csv_row_with_more_cells_than_the_header_is_refused(product):
    with pytest.raises(ImportError_) as refused:
        directory.import_csv("hospital", "name,city\n协和,北京,多余\n")
    assert refused.value.errors == [(2, "列数（3）多于表头（2）")]


def test_csv_import_of_experts_and_overseas_hospitals_uses_their_own_rules(product):
    directory.import_csv("overseas_hospital", "name,country,city\nSingapore General Hospital,新加坡,新加坡\n")
    directory.import_csv("expert", "name,title,specialty,country,city,hospital_name\n"
                                   "Dr. Tan,Professor,Oncology,新加坡,新加坡,Singapore General Hospital\n"
                                   "林慧,主任医师,神经外科,中国,上海,复旦大学附属华山医院\n")
    assert _count(Hospital, Hospital.overseas.is_(True)) == 1
    tan = db.session.scalar(select(Expert).where(Expert.name == "Dr. Tan"))
    assert tan.hospital_id is not None
    with pytest.raises(ImportError_) as refused:
        directory.import_csv("expert", "name,country,city,hospital_name\n王医生,中国,成都,\n")
    assert refused.value.errors[0][0] == 2
