"""Bar charts drawn on the server as SVG, and the dashboard's panels that packages contribute.

Pure: a `BarChart` (categories along the bottom, one or more series of
numbers) becomes one <figure> of markup with an SVG picture for the eye and
the same numbers as a table for a screen reader (visually hidden). No inline
style: colours come from classes of pendel.css/charts.css (`bar`, `bar alt`,
`bar muted`, `planned`, `now`, `gridline`, `axis`, `value`), so the page's
Content-Security-Policy holds.

A package adds panels to the office's dashboard (the Today page) with
`add_dashboard_provider(app, provider)`: the provider gets the read session
and a `DashboardClock` and returns `Panel`s; core knows no domain, the page
just shows what the packages gave, in their `order`.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Callable, Iterable, Sequence

from markupsafe import Markup, escape

TONES = ("", "alt", "muted")
WIDTH, HEIGHT = 420, 200
LEFT, RIGHT, TOP, BOTTOM = 38, 6, 16, 30


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    tone: str = ""  # "" the accent colour, "alt" the contrasting one, "muted" a pale one

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}")


@dataclass(frozen=True)
class BarChart:
    key: str                      # unique on the page: ids of the SVG's title and description
    title: str
    description: str              # one sentence for screen readers: what the bars are
    labels: Sequence[str]         # one per category, in full (the table, the bars' tooltips)
    series: Sequence[Series]
    ticks: Sequence[str] | None = None  # the short text under each bar ("" for none); default: the labels
    stacked: bool = False
    percent: bool = False         # values are shares 0..1, shown as whole percents
    now: int | None = None        # the category that is today / this week: highlighted
    planned_from: int | None = None  # categories from here on lie ahead: drawn paler
    planned_name: str = ""        # the legend's word for those ("planned")
    show_values: bool | None = None  # numbers above the bars; default when there are at most 14 categories
    category_header: str = ""     # the table's first column header

    def __post_init__(self) -> None:
        if not self.series:
            raise ValueError("a chart needs at least one series")
        for s in self.series:
            if len(s.values) != len(self.labels):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.labels)} labels")
        if self.ticks is not None and len(self.ticks) != len(self.labels):
            raise ValueError("one tick text per label")

    def format(self, value: float | None) -> str:
        if value is None:
            return "–"
        if self.percent:
            return percent(value)
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"

    def totals(self) -> list[float]:
        if self.stacked:
            return [sum(s.values[i] or 0 for s in self.series) for i in range(len(self.labels))]
        return [max((s.values[i] or 0) for s in self.series) for i in range(len(self.labels))]


def percent(share: float) -> str:
    """0.125 as "13%": whole percents, half up, as people round."""
    return f"{math.floor(share * 100 + .5)}%"


def nice_scale(top: float, percent: bool = False) -> tuple[float, float]:
    """(axis maximum, step) with steps of 1, 2 or 5 times a power of ten and at most five of them."""
    if percent:
        return (1.0, 0.25) if top <= 1 else (math.ceil(top * 4) / 4, 0.25 if top <= 2 else 0.5)
    if top <= 0:
        return 4.0, 1.0
    for magnitude in (10 ** k for k in range(0, 12)):
        for base in (1, 2, 5):
            step = base * magnitude
            if top <= step * 5:
                steps = math.ceil(top / step)
                return float(step * max(steps, 1)), float(step)
    return float(top), float(top)  # pragma: no cover - beyond any office's numbers


def render_bar_chart(chart: BarChart) -> Markup:
    """The chart as <figure class="chart">: SVG (role img, title, desc), a legend, and a hidden table."""
    n = len(chart.labels)
    top, step = nice_scale(max(chart.totals(), default=0), chart.percent)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / max(n, 1)

    def y(value: float) -> float:
        return TOP + plot_h - (value / top) * plot_h if top else TOP + plot_h

    ids = f"chart-{escape(chart.key)}"
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ids}-title {ids}-desc" '
             f'focusable="false"><title id="{ids}-title">{escape(chart.title)}</title>'
             f'<desc id="{ids}-desc">{escape(chart.description)}</desc>']
    if chart.now is not None and 0 <= chart.now < n:
        parts.append(f'<rect class="now" x="{LEFT + chart.now * band:.1f}" y="{TOP - 6}" width="{band:.1f}" '
                     f'height="{plot_h + 6}"/>')
    tick = 0.0
    while tick <= top + 1e-9:
        ty = y(tick)
        parts.append(f'<line class="gridline{" base" if tick == 0 else ""}" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{ty:.1f}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 4}" y="{ty + 3.5:.1f}" text-anchor="end">'
                     f'{escape(chart.format(tick))}</text>')
        tick += step
    parts.extend(_bars(chart, band, y))
    show_values = chart.show_values if chart.show_values is not None else n <= 14
    ticks = chart.ticks if chart.ticks is not None else chart.labels
    totals = chart.totals()
    for i in range(n):
        x = LEFT + (i + .5) * band
        if ticks[i]:
            css = "axis now" if i == chart.now else "axis"
            parts.append(f'<text class="{css}" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
                         f'{escape(ticks[i])}</text>')
        if show_values and totals[i] and (chart.stacked or len(chart.series) == 1):
            parts.append(f'<text class="value" x="{x:.1f}" y="{y(totals[i]) - 4:.1f}" '
                         f'text-anchor="middle">{escape(chart.format(totals[i]))}</text>')
    parts.append("</svg>")
    return Markup(f'<figure class="chart" id="{ids}">{"".join(parts)}{_legend(chart)}{_table(chart)}</figure>')


def _bars(chart: BarChart, band: float, y: Callable[[float], float]) -> list[str]:
    n, k = len(chart.labels), len(chart.series)
    group = band * (.72 if n > 14 else .62)
    width = group if chart.stacked else group / k
    out: list[str] = []
    for i in range(n):
        left = LEFT + i * band + (band - group) / 2
        base = 0.0
        planned = " planned" if chart.planned_from is not None and i >= chart.planned_from else ""
        for j, s in enumerate(chart.series):
            value = s.values[i] or 0
            if value <= 0:
                continue
            low, high = (base, base + value) if chart.stacked else (0.0, value)
            x = left if chart.stacked else left + j * width
            tone = f" {s.tone}" if s.tone else ""
            out.append(f'<rect class="bar{tone}{planned}" x="{x:.1f}" y="{y(high):.1f}" '
                       f'width="{max(width - (0 if chart.stacked or k == 1 else 1), 1):.1f}" '
                       f'height="{max(y(low) - y(high), .5):.1f}"><title>{escape(chart.labels[i])}: '
                       f'{escape(s.name)} {escape(chart.format(value))}</title></rect>')
            if chart.stacked:
                base = high
    return out


def _legend(chart: BarChart) -> str:
    planned = chart.planned_from is not None and chart.planned_name
    if len(chart.series) < 2 and not planned:
        return ""
    items = [_key("", f"bar{' ' + s.tone if s.tone else ''}", s.name) for s in chart.series]
    if planned:
        items.append(_key("planned-key", "bar planned", chart.planned_name))
    return f'<ul class="legend" aria-hidden="true">{"".join(items)}</ul>'


def _key(item_class: str, bar_class: str, name: str) -> str:
    css = f' class="{item_class}"' if item_class else ""
    return (f'<li{css}><svg viewBox="0 0 10 10" aria-hidden="true"><rect class="{bar_class}" width="10" height="10"/>'
            f"</svg>{escape(name)}</li>")


def _table(chart: BarChart) -> str:
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in chart.series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{escape(chart.format(s.values[i]))}</td>" for s in chart.series) + "</tr>"
        for i, label in enumerate(chart.labels))
    # The class sits on a wrapper: a table box grows to its content whatever its width, a block does not.
    return (f'<div class="visually-hidden"><table><caption>{escape(chart.title)}</caption>'
            f'<thead><tr><th scope="col">{escape(chart.category_header)}</th>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


# --- counting moments into local days and weeks ---------------------------------------------------------

def local_start(day: date, tz: tzinfo) -> datetime:
    """Local midnight of `day` as an aware UTC moment."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def count_by_day(moments: Iterable[datetime | None], first: date, days: int, tz: tzinfo) -> list[int]:
    """How many of `moments` fall on each of `days` local days from `first` (others are ignored)."""
    counts = [0] * days
    for moment in moments:
        if moment is None:
            continue
        i = (moment.astimezone(tz).date() - first).days
        if 0 <= i < days:
            counts[i] += 1
    return counts


