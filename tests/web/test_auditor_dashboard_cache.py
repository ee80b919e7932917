"""The dashboard's figures (grouped sums over every case) are rebuilt at most once a minute per process (issue 9)."""

import re

from portal.blueprints.auditor import overview as overview_module


def _as_of(body: str) -> str:
    return re.search(r"数据截至 ([^（]+)（", body).group(1)


def _counting_builds(monkeypatch) -> list:
    builds = []
    real = overview_module.overview

    def counted(now):
        builds.append(now)
        return real(now)

    monkeypatch.setattr(overview_module, "overview", counted)
    return builds


def test_dashboard_reuses_its_figures_within_a_minute_and_says_so(app, product, login_as, monkeypatch):
    builds = _counting_builds(monkeypatch)
    client = login_as("auditor")
    first = client.get("/audit/").get_data(as_text=True)
    second = client.get("/audit/").get_data(as_text=True)
    assert len(builds) == 1
    assert "数据每分钟更新" in first
    # the same "数据截至" time: the page never claims figures newer than they are
    assert _as_of(first) == _as_of(second)


def test_dashboard_rebuilds_its_figures_once_the_interval_is_over(app, product, login_as, monkeypatch):
    builds = _counting_builds(monkeypatch)
    client = login_as("auditor")
    client.get("/audit/")
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    body = client.get("/audit/").get_data(as_text=True)
    assert len(builds) == 2
    assert "更新" not in body.split("本周")[0]  # no refresh promise when nothing is kept
