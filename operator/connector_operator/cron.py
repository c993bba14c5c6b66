"""The next firing time of a cron schedule, for `status.nextScheduledRun`.

The CronJob controller does the actual scheduling; this only predicts it. Five fields (minute, hour,
day of month, month, day of week) with lists, ranges, steps, names and the @-macros, as the
Kubernetes CronJob accepts. As in Vixie cron, when both day fields are restricted a day matching
either one fires.
"""

from __future__ import annotations

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
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class CronError(ValueError):
    pass


def _value(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"invalid cron value {text!r}")
    return int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """The values of one field, and whether it is restricted (not `*`)."""
    values: set[int] = set()
    restricted = not text.startswith(("*", "?"))
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1 or (step_text and not step_text.isdigit()):
            raise CronError(f"invalid step in {part!r}")
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


def parse(expression: str) -> tuple[list[set[int]], bool, bool]:
    text = MACROS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"cron expression {expression!r} needs five fields")
    names: tuple[dict[str, int], ...] = ({}, {}, {}, _MONTHS, _DAYS)
    parsed = [_field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, _BOUNDS, names, strict=True)]
    sets = [values for values, _ in parsed]
    sets[4] = {d % 7 for d in sets[4]}
    return sets, parsed[2][1], parsed[4][1]


def next_run(expression: str, time_zone: str | None, after: datetime) -> datetime:
    """The first firing time strictly after `after` (aware), returned in UTC."""
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