def count_by_week(moments: Iterable[datetime | None], first_monday: date, weeks: int, tz: tzinfo) -> list[int]:
    """How many of `moments` fall in each of `weeks` ISO weeks (local) from `first_monday`."""
    daily = count_by_day(moments, first_monday, weeks * 7, tz)
    return [sum(daily[w * 7:(w + 1) * 7]) for w in range(weeks)]


def hours_by_week(spans: Iterable[tuple[datetime, datetime]], first_monday: date, weeks: int,
                  tz: tzinfo) -> list[float]:
    """The hours of `spans` inside each local ISO week (a span across weeks counts in each, cut)."""
    bounds = [local_start(first_monday + timedelta(days=7 * w), tz) for w in range(weeks + 1)]
    hours = [0.0] * weeks
    for start, end in spans:
        w = max(bisect_right(bounds, start) - 1, 0)  # the week it starts in (or the first)
        while w < weeks and bounds[w] < end:
            overlap = (min(end, bounds[w + 1]) - max(start, bounds[w])).total_seconds()
            if overlap > 0:
                hours[w] += overlap / 3600
            w += 1
    return hours


def days_axis(first: date, days: int) -> tuple[list[str], list[str]]:
    """(full labels, short ticks) for `days` days from `first`, in the page's language: ticks on every day
    up to two weeks (not on weekends; the weekday on Mondays), else on Mondays only."""
    from flask_babel import format_date

    dates = [first + timedelta(days=i) for i in range(days)]
    labels = [format_date(d, "EEEE d MMMM") for d in dates]
    if days <= 14:  # the day of the month on working days, the weekday too on Mondays: "ma 7 8 9 10 11"
        return labels, ["" if d.weekday() >= 5 else format_date(d, "EEEEEE d" if d.weekday() == 0 else "d")
                        for d in dates]
    return labels, [format_date(d, "d MMM") if d.weekday() == 0 else "" for d in dates]


