"""The next firing time of a cron schedule, for `status.nextScheduledRun`.

The CronJob controller does the actual scheduling; this predicts it and, above all, refuses what
the controller's parser (robfig/cron v3 `ParseStandard`, also used by the API server's validation)
would refuse, so a connection never waits on a schedule that will not fire. Five fields (minute,
hour, day of month, month, day of week 0-6) with lists, ranges, steps, `?`, English names, the
@-descriptors (case-sensitive) and `@every <duration>`. A `TZ=`/`CRON_TZ=` prefix is refused, as
by the API server: the time zone goes in `spec.schedule.timeZone`. Every malformed input raises
`CronError` (never a bare ValueError). As in Vixie cron, when both day fields are restricted a day
matching either one fires.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NUMBER = re.compile(r"\+?[0-9]+")  # what Go's strconv.Atoi reads, without a sign that makes it negative
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class CronError(ValueError):
    pass


def _value(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not _NUMBER.fullmatch(text):
        raise CronError(f"invalid cron value {text!r}")
    return int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """The values of one field, and whether it is restricted (not `*`)."""
    values: set[int] = set()
    restricted = not text.startswith(("*", "?"))
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        if slash and ("/" in step_text or not _NUMBER.fullmatch(step_text) or int(step_text) < 1):
            raise CronError(f"invalid step in {part!r}")
        step = int(step_text) if slash else 1
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise CronError(f"value out of range in {part!r}")
        values.update(range(start, end + 1, step))
    return values, restricted


def every(expression: str) -> timedelta | None:
    """The interval of `@every <Go duration>`, None for other expressions; at least one second."""
    if not expression.startswith("@every "):
        return None
    text = expression[len("@every ") :].strip()
    if not text or text == "0":
        raise CronError(f"invalid duration in {expression!r}")
    position, seconds = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise CronError(f"invalid duration in {expression!r}")
    return timedelta(seconds=max(1, int(seconds)))


def parse(expression: str) -> tuple[list[set[int]], bool, bool]:
    if expression.lstrip().startswith(("TZ=", "CRON_TZ=")):
        raise CronError("a TZ= or CRON_TZ= prefix is not allowed: set spec.schedule.timeZone instead")
    if expression.startswith("@") and expression not in MACROS:
        raise CronError(f"unknown descriptor {expression!r}")
    text = MACROS.get(expression, expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"cron expression {expression!r} needs five fields")
    names: tuple[dict[str, int], ...] = ({}, {}, {}, _MONTHS, _DAYS)
    parsed = [_field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, _BOUNDS, names, strict=True)]
    sets = [values for values, _ in parsed]
    return sets, parsed[2][1], parsed[4][1]


def next_run(expression: str, time_zone: str | None, after: datetime) -> datetime:
    """The first firing time strictly after `after` (aware), returned in UTC."""
    interval = every(expression)
    if interval is not None:
        return (after + interval).astimezone(UTC).replace(microsecond=0)
    (minutes, hours, days, months, weekdays), dom_restricted, dow_restricted = parse(expression)
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CronError(f"unknown time zone {time_zone!r}") from error
    local = after.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
    day = local.replace(hour=0, minute=0)
    for _ in range(366 * 5):
        dom_ok = day.day in days
        dow_ok = (day.isoweekday() % 7) in weekdays
        day_ok = (dom_ok or dow_ok) if dom_restricted and dow_restricted else (dom_ok and dow_ok)
        if day.month in months and day_ok:
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    candidate = day.replace(hour=hour, minute=minute)
                    if candidate > local:
                        return candidate.replace(tzinfo=zone).astimezone(UTC)
        day += timedelta(days=1)
    raise CronError(f"cron expression {expression!r} never fires")
