"""The one working-day calendar of Pendel.

A *werkdag* (working day) is Monday to Friday, minus the Dutch public holidays
(from the ``holidays`` package, which counts Good Friday), minus the office's
configured closure days. Liberation Day (5 May) is a public holiday in
``holidays.NL`` only in lustrum years (2025, 2030, ...); whether it is also a
day off in the other years is a setting (``liberation_day_always_off``).

The phone line, the slot search and the reminder timing all use this class.
It is pure: no database, no Flask, no environment reading. Configuration is
passed to the constructor.

Notes on the ``holidays`` package (checked against 0.109):

* ``holidays.NL`` guesses the language of holiday names from the process
  locale when ``language`` is not given (under ``LANG=C.UTF-8`` it returns
  English names). We always ask for ``language="nl"``.
* ``holidays.NL`` includes Good Friday ("Goede vrijdag"). Should a future
  version drop it, we add it ourselves (see ``_build_year``).
* ``holidays.NL`` puts 5 May ("Bevrijdingsdag") in the PUBLIC category only
  when ``year % 5 == 0``; every year from 1982 on it is in the OPTIONAL
  category, which we do not request (we add 5 May ourselves when the setting
  asks for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType

import holidays
from dateutil.easter import easter

__all__ = [
    "CLOSURE_DAY_NAME",
    "GOOD_FRIDAY_NAME",
    "LIBERATION_DAY_NAME",
    "WorkingDayCalendar",
]

CLOSURE_DAY_NAME = "Sluitingsdag"
GOOD_FRIDAY_NAME = "Goede vrijdag"
LIBERATION_DAY_NAME = "Bevrijdingsdag"

_ONE_DAY = timedelta(days=1)


def _require_date(value: object, what: str = "day") -> date:
    """Accept a plain ``date``; reject ``datetime`` (which would never match
    a date key in a set or dict and so silently count as a working day)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must be a datetime.date (not datetime), got {value!r}")
    return value


def _weekdays_between(start: date, end: date) -> int:
    """Number of Mon–Fri days d with start <= d < end (0 if end <= start)."""
    total = (end - start).days
    if total <= 0:
        return 0
    full_weeks, rest = divmod(total, 7)
    count = full_weeks * 5
    wd = start.weekday()
    for i in range(rest):
        if (wd + i) % 7 < 5:
            count += 1
    return count


class WorkingDayCalendar:
    """Mon–Fri minus Dutch public holidays minus closure days.

    Holiday lookups are cached per year: the first call for a year builds a
    ``{date: name}`` mapping, every later call is a weekday check plus a
    dict lookup. The cache is filled idempotently (each year's mapping is
    built completely and then stored with one assignment), so sharing one
    instance between threads is safe for this read-mostly use.
    """

    __slots__ = ("_closures", "_closures_by_year", "_liberation_day_always_off", "_years")

    def __init__(
        self,
        closure_days: Iterable[date] = (),
        liberation_day_always_off: bool = False,
    ) -> None:
        closures = frozenset(_require_date(d, "closure day") for d in closure_days)
        by_year: dict[int, list[date]] = {}
        for d in closures:
            by_year.setdefault(d.year, []).append(d)
        self._closures = closures
        self._closures_by_year = {y: tuple(sorted(ds)) for y, ds in by_year.items()}
        self._liberation_day_always_off = bool(liberation_day_always_off)
        self._years: dict[int, Mapping[date, str]] = {}

    # -- configuration (read-only) -------------------------------------

    @property
    def closure_days(self) -> frozenset[date]:
        return self._closures

    @property
    def liberation_day_always_off(self) -> bool:
        return self._liberation_day_always_off

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(closure_days={sorted(self._closures)!r}, "
            f"liberation_day_always_off={self._liberation_day_always_off!r})"
        )

    # -- per-year cache ------------------------------------------------

    def _build_year(self, year: int) -> Mapping[date, str]:
        days: dict[date, str] = {}
        # Closure days first, so a public holiday's own name wins on a clash.
        for d in self._closures_by_year.get(year, ()):
            days[d] = CLOSURE_DAY_NAME
        public = holidays.NL(years=year, language="nl", categories=(holidays.PUBLIC,))
        for d, name in public.items():
            if d.year == year:
                days[d] = name
        # Good Friday: present in holidays.NL (0.109); keep the calendar right
        # should a later version leave it out. Only within the years the
        # Algemene termijnenwet (and holidays.NL) covers.
        if public:
            good_friday = easter(year) - timedelta(days=2)
            days.setdefault(good_friday, GOOD_FRIDAY_NAME)
        # Liberation Day: holidays.NL has it only in lustrum years.
        if self._liberation_day_always_off:
            may_5 = date(year, 5, 5)
            existing = days.get(may_5)
            if existing is None or existing == CLOSURE_DAY_NAME:
                days[may_5] = LIBERATION_DAY_NAME
            elif LIBERATION_DAY_NAME not in existing:
                # e.g. Ascension on 5 May 2016: name both, as holidays does.
                days[may_5] = f"{existing}; {LIBERATION_DAY_NAME}"
        return MappingProxyType(days)

    def _days_off(self, year: int) -> Mapping[date, str]:
        days = self._years.get(year)
        if days is None:
            days = self._build_year(year)
            # A racing thread may build the same mapping; either copy is fine.
            self._years[year] = days
        return days

    # -- queries -------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        _require_date(day)
        return day.weekday() < 5 and day not in self._days_off(day.year)

    def holiday_name(self, day: date) -> str | None:
        """Dutch name of the public holiday or closure on ``day`` (weekends
        included, e.g. "Eerste paasdag"), or None. Configured closure days
        that are not public holidays are named "Sluitingsdag"."""
        _require_date(day)
        return self._days_off(day.year).get(day)

    def holidays_in_year(self, year: int) -> dict[date, str]:
        """All days off (other than ordinary weekends) in ``year``, with
        names, in date order. Weekend holidays are included."""
        return dict(sorted(self._days_off(year).items()))

    def next_working_day(self, day: date, include_today: bool = False) -> date:
        """The first working day after ``day`` (or ``day`` itself when
        ``include_today`` and it is a working day)."""
        _require_date(day)
        current = day if include_today else day + _ONE_DAY
        while not self.is_working_day(current):
            current += _ONE_DAY
        return current

    def previous_working_day(self, day: date, include_today: bool = False) -> date:
        """The last working day before ``day`` (or ``day`` itself when
        ``include_today`` and it is a working day)."""
        _require_date(day)
        current = day if include_today else day - _ONE_DAY
        while not self.is_working_day(current):
            current -= _ONE_DAY
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count of working days d with start <= d < end (0 if end <= start)."""
        _require_date(start, "start")
        _require_date(end, "end")
        if end <= start:
            return 0
        count = _weekdays_between(start, end)
        for year in range(start.year, end.year + 1):
            for d in self._days_off(year):
                if start <= d < end and d.weekday() < 5:
                    count -= 1
        return count

    def add_working_days(self, day: date, n: int) -> date:
        """Move ``n`` working days from ``day``.

        * n > 0: the n-th working day strictly after ``day``
          (so working_days_between(day + 1, result + 1) == n);
        * n < 0: the |n|-th working day strictly before ``day``
          (so working_days_between(result, day) == -n);
        * n == 0: ``day`` unchanged, working day or not.

        ``day`` itself need not be a working day; for n != 0 the result is.
        """
        _require_date(day)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {n!r}")
        current = day
        if n > 0:
            for _ in range(n):
                current = self.next_working_day(current)
        elif n < 0:
            for _ in range(-n):
                current = self.previous_working_day(current)
        return current
