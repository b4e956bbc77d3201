"""Dates on the wire: Elasticsearch dates and date math (``2024-03``, ``now-7d/d``) read, timestamps written.

Zammad's search compares dates the way Elasticsearch does: a date of coarse precision (``2024``,
``2024-03-18``) stands for its whole period, and date math (``now-1M/d``, ``2024-01-01||+1M``) shifts and
rounds an anchor. :func:`parse_date` reads every such form into an aware UTC datetime, the first or the last
millisecond of the period it names; the evaluator compares record values with these bounds.
:func:`format_datetime` writes an instant the way Zammad does (``2024-03-18T22:50:03.732Z``), for records and
queries alike.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "DATE_MATH",
    "DATE_MATH_STEP",
    "DATE_MATH_UNITS",
    "as_datetime",
    "format_datetime",
    "iso_instant",
    "parse_date",
]

#: The units of date math: years, months, weeks, days, hours (``h`` or ``H``), minutes, seconds.
DATE_MATH_UNITS = "yMwdhHms"
#: One step of date math: sign, amount and unit (``-7d``).
DATE_MATH_STEP = re.compile(rf"([+-])(\d+)([{DATE_MATH_UNITS}])")
#: Zammad (Elasticsearch) date math from now: ``now``, ``now-7d``, ``now-1M/d``.
DATE_MATH = re.compile(rf"now(?:{DATE_MATH_STEP.pattern})*(?:/[{DATE_MATH_UNITS}])?\Z")

_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<M>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?)?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?\Z"
)
_UNITS = "yMdhms"


def parse_date(text: str, *, now: dt.datetime, round_up: bool = False) -> dt.datetime | None:
    """Parse an Elasticsearch date or date-math expression into an aware UTC datetime.

    ``2024``, ``2024-03``, ``2024-03-18``, ``2024-03-18T22:50:03.732Z``, ``now``, ``now-7d``,
    ``now-1M/d``, ``2024-01-01||+1M/d``, epoch milliseconds. With ``round_up`` a value of coarse
    precision (or rounded with ``/unit``) stands for the last millisecond of its period, as Elasticsearch
    reads ``gt`` and ``lte`` bounds; otherwise for the first.

    Returns:
        The instant, or ``None`` when ``text`` is not a date.

    """
    text = text.strip()
    anchor, sep, math = text.partition("||")
    if not sep:
        if text.startswith("now"):
            anchor, math = "now", text[3:]
        else:
            anchor, math = text, ""
    if anchor == "now":
        base, precision = now.astimezone(dt.timezone.utc), "s"
    else:
        parsed = _parse_anchor(anchor)
        if parsed is None:
            return None
        base, precision = parsed
    rounding = None
    if "/" in math:
        math, _, rounding = math.partition("/")
        if len(rounding) != 1 or rounding not in DATE_MATH_UNITS:
            return None
    pos = 0
    for step in DATE_MATH_STEP.finditer(math):
        if step.start() != pos:
            return None
        pos = step.end()
        try:
            base = _shift(base, int(step.group(2)) * (1 if step.group(1) == "+" else -1), step.group(3))
        except (OverflowError, ValueError):
            return None
    if pos != len(math):
        return None
    if rounding:
        start, end = _period(base, rounding)
        return end if round_up else start
    if anchor != "now" and precision != "f":
        start, end = _period(base, precision)
        return end if round_up else start
    return base


def _parse_anchor(text: str) -> tuple[dt.datetime, str] | None:
    match = _DATE.match(text)
    if match is None:
        if text.isdigit():  # epoch milliseconds
            try:
                stamp = dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.timezone.utc)
            except (OverflowError, ValueError, OSError):
                return None
            return stamp, "f"
        return None
    parts = match.groupdict()
    precision = "y"
    for unit in ("M", "d", "h", "m", "s", "f"):
        if parts[unit] is None:
            break
        precision = unit
    micro = int((parts["f"] or "0")[:6].ljust(6, "0"))
    try:
        stamp = dt.datetime(
            int(parts["y"]),
            int(parts["M"] or 1),
            int(parts["d"] or 1),
            int(parts["h"] or 0),
            int(parts["m"] or 0),
            int(parts["s"] or 0),
            micro,
            tzinfo=dt.timezone.utc,
        )
    except ValueError:
        return None
    if parts["tz"] and parts["tz"] != "Z":
        sign = 1 if parts["tz"][0] == "+" else -1
        digits = parts["tz"][1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        stamp = stamp.replace(tzinfo=dt.timezone(sign * offset)).astimezone(dt.timezone.utc)
    return stamp, precision


def _shift(base: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit in ("y", "M"):
        months = base.year * 12 + base.month - 1 + amount * (12 if unit == "y" else 1)
        year, month = divmod(months, 12)
        day = min(base.day, _days_in_month(year, month + 1))
        return base.replace(year=year, month=month + 1, day=day)
    seconds = {"w": 604800, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}[unit]
    return base + dt.timedelta(seconds=amount * seconds)


def _days_in_month(year: int, month: int) -> int:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


def _period(base: dt.datetime, unit: str) -> tuple[dt.datetime, dt.datetime]:
    """First and last millisecond of the ``unit`` period containing ``base``."""
    unit = "h" if unit == "H" else unit
    if unit == "w":
        start = base.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=base.weekday())
        return start, start + dt.timedelta(days=7, milliseconds=-1)
    keep = _UNITS.index(unit) + 1
    fields = [base.year, base.month, base.day, base.hour, base.minute, base.second]
    year, month, day, hour, minute, second = fields[:keep] + [1, 1, 1, 0, 0, 0][keep:]
    start = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)
    try:
        end = _shift(start, 1, unit) if unit in ("y", "M") else start + _SPAN[unit]
    except (OverflowError, ValueError):  # a period of the year 9999 ends past the last datetime
        return start, dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    return start, end - dt.timedelta(milliseconds=1)


_SPAN = {
    "d": dt.timedelta(days=1),
    "h": dt.timedelta(hours=1),
    "m": dt.timedelta(minutes=1),
    "s": dt.timedelta(seconds=1),
}


_ISO_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\Z")


def iso_instant(value: str) -> dt.datetime | None:
    """Return the instant of an ISO date string (custom ``date`` attributes arrive as JSON strings)."""
    if len(value) < 10 or not _ISO_VALUE.match(value):
        return None
    parsed = _parse_anchor(value)
    return parsed[0] if parsed else None


def as_datetime(value: dt.date) -> dt.datetime:
    """Return ``value`` as an aware datetime: a date is its first instant (UTC), a naive datetime is UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)


def format_datetime(value: dt.datetime) -> str:
    """Format an aware datetime the way Zammad does: UTC, milliseconds, ``Z``."""
    utc = value.astimezone(dt.timezone.utc)
    # Formatted by hand: strftime("%Y") does not zero-pad years before 1000 on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        f".{utc.microsecond // 1000:03d}Z"
    )
