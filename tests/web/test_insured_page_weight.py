"""Issue 4's budget: the insured home and apply pages transfer ≤ 50 KB gzip on a first load, htmx included."""

import sys
from pathlib import Path


def test_home_and_apply_pages_stay_within_50_kb_gzip_on_a_first_load():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ lives at the repository root
    from bench import page_weight

    result = page_weight.run()
    for path, page in result["pages"].items():
        assert page["transfer_bytes"] <= 50 * 1024, (path, page["transfer_bytes"])
        assert "/static/vendor/htmx.min.js" in page["resources"]
