"""Kyverno's time_* JMESPath functions (kyverno: pkg/engine/jmespath/time.go) with Go's
time.Parse layouts and RFC3339 formatting."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from gpulint.engine.legacy.goutil import format_duration, parse_duration

RFC3339 = "2006-01-02T15:04:05Z07:00"

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Go layout tokens, longest first where prefixes overlap.
_TOKENS = [
    "January", "Jan", "Monday", "Mon", "MST",
    "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
    "-07:00:00", "-070000", "-07:00", "-0700", "-07",
    "2006", "002", "__2", "_2", "01", "02", "03", "04", "05", "06", "15",
    "PM", "pm", "1", "2", "3", "4", "5",
]
_FRACTION = re.compile(r"[.,](0+|9+)")


class TimeError(ValueError):
    pass


def _tokenize(layout: str):
    i = 0
    out = []
    while i < len(layout):
        m = _FRACTION.match(layout, i)
        if m and (i + len(m.group(0)) >= len(layout) or not layout[i + len(m.group(0))].isdigit()):
            out.append(("frac", m.group(0)))
            i = m.end()
            continue
        for tok in _TOKENS:
            if layout.startswith(tok, i):
                # "Jan" must not match inside "January" handled by ordering; digits standalone
                out.append(("tok", tok))
                i += len(tok)
                break
        else:
            out.append(("lit", layout[i]))
            i += 1
    return out


def _num(value: str, pos: int, min_len: int, max_len: int, lo: int, hi: int, what: str):
    m = re.compile(rf"[0-9]{{{min_len},{max_len}}}").match(value, pos)
    if not m:
        raise TimeError(f'parsing time "{value}": cannot parse "{value[pos:]}" as "{what}"')
    n = int(m.group(0))
    if not lo <= n <= hi:
        raise TimeError(f'parsing time "{value}": {what} out of range')
    return n, m.end()


def go_parse(layout: str, value: str) -> datetime:
    """time.Parse: missing zone → UTC."""
    year, month, day, hour, minute, sec, micro = 1, 1, 1, 0, 0, 0, 0
    pm = None
    tz = timezone.utc
    pos = 0
    for kind, tok in _tokenize(layout):
        if kind == "lit":
            if not value.startswith(tok, pos):
                raise TimeError(f'parsing time "{value}" as "{layout}": cannot parse '
                                f'"{value[pos:]}" as "{tok}"')
            pos += len(tok)
            continue
        if kind == "frac":
            m = re.compile(r"[.,]([0-9]+)").match(value, pos)
            if m:
                micro = int((m.group(1) + "000000")[:6])
                pos = m.end()
            elif tok[1] == "0":
                raise TimeError(f'parsing time "{value}": missing fraction')
            continue
        if tok == "2006":
            year, pos = _num(value, pos, 4, 4, 0, 9999, tok)
        elif tok == "06":
            y, pos = _num(value, pos, 2, 2, 0, 99, tok)
            year = y + (1900 if y >= 69 else 2000)
        elif tok in ("01", "1"):
            month, pos = _num(value, pos, len(tok), 2, 1, 12, tok)
        elif tok in ("January", "Jan"):
            names = _MONTHS if tok == "January" else [m[:3] for m in _MONTHS]
            for i, name in enumerate(names):
                if value[pos:pos + len(name)].lower() == name.lower():
                    month, pos = i + 1, pos + len(name)
                    break
            else:
                raise TimeError(f'parsing time "{value}": cannot parse month')
        elif tok in ("Monday", "Mon"):
            names = _DAYS if tok == "Monday" else [d[:3] for d in _DAYS]
            for name in names:
                if value[pos:pos + len(name)].lower() == name.lower():
                    pos += len(name)
                    break
            else:
                raise TimeError(f'parsing time "{value}": cannot parse weekday')
        elif tok in ("02", "2", "_2", "__2", "002"):
            if tok.startswith("_") and value[pos:pos + 1] == " ":
                pos += 1
            width = 3 if tok == "002" else 2
            day, pos = _num(value, pos, 1 if tok in ("2", "_2") else width, width, 1,
                            366 if tok == "002" else 31, tok)
        elif tok == "15":
            hour, pos = _num(value, pos, 1, 2, 0, 23, tok)
        elif tok in ("03", "3"):
            hour, pos = _num(value, pos, len(tok), 2, 1, 12, tok)
        elif tok in ("04", "4"):
            minute, pos = _num(value, pos, len(tok), 2, 0, 59, tok)
        elif tok in ("05", "5"):
            sec, pos = _num(value, pos, len(tok), 2, 0, 59, tok)
            m = re.compile(r"[.,]([0-9]+)").match(value, pos)
            if m and not any(k == "frac" for k, _ in _tokenize(layout)):
                micro = int((m.group(1) + "000000")[:6])
                pos = m.end()
        elif tok in ("PM", "pm"):
            ampm = value[pos:pos + 2].upper()
            if ampm not in ("AM", "PM"):
                raise TimeError(f'parsing time "{value}": cannot parse AM/PM')
            pm = ampm == "PM"
            pos += 2
        elif tok == "MST":
            m = re.compile(r"[A-Z]{3,5}|[+-][0-9]{2}").match(value, pos)
            if not m:
                raise TimeError(f'parsing time "{value}": cannot parse zone')
            pos = m.end()
            if m.group(0) == "UTC":
                tz = timezone.utc
        else:  # numeric zones
            if tok.startswith("Z") and value[pos:pos + 1] == "Z":
                pos += 1
                tz = timezone.utc
                continue
            m = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})?:?([0-9]{2})?").match(value, pos)
            if not m:
                raise TimeError(f'parsing time "{value}" as "{layout}": cannot parse '
                                f'"{value[pos:]}" as "{tok}"')
            sign = -1 if m.group(1) == "-" else 1
            offset = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0),
                               seconds=int(m.group(4) or 0))
            tz = timezone(sign * offset)
            pos = m.end()
    if pos != len(value):
        raise TimeError(f'parsing time "{value}": extra text: "{value[pos:]}"')
    if pm is not None:
        if pm and hour < 12:
            hour += 12
        elif not pm and hour == 12:
            hour = 0
    try:
        return datetime(year, month, day, hour, minute, sec, micro, tzinfo=tz)
    except ValueError as exc:
        raise TimeError(f'parsing time "{value}": {exc}') from None


def parse_rfc3339(value: str) -> datetime:
    return go_parse(RFC3339, value)


def format_rfc3339(t: datetime) -> str:
    off = t.utcoffset() or timedelta(0)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if off == timedelta(0):
        return base + "Z"
    total = int(off.total_seconds())
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return f"{base}{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


def _duration_ns(t1: datetime, t2: datetime) -> int:
    delta = t2 - t1
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _dur(s: str) -> int:
    ns = parse_duration(s)
    if ns is None:
        raise TimeError(f'time: invalid duration "{s}"')
    return ns


def time_since(layout: str, start: str, end: str) -> str:
    t1 = go_parse(layout or RFC3339, start)
    t2 = go_parse(layout or RFC3339, end) if end else datetime.now(timezone.utc)
    return format_duration(_duration_ns(t1, t2))


def time_now() -> str:
    return format_rfc3339(datetime.now().astimezone())


def time_now_utc() -> str:
    return format_rfc3339(datetime.now(timezone.utc))


def time_to_cron(t: str) -> str:
    d = parse_rfc3339(t)
    weekday = (d.weekday() + 1) % 7  # Go: Sunday = 0
    return f"{d.minute} {d.hour} {d.day} {d.month} {weekday}"


def time_add(t: str, dur: str) -> str:
    return format_rfc3339(parse_rfc3339(t) + timedelta(microseconds=_dur(dur) // 1000))


def time_parse(layout: str, value: str) -> str:
    if re.fullmatch(r"[+-]?[0-9]+", layout):
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise TimeError(f'strconv.ParseInt: parsing "{value}": invalid syntax')
        return format_rfc3339(datetime.fromtimestamp(int(value), timezone.utc))
    return format_rfc3339(go_parse(layout, value))


def time_utc(t: str) -> str:
    return format_rfc3339(parse_rfc3339(t).astimezone(timezone.utc))


def time_diff(t1: str, t2: str) -> str:
    return format_duration(_duration_ns(parse_rfc3339(t1), parse_rfc3339(t2)))


def time_before(a: str, b: str) -> bool:
    return parse_rfc3339(a) < parse_rfc3339(b)


def time_after(a: str, b: str) -> bool:
    return parse_rfc3339(a) > parse_rfc3339(b)


def time_between(t: str, start: str, end: str) -> bool:
    x = parse_rfc3339(t)
    return parse_rfc3339(start) < x < parse_rfc3339(end)


def time_truncate(t: str, dur: str) -> str:
    d = parse_rfc3339(t)
    ns = _dur(dur)
    if ns <= 0:
        return format_rfc3339(d)
    # Go truncates the absolute time since the zero time (year 1, UTC)
    zero = datetime(1, 1, 1, tzinfo=timezone.utc)
    since = _duration_ns(zero, d)
    since -= since % ns
    out = zero + timedelta(microseconds=since // 1000)
    return format_rfc3339(out.astimezone(d.tzinfo))
