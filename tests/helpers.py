"""Plain helpers for tests (importable as `helpers`: tests/ is on sys.path via its conftest)."""


def valid_id_card(n: int, prefix: str = "1101051980") -> str:
    """A syntactically valid 18-digit 身份证 number with the right GB 11643 check digit."""
    body = f"{prefix}{n % 10**7:07d}"[:17]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_config() -> dict:
    """TestConfig as a dict, ready for create_app overrides."""
    from portal.config import TestConfig

    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
