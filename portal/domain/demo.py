"""Idempotent demo data (SPEC §8 `demo-data`): the product, directories, policies and one login per role."""

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Escort, Expert, Hospital, InsuredPerson, Policy, Product, ServiceLine, User
from . import privacy_data as product_data_privacy
from . import product_data
from .accounts import hash_password

DEMO_PASSWORD = "demo1234"

# (name, city, address) — real 三甲 hospitals across green-channel cities
DOMESTIC_HOSPITALS = [
    ("北京协和医院", "北京", "东城区帅府园1号"),
    ("北京大学第一医院", "北京", "西城区西什库大街8号"),
    ("中国医学科学院肿瘤医院", "北京", "朝阳区潘家园南里17号"),
    ("首都医科大学附属北京天坛医院", "北京", "丰台区南四环西路119号"),
    ("复旦大学附属中山医院", "上海", "徐汇区枫林路180号"),
    ("复旦大学附属华山医院", "上海", "静安区乌鲁木齐中路12号"),
    ("上海交通大学医学院附属瑞金医院", "上海", "黄浦区瑞金二路197号"),
    ("复旦大学附属肿瘤医院", "上海", "徐汇区东安路270号"),
    ("中山大学附属第一医院", "广州", "越秀区中山二路58号"),
    ("中山大学肿瘤防治中心", "广州", "越秀区东风东路651号"),
    ("广东省人民医院", "广州", "越秀区中山二路106号"),
    ("北京大学深圳医院", "深圳", "福田区莲花路1120号"),
    ("深圳市人民医院", "深圳", "罗湖区东门北路1017号"),
    ("浙江大学医学院附属第一医院", "杭州", "上城区庆春路79号"),
    ("浙江大学医学院附属邵逸夫医院", "杭州", "上城区庆春东路3号"),
    ("江苏省人民医院", "南京", "鼓楼区广州路300号"),
    ("南京鼓楼医院", "南京", "鼓楼区中山路321号"),
    ("四川大学华西医院", "成都", "武侯区国学巷37号"),
    ("华中科技大学同济医学院附属同济医院", "武汉", "硚口区解放大道1095号"),
    ("华中科技大学同济医学院附属协和医院", "武汉", "江汉区解放大道1277号"),
    ("空军军医大学西京医院", "西安", "新城区长乐西路127号"),
    ("天津医科大学总医院", "天津", "和平区鞍山道154号"),
    ("重庆医科大学附属第一医院", "重庆", "渝中区友谊路1号"),
    ("中南大学湘雅医院", "长沙", "开福区湘雅路87号"),
    ("中国医科大学附属第一医院", "沈阳", "和平区南京北街155号"),
    ("山东大学齐鲁医院", "济南", "历下区文化西路107号"),
    ("郑州大学第一附属医院", "郑州", "二七区建设东路1号"),
    ("哈尔滨医科大学附属第一医院", "哈尔滨", "南岗区邮政街23号"),
    ("厦门大学附属中山医院", "厦门", "思明区湖滨南路201号"),
    ("昆明医科大学第一附属医院", "昆明", "五华区西昌路295号"),
    ("苏州大学附属第一医院", "苏州", "姑苏区十梓街188号"),
    ("青岛大学附属医院", "青岛", "市南区江苏路16号"),
    ("安徽医科大学第一附属医院", "合肥", "蜀山区绩溪路218号"),
    ("福建医科大学附属协和医院", "福州", "鼓楼区新权路29号"),
]

OVERSEAS_HOSPITALS = [
    ("Mayo Clinic", "罗切斯特", "美国"),
    ("MD Anderson Cancer Center", "休斯敦", "美国"),
    ("Massachusetts General Hospital", "波士顿", "美国"),
    ("Charité – Universitätsmedizin Berlin", "柏林", "德国"),
    ("Universitätsklinikum Heidelberg", "海德堡", "德国"),
    ("国立癌症研究中心中央医院", "东京", "日本"),
    ("东京大学医学部附属医院", "东京", "日本"),
    ("Singapore General Hospital", "新加坡", "新加坡"),
    ("National University Hospital", "新加坡", "新加坡"),
    ("The Royal Marsden Hospital", "伦敦", "英国"),
]

ESCORTS = [
    ("周丽", "13800010001", "北京"), ("孙强", "13800010002", "北京"), ("吴敏", "13800010003", "上海"),
    ("郑洁", "13800010004", "上海"), ("冯涛", "13800010005", "广州"), ("陈静", "13800010006", "深圳"),
    ("褚红", "13800010007", "杭州"), ("卫东", "13800010008", "南京"), ("蒋芳", "13800010009", "成都"),
    ("沈磊", "13800010010", "武汉"), ("韩雪", "13800010011", "西安"), ("杨帆", "13800010012", "重庆"),
]

