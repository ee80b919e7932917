"""Long ID lists in bounded pieces: one IN (...) per piece keeps every statement under the drivers' limits."""

from collections.abc import Iterator, Sequence

#: bound parameters per IN (...)
IN_LIMIT = 500


def chunks(items: Sequence, size: int = IN_LIMIT) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
