"""Alibaba Cloud SMS (阿里云短信服务) adapter, behind the portal.sms provider interface.

Optional: `pip install '.[sms-aliyun]'` installs Alibaba Cloud's official SDK (alibabacloud-dysmsapi20170525).
Configure (environment):

    SMS_BACKEND=portal.sms_aliyun:AliyunSms
    SMS_ALIYUN_ACCESS_KEY_ID=...  SMS_ALIYUN_ACCESS_KEY_SECRET=...
    SMS_ALIYUN_SIGN_NAME=重疾就医保                 # the approved signature (短信签名)
    SMS_ALIYUN_TEMPLATES=registration_code=SMS_123,case_update=SMS_456

Mainland SMS must use approved templates: each outbox purpose maps to a template code, and the message's
`params` (registration_code: {"code"}, case_update: {"title", "ref"}) fill the template's variables.
"""

import json

from .mail import DeliveryError


def _templates(spec: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in (spec or "").split(",") if "=" in item)
    return {purpose.strip(): code.strip() for purpose, code in pairs}


class AliyunSms:
    """SendSms through dysmsapi; any answer but "OK" is a DeliveryError (the outbox retries)."""

    def __init__(self, config, client=None):
        self.sign_name = config.get("SMS_ALIYUN_SIGN_NAME")
        self.templates = _templates(config.get("SMS_ALIYUN_TEMPLATES", ""))
        if not self.sign_name or not self.templates:
            raise DeliveryError("SMS_ALIYUN_SIGN_NAME and SMS_ALIYUN_TEMPLATES must be set")
        self.client = client or self._client(config)

    @staticmethod
    def _client(config):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as open_api_models

        return Client(open_api_models.Config(access_key_id=config.get("SMS_ALIYUN_ACCESS_KEY_ID"),
                                             access_key_secret=config.get("SMS_ALIYUN_ACCESS_KEY_SECRET"),
                                             endpoint="dysmsapi.aliyuncs.com"))

    @staticmethod
    def _request(**fields):
        from alibabacloud_dysmsapi20170525 import models

        return models.SendSmsRequest(**fields)

    def send(self, phone: str, text: str, *, purpose: str, params: dict) -> None:
        template = self.templates.get(purpose)
        if template is None:
            raise DeliveryError(f"no Aliyun SMS template configured for {purpose!r}")
        request = self._request(phone_numbers=phone, sign_name=self.sign_name, template_code=template,
                                template_param=json.dumps(params, ensure_ascii=False))
        body = self.client.send_sms(request).body
        if getattr(body, "code", None) != "OK":
            raise DeliveryError(f"Aliyun SMS {getattr(body, 'code', '?')}: {getattr(body, 'message', '')}")
