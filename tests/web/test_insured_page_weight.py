"""Issue 20's budget: the insured home and apply pages transfer ≤ 30 KB on a first load, htmx included."""

import sys
from pathlib import Path


def test_home_and_apply_pages_stay_within_30_kb_on_a_first_load():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ lives at the repository root
    from bench import page_weight

    result = page_weight.run()
    for path, page in result["pages"].items():
        assert page["transfer_bytes"] <= 30 * 1024, (path, page["transfer_bytes"])
        assert any(name.startswith("/static/vendor/htmx.min.") for name in page["resources"])
        assert page["served_gzip"]  # every part came compressed by the server, none computed here
