"""Forms of the insured portal: the request form shaped by its service line, and uploads."""

from flask import current_app
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ... import calendar
from ...domain.documents import ACCEPTED_LABEL, size_label
from ...domain.eligibility import SLIP_IN_FUTURE
from ...domain.lines import CITY_ONLY
from ...domain.product_data import DOCUMENT_KINDS
from ...domain.submissions import new_key
from ...web.forms import ChineseForm, VersionedForm

#: what the file inputs offer; phones show "take photo" for the image types
ACCEPT = "image/jpeg,image/png,image/heic,image/heif,application/pdf,.jpg,.jpeg,.png,.heic,.heif,.pdf"


def upload_rule() -> str:
    """The per-file limit and accepted types, as stated on every page with a file input."""
    return f"支持 {ACCEPTED_LABEL}，单个文件不超过 {size_label(current_app.config['UPLOAD_MAX_BYTES'])}。"


def _not_before_today(message: str):
    def check(form, field):
        if field.data and field.data < calendar.business_today():
            raise ValidationError(message)

    return check


def _not_after_today(message: str):
    def check(form, field):
        if field.data and field.data > calendar.business_today():
            raise ValidationError(message)

    return check


class ApplyForm(ChineseForm):
    """Questions every line asks; `apply_form_for` adds the ones its line needs."""

    #: idempotency key: a second tap or a retry of this page's submit finds the case the first one opened
    submission_key = HiddenField(default=new_key)
    diagnosis = StringField("医生给出的诊断", validators=[DataRequired("请填写诊断。"), Length(max=200)])
    first_diagnosis_date = DateField("初次确诊日期", validators=[
        InputRequired("请选择初次确诊日期。"), _not_after_today("初次确诊日期不能晚于今天。")])
    illness = SelectField("所患疾病（保障范围内的重度疾病）", validators=[DataRequired("请选择所患疾病。")])
    notes = TextAreaField("补充说明（选填）", validators=[Optional(), Length(max=500, message="请不超过 500 字。")])

    def domain_data(self) -> dict:
        """The answers as intake.preview / submit_request take them (blank answers left out)."""
        data = {"diagnosis": (self.diagnosis.data or "").strip(), "illness": self.illness.data,
                "first_diagnosis_date": self.first_diagnosis_date.data, "notes": (self.notes.data or "").strip()}
        if "city" in self:
            data.update(city=self.city.data, department=(self.department.data or "").strip(),
                        hospital_id=int(self.hospital_id.data) if (self.hospital_id.data or "").isdigit() else None,
                        preferred_dates=[d.isoformat() for d in (self.preferred_date.data, self.alternative_date.data)
                                         if d])
        if "hospital_name" in self:
            data["hospital_name"] = (self.hospital_name.data or "").strip()
        if "admission_slip_date" in self:
            data["admission_slip_date"] = self.admission_slip_date.data
        if "country" in self:
            data["country"] = self.country.data
        return {key: value for key, value in data.items() if value not in (None, "", [])}

    def set_hospitals(self, hospitals) -> None:
        """Offer the directory hospitals of the chosen city."""
        city_chosen = bool(self.city.data) if "city" in self else False
        placeholder = "请选择医院" if hospitals else "该城市暂无可选医院" if city_chosen else "请先选择城市"
        #: a seed city whose directory has no hospital yet: the page offers the hotline instead
        self.no_hospitals_in_city = city_chosen and not hospitals
        self.hospital_id.choices = [("", placeholder)] + [(str(h.id), h.name) for h in hospitals]

    def validate_hospital_id(self, field):
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError("请从列表中选择所选城市的医院。")


