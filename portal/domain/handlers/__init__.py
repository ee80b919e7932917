"""Per-action guards and side rows, run by portal.domain.lifecycle after its generic checks (SPEC §4)."""
