"""The demo product 重疾就医保 as data (SPEC §2); an insurer changes these per product."""

GREEN_CITIES = (
    "北京 天津 石家庄 秦皇岛 唐山 上海 重庆 福州 厦门 泉州 济南 青岛 威海 烟台 南京 扬州 苏州 常州 无锡 镇江 "
    "昆山 太原 海口 三亚 贵阳 广州 深圳 珠海 中山 武汉 宜昌 南宁 桂林 南昌 西安 宝鸡 长沙 兰州 乌鲁木齐 拉萨 "
    "郑州 洛阳 西宁 银川 成都 昆明 大理 吉林 长春 呼和浩特 包头 哈尔滨 沈阳 大连 杭州 宁波 温州 台州 合肥"
).split()

ESCORT_CITIES = (
    "北京 上海 广州 深圳 桂林 南京 苏州 杭州 宁波 合肥 厦门 福州 济南 青岛 太原 石家庄 郑州 天津 沈阳 大连 "
    "成都 重庆 哈尔滨 武汉 长沙 西安 兰州 昆明 海口 三亚 乌鲁木齐"
).split()

EXPERT_CITIES = ["北京", "上海", "广州"]
COUNTRIES = ["美国", "德国", "日本", "新加坡", "英国"]

COVERED_ILLNESSES = [
    "恶性肿瘤——重度", "较重急性心肌梗死", "严重脑中风后遗症", "重大器官移植术或造血干细胞移植术", "冠状动脉搭桥术",
    "严重慢性肾衰竭", "多个肢体缺失", "急性重症肝炎或亚急性重症肝炎", "严重非恶性颅内肿瘤", "严重慢性肝衰竭",
    "严重脑炎后遗症或严重脑膜炎后遗症", "深度昏迷", "双耳失聪", "双目失明", "瘫痪", "心脏瓣膜手术",
    "严重阿尔茨海默病", "严重脑损伤", "严重原发性帕金森病", "严重Ⅲ度烧伤", "严重特发性肺动脉高压",
    "严重运动神经元病", "语言能力丧失", "重型再生障碍性贫血", "主动脉手术", "严重慢性呼吸衰竭",
    "严重克罗恩病", "严重溃疡性结肠炎",
]

#: document kinds an insured can upload, in the order shown on the phone
DOCUMENT_KINDS = {
    "medical_record": "门诊病历",
    "discharge_summary": "出院小结",
    "blood_test": "血液检测报告",
    "ct": "CT 报告",
    "mri": "MRI 报告",
    "pathology": "病理报告",
    "admission_slip": "住院条",
    "id_document": "身份证件",
    "other": "其他",
}
#: documents 英仕 issues; delivered to the insured and 史带 (SPEC §6)
REPORT_KINDS = {
    "report": "第二诊疗意见报告",
    "report_translation": "报告中文译本",
    "service_report": "海外就医服务报告",
    "bills": "医疗账单汇总",
}

LINES = [
    {
        "code": "green_outpatient", "name": "就医绿通·门诊预约", "short_name": "门诊绿通", "entitlement": 1,
        "cities": GREEN_CITIES, "overseas": False,
        "clocks": [{"kind": "arrange", "days": 5, "start": "submitted", "stop": "arranged"}],
        "required_documents": ["medical_record", "id_document"],
    },
    {
        "code": "green_inpatient", "name": "就医绿通·住院预约", "short_name": "住院绿通", "entitlement": 1,
        "cities": GREEN_CITIES, "overseas": False,
        "clocks": [{"kind": "arrange", "days": 10, "start": "admission_slip", "stop": "arranged"}],
        "required_documents": ["admission_slip", "medical_record", "id_document"],
    },
    {
        "code": "domestic_second_opinion", "name": "国内第二诊疗意见", "short_name": "国内二诊", "entitlement": 1,
        "cities": None, "overseas": False,
        "clocks": [{"kind": "report", "days": 10, "start": "materials_complete", "stop": "delivered"}],
        "required_documents": ["medical_record", "pathology", "id_document"],
    },
    {
        "code": "domestic_escort", "name": "国内就医陪诊", "short_name": "陪诊", "entitlement": 2,
        "cities": ESCORT_CITIES, "overseas": False,
        "clocks": [{"kind": "arrange", "days": 5, "start": "submitted", "stop": "arranged"}],
        "required_documents": ["id_document"],
    },
    {
        "code": "overseas_second_opinion", "name": "海外第二诊疗意见", "short_name": "海外二诊", "entitlement": 1,
        "cities": None, "overseas": True,
        "clocks": [
            {"kind": "decision", "days": 2, "start": "submitted", "stop": "decision"},
            {"kind": "report", "days": 20, "start": "materials_complete", "stop": "delivered"},
        ],
        "required_documents": ["medical_record", "pathology", "id_document"],
    },
    {
        "code": "overseas_treatment", "name": "海外就医综合服务", "short_name": "海外就医", "entitlement": 1,
        "cities": None, "overseas": True,
        "clocks": [
            {"kind": "decision", "days": 3, "start": "submitted", "stop": "decision"},
            # seed: 在被保人资料齐全、情况符合医院接收条件、医疗签证顺利签署的情况下 — the latest of the three
            {"kind": "treatment", "days": 40, "start": "visa_granted", "stop": "arranged",
             "after": ["materials_complete", "hospital_accepted", "visa_granted"]},
        ],
        "required_documents": ["medical_record", "pathology", "discharge_summary", "id_document"],
    },
]

#: 英仕's service hotline, as every page, notice and message gives it (and the tel: link it dials)
HOTLINE = "400-606-5033"
HOTLINE_TEL = "tel:" + HOTLINE.replace("-", "")

CLOCK_LABELS = {"arrange": "安排时限", "decision": "启动决定时限", "report": "报告时限", "treatment": "安排就医时限"}

PRODUCT = {
    "code": "ZJJYB", "name": "重疾就医保", "waiting_days": 90,
    "covered_illnesses": COVERED_ILLNESSES, "countries": COUNTRIES, "expert_cities": EXPERT_CITIES,
}

#: the seed's terms in plain words, shown to the insured where they matter (apply form, case page)
LINE_TERMS = {
    "green_outpatient": [
        "我们承诺在合作医院为您安排就诊，但不承诺指定医生。",
        "预约安排好后，如未在预约时间就诊，本次服务视为已使用。",
    ],
    "green_inpatient": [
        "我们承诺在合作医院为您安排住院，但不承诺指定医生。",
        "住院安排的 10 个工作日从住院条开具之日起计算。",
        "预约安排好后，如未在预约时间入院，本次服务视为已使用。",
    ],
    "domestic_second_opinion": [
        "第二诊疗意见由北京、上海、广州的三甲医院专家出具，10 个工作日从资料齐全之日起计算。",
    ],
    "domestic_escort": [
        "陪诊安排好后，如未按约定与陪诊员联络或未到达医院，本次服务视为已使用。",
        "您自行安排的陪同人员、护工等费用不在保障范围内，不予报销。",
    ],
    "overseas_second_opinion": [
        "因无法提交所需医疗资料导致服务无法进行的，服务终止。",
        "您自行购买的海外专家意见服务不予报销。",
    ],
    "overseas_treatment": [
        "本服务包含医院选择沟通、病史翻译、医疗签证办理、当地陪诊（合计不超过 40 小时）和医疗费用监控，"
        "不支付任何医疗费用。",
        "40 个工作日从资料齐全、医院同意接收且医疗签证获批之日起计算。",
        f"服务启动后（我们告知您启动服务后）不能在线取消，如需放弃请致电 {HOTLINE}。",
    ],
}