class _CityQuestions:
    city = SelectField("就医城市", validators=[DataRequired("请选择就医城市。")])
    hospital_id = SelectField("医院", validate_choice=False, validators=[DataRequired("请选择医院。")])
    department = StringField("科室（如：肿瘤科）", validators=[DataRequired("请填写科室。"), Length(max=60)])
    preferred_date = DateField("希望就诊日期", validators=[
        InputRequired("请选择希望就诊的日期。"), _not_before_today("希望就诊日期不能早于今天。")])
    alternative_date = DateField("备选日期（选填）", validators=[
        Optional(), _not_before_today("备选日期不能早于今天。")])


class _EscortPlaceQuestions:
    """Escort is limited by city only (seed: 就医陪诊城市列表): a directory hospital, or the one the insured names."""

    hospital_id = SelectField("医院（合作医院目录）", validate_choice=False, validators=[Optional()])
    hospital_name = StringField("或填写您要去的医院", validators=[Length(max=120)])  # no Optional: it stops the check

    def validate_hospital_name(self, field):
        if not (field.data or "").strip() and not self.hospital_id.data:
            raise ValidationError("请选择医院，或填写您要去的医院名称。")


class _AdmissionSlipQuestions:
    """The seed asks 是否已开具住院条: a request may come before the slip; the clock starts at its date."""

    admission_slip_date = DateField("住院条开具日期（已开具时填写）", validators=[
        Optional(), _not_after_today(SLIP_IN_FUTURE)])
    admission_slip = FileField("住院条照片或 PDF（已开具时上传）", render_kw={"accept": ACCEPT})

    def validate_admission_slip(self, field):
        has_file = bool(getattr(field.data, "filename", None))
        if self.admission_slip_date.data and not has_file:
            raise ValidationError("已填写开具日期，请同时拍照或选择住院条文件。")
        if has_file and not self.admission_slip_date.data:
            self.admission_slip_date.errors = [*self.admission_slip_date.errors, "请填写住院条开具日期。"]
            raise ValidationError("请在上方填写这张住院条的开具日期。")


class _CountryQuestions:
    country = SelectField("希望前往的国家", validators=[DataRequired("请选择希望前往的国家。")])


def _needs_admission_slip(line) -> bool:
    # the inpatient clock starts at the slip's issue date (SPEC §2), so the slip is asked up front
    return any(clock.get("start") == "admission_slip" for clock in line.clocks)


def apply_form_for(line, product, **kwargs) -> ApplyForm:
    """The request form shaped by the line's data: cities, overseas, the admission-slip clock."""
    mixins = []
    if line.cities and line.code in CITY_ONLY:
        mixins.append(_EscortPlaceQuestions)  # first: its optional hospital_id wins over _CityQuestions'
    if line.cities:
        mixins.append(_CityQuestions)
    if _needs_admission_slip(line):
        mixins.append(_AdmissionSlipQuestions)
    if line.overseas:
        mixins.append(_CountryQuestions)
    form_class = type(f"ApplyForm_{line.code}", (*mixins, ApplyForm), {})
    form = form_class(**kwargs)
    form.illness.choices = [("", "请选择")] + [(name, name) for name in product.covered_illnesses]
    if line.cities:
        form.city.choices = [("", "请选择城市")] + [(city, city) for city in line.cities]
    if line.overseas:
        form.country.choices = [("", "请选择国家")] + [(country, country) for country in product.countries]
    return form


def _kind_fields() -> dict:
    return {f"file_{kind}": MultipleFileField(label, render_kw={"accept": ACCEPT})
            for kind, label in DOCUMENT_KINDS.items()}


class _UploadBase(ChineseForm):
    """One file input per document kind (the page shows those still needed) plus a free row."""

    submission_key = HiddenField(default=new_key)
    kind = SelectField("资料类型", choices=list(DOCUMENT_KINDS.items()), default="other")
    files = MultipleFileField("选择文件（可多选）", render_kw={"accept": ACCEPT})

    def kind_field(self, kind: str):
        return self[f"file_{kind}"]

    def uploads(self) -> list[tuple[str, str, object]]:
        """(field name, kind, file) for every file chosen, in page order."""
        chosen = [(f"file_{kind}", kind, storage) for kind in DOCUMENT_KINDS
                  for storage in self[f"file_{kind}"].data or []]
        chosen += [("files", self.kind.data, storage) for storage in self.files.data or []]
        return [(name, kind, storage) for name, kind, storage in chosen if storage and storage.filename]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.uploads():
            self.files.errors.append("请至少选择一个文件。")
            return False
        return True