EXPERTS = [
    ("刘振华", "主任医师", "肿瘤内科", "北京", "中国医学科学院肿瘤医院"),
    ("高志远", "主任医师", "心血管内科", "北京", "北京协和医院"),
    ("林慧", "主任医师", "神经外科", "上海", "复旦大学附属华山医院"),
    ("赵启明", "主任医师", "肝胆外科", "上海", "复旦大学附属中山医院"),
    ("黄嘉欣", "主任医师", "肿瘤外科", "广州", "中山大学肿瘤防治中心"),
    ("Dr. Emily Carter", "Professor", "Oncology", "休斯敦", "MD Anderson Cancer Center"),
]

# (policy_no, holder, start, end, insured name, ID number, email, username) — see README "Demo logins"
POLICIES = [
    ("SD2026000101", "王建国", date(2026, 3, 1), date(2027, 2, 28), "王建国", "110105195803071239",
     "wang.jianguo@example.com", "wangjianguo"),
    ("SD2026000102", "李秀英", date(2026, 10, 1), date(2027, 9, 30), "李秀英", "310104196207152345",
     None, "lixiuying"),
    ("SD2026000103", "张伟", date(2026, 1, 15), date(2027, 1, 14), "张伟", "440103197504223450",
     None, "zhangwei"),
    ("SD2026000104", "赵敏", date(2026, 2, 1), date(2027, 1, 31), "赵敏", "110108198001015676",
     None, None),
]

STAFF = [
    ("coord1", "coordinator", "陈晓"),
    ("coord2", "coordinator", "刘洋"),
    ("supervisor", "supervisor", "何静"),
    ("auditor", "auditor", "史带审计 · 王审"),
    ("auditoradmin", "auditor_admin", "史带账号管理 · 周管"),
]

#: the phone on the insurer's register, where the registration code goes (赵敏 has no account yet: README)
REGISTER_PHONES = {"SD2026000104": "13800000104"}


def _get_or_add(model, lookup: dict, **values):
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **values)
        db.session.add(row)
    return row


def ensure_product() -> Product:
    """The demo product and its six lines, updated in place from product_data."""
    product = _get_or_add(Product, {"code": product_data.PRODUCT["code"]}, name="")
    for key, value in product_data.PRODUCT.items():
        setattr(product, key, value)
    db.session.flush()
    for position, spec in enumerate(product_data.LINES):
        line = _get_or_add(ServiceLine, {"product_id": product.id, "code": spec["code"]}, name="", short_name="")
        line.position = position
        for key, value in spec.items():
            setattr(line, key, value)
    db.session.flush()
    product_data_privacy.ensure_privacy_data(product)
    db.session.refresh(product)
    return product


def load_demo_data(*, history: bool = True) -> dict:
    """Create or refresh every demo row; running it twice changes nothing. Returns the logins.
    history=False leaves out the weeks of demo cases (tests and benchmarks that count their own)."""
    product = ensure_product()
    for name, city, address in DOMESTIC_HOSPITALS:
        _get_or_add(Hospital, {"name": name, "overseas": False}, city=city, address=address, country="中国",
                    level="三甲")
    for name, city, country in OVERSEAS_HOSPITALS:
        _get_or_add(Hospital, {"name": name, "overseas": True}, city=city, country=country, level=None)
    for name, phone, city in ESCORTS:
        _get_or_add(Escort, {"phone": phone}, name=name, city=city)
    for name, title, specialty, city, hospital in EXPERTS:
        grade = None if city == "休斯敦" else "三甲"
        expert = _get_or_add(Expert, {"name": name}, title=title, specialty=specialty, city=city,
                             hospital_name=hospital, country="美国" if city == "休斯敦" else "中国",
                             hospital_grade=grade)
        expert.hospital_grade = expert.hospital_grade or grade  # demo data from before the grade was recorded
    logins = []
    for policy_no, holder, start, end, name, id_number, email, username in POLICIES:
        policy = _get_or_add(Policy, {"policy_no": policy_no}, product_id=product.id, holder_name=holder,
                             start_date=start, end_date=end, waiting_days=product.waiting_days)
        db.session.flush()
        person = _get_or_add(InsuredPerson, {"policy_id": policy.id, "id_type": "id_card", "id_number": id_number},
                             name=name, email=email, phone=REGISTER_PHONES.get(policy_no))
        person.phone = person.phone or REGISTER_PHONES.get(policy_no)
        db.session.flush()
        if username:
            _get_or_add(User, {"username": username}, password_hash=hash_password(DEMO_PASSWORD), role="insured",
                        display_name=name, insured_id=person.id, email=email)
            logins.append((username, "insured", name))
    for username, role, display in STAFF:
        _get_or_add(User, {"username": username}, password_hash=hash_password(DEMO_PASSWORD), role=role,
                    display_name=display)
        logins.append((username, role, display))
    db.session.flush()
    _demo_history(history)
    return {"password": DEMO_PASSWORD, "logins": logins}


def _demo_history(weeks: bool) -> None:
    """张伟 has used one of his two escort units (a completed, escorted case); a few weeks of other cases."""
    from .demo_cases import ensure_demo_cases
    from .demo_history import ensure_demo_history

    ensure_demo_cases()
    if weeks:
        ensure_demo_history()
