"""The outbox: a message is a row first, claimed as sent only when the transport took it (issue 13 item 2)."""

from datetime import timedelta

import pytest
from helpers import RecordingSms
from sqlalchemy import select

from portal import jobs, mail, outbox, sms
from portal.domain import notify
from portal.extensions import db
from portal.mail import DeliveryError
from portal.models import Notification, OutboundMessage, User, utcnow


@pytest.fixture
def case(make_policy, make_user):
    from portal.domain import intake

    person = make_policy(name="孙热线")
    person.phone = "13600001234"
    user = make_user("coordinator")
    db.session.commit()
    data = {"illness": "恶性肿瘤——重度", "first_diagnosis_date": utcnow().date() - timedelta(days=3),
            "diagnosis": "肺腺癌"}
    case = intake.submit_request(insured=person, line_code="domestic_second_opinion", actor=user, data=data)
    db.session.commit()
    return case


def _broken(monkeypatch, module):
    def fail(*args, **kwargs):
        raise DeliveryError("provider down")
    monkeypatch.setattr(module, "deliver", fail)


def test_an_insured_without_email_gets_milestones_by_sms(case):
    sms.outbox().clear()
    notify.insured(case, "服务申请已受理", "我们已收到您的申请。")
    db.session.commit()
    assert [m["to"] for m in sms.outbox()] == ["13600001234"]
    assert case.ref in sms.outbox()[0]["text"]
    row = db.session.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "case_update")
                            .order_by(OutboundMessage.id.desc()))
    assert (row.channel, row.status, row.attempts) == ("sms", "sent", 1)


def test_with_an_email_the_milestone_goes_by_email_and_emailed_at_is_the_real_send(case):
    case.insured.email = "sun@example.com"
    db.session.commit()
    note = notify.insured(case, "资料已审核", "您的资料已审核通过。")
    assert note.emailed_at is None  # nothing has left before the commit
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Notification, note.id).emailed_at is not None
    assert mail.outbox()[-1]["To"] == "sun@example.com"


def test_a_failed_send_is_kept_visible_retried_and_never_claimed(case, monkeypatch, app):
    case.insured.email = "sun@example.com"
    db.session.commit()
    _broken(monkeypatch, mail)
    note = notify.insured(case, "资料已审核", "您的资料已审核通过。")
    db.session.commit()
    db.session.expire_all()
    message = db.session.scalar(select(OutboundMessage).where(OutboundMessage.notification_id == note.id))
    assert (message.status, message.attempts, message.sent_at) == ("pending", 1, None)
    assert "provider down" in message.last_error
    assert db.session.get(Notification, note.id).emailed_at is None
    # not due yet: the drain leaves it alone; once due, it tries again and gives up after MAX_ATTEMPTS
    assert outbox.deliver_due(now=utcnow()).retrying == 0
    later = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        later += timedelta(hours=2)
        outbox.deliver_due(now=later)
    db.session.expire_all()
    message = db.session.get(OutboundMessage, message.id)
    assert (message.status, message.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    monkeypatch.undo()


def test_the_scheduler_job_drains_what_failed_before(case, monkeypatch, app):
    _broken(monkeypatch, sms)
    notify.insured(case, "已安排", "已为您安排。")
    db.session.commit()
    monkeypatch.undo()
    sms.outbox().clear()
    result = jobs.outbox_drain(app, now=utcnow() + timedelta(minutes=5))
    assert result.sent == 1 and [m["to"] for m in sms.outbox()] == ["13600001234"]


def test_a_rolled_back_change_sends_nothing(case):
    sms.outbox().clear()
    notify.insured(case, "不会发送", "回滚")
    db.session.rollback()
    assert sms.outbox() == [] and db.session.scalar(select(OutboundMessage).where(
        OutboundMessage.body.contains("不会发送"))) is None


def test_sms_backend_can_be_a_provider_class(app, case):
    app.config["SMS_BACKEND"] = "helpers:RecordingSms"
    RecordingSms.sent.clear()
    notify.insured(case, "已安排", "已为您安排。")
    db.session.commit()
    assert RecordingSms.sent == [("13600001234", "case_update")]


def test_user_phone_is_preferred_for_sms(case, make_user):
    make_user("insured", insured=case.insured, phone="13511112222")
    sms.outbox().clear()
    notify.insured(case, "已安排", "已为您安排。")
    db.session.commit()
    assert sms.outbox()[-1]["to"] == "13511112222"
    assert db.session.scalar(select(User.phone).where(User.insured_id == case.insured_id)) == "13511112222"


class _FakeAliyunClient:
    def __init__(self, code="OK"):
        self.code, self.requests = code, []

    def send_sms(self, request):
        from types import SimpleNamespace

        self.requests.append(request)
        return SimpleNamespace(body=SimpleNamespace(code=self.code, message="fake"))


def test_the_aliyun_adapter_fills_the_purpose_template(monkeypatch):
    from portal.sms_aliyun import AliyunSms

    monkeypatch.setattr(AliyunSms, "_request", staticmethod(lambda **fields: fields))
    config = {"SMS_ALIYUN_SIGN_NAME": "重疾就医保",
              "SMS_ALIYUN_TEMPLATES": "registration_code=SMS_1, case_update=SMS_2"}
    client = _FakeAliyunClient()
    AliyunSms(config, client=client).send("13800000000", "…", purpose="registration_code", params={"code": "123456"})
    assert client.requests == [{"phone_numbers": "13800000000", "sign_name": "重疾就医保", "template_code": "SMS_1",
                                "template_param": '{"code": "123456"}'}]
    with pytest.raises(DeliveryError):
        AliyunSms(config, client=_FakeAliyunClient("isv.BUSINESS_LIMIT_CONTROL")).send(
            "13800000000", "…", purpose="case_update", params={})
    with pytest.raises(DeliveryError):
        AliyunSms(config, client=client).send("13800000000", "…", purpose="unknown", params={})
