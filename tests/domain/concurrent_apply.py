"""A child process of the concurrent-application test: one request, its outcome on a queue (fork-safe)."""

from datetime import UTC, datetime


def apply_once(url: str, insured_id: int, data: dict, barrier, results) -> None:
    """Its own app and engine (never the parent's pooled connections), then one submit_request at the barrier."""
    from helpers import test_config

    from portal import create_app
    from portal.domain import intake
    from portal.extensions import db
    from portal.models import InsuredPerson

    try:
        app = create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            person = db.session.get(InsuredPerson, insured_id)
            person.policy.product.lines  # noqa: B018 — loaded before the barrier, so the race is the write
            db.session.commit()
            barrier.wait()
            try:
                case = intake.submit_request(insured=person, line_code="green_outpatient", data=data, actor=None,
                                             now=datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
                db.session.commit()
                failed = [r["reason"] for r in case.eligibility if not r["passed"]]
                results.put(("ok", case.ref, case.status, failed))
            except Exception as error:  # noqa: BLE001 — any failure must reach the assertion
                db.session.rollback()
                results.put(("error", repr(error), None, None))
            db.engine.dispose()
    except Exception as error:  # noqa: BLE001
        results.put(("error", repr(error), None, None))