def weeks_axis(first_monday: date, weeks: int) -> tuple[list[str], list[str]]:
    """(full labels, short ticks) for `weeks` ISO weeks from `first_monday`: "week 45 (2 – 8 November)", "45"."""
    from flask_babel import format_date, gettext

    mondays = [first_monday + timedelta(days=7 * w) for w in range(weeks)]
    labels = [gettext("week %(number)d (%(first)s – %(last)s)", number=m.isocalendar()[1],
                      first=format_date(m, "d MMM"), last=format_date(m + timedelta(days=6), "d MMM"))
              for m in mondays]
    return labels, [str(m.isocalendar()[1]) for m in mondays]


# --- the dashboard's panels ---------------------------------------------------------------------------

DASHBOARD = "pendel_dashboard"


@dataclass(frozen=True)
class DashboardClock:
    now: datetime   # aware
    tz: tzinfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


@dataclass(frozen=True)
class Panel:
    """One tile of the dashboard: a headline figure and its chart."""

    key: str
    order: int
    title: str
    chart: BarChart
    headline: str = ""        # the one number to see at a glance, e.g. "87%"
    headline_note: str = ""   # what it counts, e.g. "called back in time, last 4 weeks"
    links: tuple[tuple[str, str], ...] = field(default=())  # (url, text) to the pages behind the figure


Provider = Callable[[Any, DashboardClock], Iterable[Panel]]


def add_dashboard_provider(app: Any, provider: Provider) -> None:
    """A package's contribution to the dashboard (called from its plugin's install_web)."""
    app.extensions.setdefault(DASHBOARD, []).append(provider)


def dashboard_panels(app: Any, session: Any, clock: DashboardClock) -> list[Panel]:
    panels = [p for provider in app.extensions.get(DASHBOARD, []) for p in provider(session, clock)]
    return sorted(panels, key=lambda p: (p.order, p.key))