#: the kind rows come from the product's list of document kinds, not from code
UploadForm = type("UploadForm", (_UploadBase,), _kind_fields())


# ---- personal information (SPEC §7) ---------------------------------------------------------------------

class ConsentForm(ChineseForm):
    """The separate consent to process health data and ID numbers: its own box, never ticked in advance."""

    agree = BooleanField("我已阅读上面的告知书，单独同意英仕健康和史带按告知书处理我的健康信息和证件号码。",
                         validators=[DataRequired("请勾选同意后继续；不同意将无法在线申请服务。")], default=False)


class WithdrawForm(ChineseForm):
    """Withdrawing the consent: a second box so no stray tap stops the insured's services."""

    confirm = BooleanField("我明白撤回后，进行中的服务将终止（服务次数退回），也不能再在线申请。",
                           validators=[DataRequired("请勾选确认后再撤回。")], default=False)
    note = TextAreaField("撤回原因（选填）", validators=[Optional(), Length(max=300, message="请不超过 300 字。")])


class DataRequestForm(ChineseForm):
    """A request to delete or restrict the insured's data; a supervisor decides and records why."""

    kind = RadioField("您希望", choices=[("deletion", "删除我的资料"), ("restriction", "限制处理我的资料")],
                      validators=[InputRequired("请选择删除或限制处理。")])
    text = TextAreaField("说明（选填）", validators=[Optional(), Length(max=500, message="请不超过 500 字。")])


class CrossBorderForm(ChineseForm):
    """Consent to send this case's records to one overseas hospital, named before anything is sent."""

    hospital_id = SelectField("接收资料的海外医院", choices=[], validate_choice=False,
                              validators=[DataRequired("请选择海外医院。")])
    agree = BooleanField("我同意英仕健康把上面列出的资料发送给所选的境外医院及其专家。",
                         validators=[DataRequired("请勾选同意后提交。")], default=False)

    def set_hospitals(self, hospitals) -> None:
        self.hospital_id.choices = [("", "— 请选择 —")] + [(str(h.id), f"{h.country} · {h.city} · {h.name}")
                                                         for h in hospitals]


class CrossBorderWithdrawForm(ChineseForm):
    """Withdraw the consent naming one hospital (a button per standing consent)."""

    hospital_id = HiddenField(validators=[DataRequired("请选择要撤回的出境同意。")])


class AdmissionSlipForm(VersionedForm):
    """住院条 entered after applying without it (the seed asks 是否已开具住院条): its date and the slip itself."""

    admission_slip_date = DateField("住院条开具日期", validators=[InputRequired("请填写住院条开具日期。"),
                                                            _not_after_today(SLIP_IN_FUTURE)])
    admission_slip = FileField("住院条照片或 PDF", render_kw={"accept": ACCEPT})

    def validate_admission_slip(self, field):
        if not getattr(field.data, "filename", None):
            raise ValidationError("请拍照或选择住院条文件。")


class RatingForm(ChineseForm):
    """服务评价: 1–5 and an optional comment, once per completed case."""

    score = RadioField("您对这次服务的评价", coerce=int,
                       choices=[(5, "5 分 非常满意"), (4, "4 分 满意"), (3, "3 分 一般"), (2, "2 分 不满意"),
                                (1, "1 分 非常不满意")],
                       validators=[InputRequired("请选择 1–5 分。")])
    comment = TextAreaField("意见或建议（选填）", validators=[Optional(), Length(max=500, message="请不超过 500 字。")])
