"""JSON decoding: orjson when it is installed (CPython), else the standard library, with one meaning.

A search page of 200 tickets with its assets is about 850 KB of JSON; the standard library decodes it in
about 5 ms, orjson in under 2 ms. orjson is stricter than the standard library (it refuses ``NaN`` and lone
surrogate escapes): a text orjson refuses is decoded by the standard library, which accepts it or raises
its own error; a text that may hold an integer beyond 64 bits (20 digits in a row), which orjson would
make a float, goes to the standard library at once. So every text means what ``json.loads`` makes of it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["fast", "loads"]

#: The orjson module, or ``None`` without it (PyPy, a platform without its wheels); the record cache
#: encodes with it too.
try:
    import orjson as fast
except ImportError:
    fast = None  # type: ignore[assignment]


#: Every digit to ``0``, every other byte to a space: a text with 20 digits in a row may hold an integer
#: beyond 64 bits, which orjson would turn into a float (the standard library keeps it exact).
_DIGITS = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
_LONG_NUMBER = b"0" * 20


def loads(data: bytes | str) -> Any:
    """Decode one JSON text (``bytes`` as UTF-8, or ``str``).

    Raises:
        ValueError: The text is not JSON (``json.JSONDecodeError``), or ``bytes`` are not UTF-8/16/32.

    """
    if fast is not None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        if raw.translate(_DIGITS).find(_LONG_NUMBER) < 0:
            try:
                return fast.loads(data)
            except fast.JSONDecodeError:
                pass  # what orjson refuses, the standard library decides
    return json.loads(data)
