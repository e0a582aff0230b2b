"""Server-side SVG bar charts: scales, bars, the hidden table, no inline style; counting by local day and week."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from core.charts import (BarChart, DashboardClock, Panel, Series, add_dashboard_provider, count_by_day,
                         count_by_week, dashboard_panels, hours_by_week, nice_scale, render_bar_chart)

AMS = ZoneInfo("Europe/Amsterdam")
SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def chart(**kw: object) -> BarChart:
    values: dict[str, object] = dict(key="k", title="Calls per day", description="Bars: calls per day.",
                                     labels=["Mon", "Tue", "Wed"], series=[Series("calls", [3, 0, 7])])
    values.update(kw)
    return BarChart(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("top", "percent", "scale"), [
    (0, False, (4.0, 1.0)), (3, False, (3.0, 1.0)), (7, False, (8.0, 2.0)), (10, False, (10.0, 2.0)),
    (11, False, (15.0, 5.0)), (48, False, (50.0, 10.0)), (130, False, (150.0, 50.0)), (2400, False, (2500.0, 500.0)),
    (0.4, True, (1.0, 0.25)), (1.0, True, (1.0, 0.25)), (1.1, True, (1.25, 0.25)),
])
def test_nice_scale(top: float, percent: bool, scale: tuple[float, float]) -> None:
    assert nice_scale(top, percent) == scale
    maximum, step = scale
    assert maximum >= top and maximum / step <= 5


def test_a_chart_is_a_figure_with_an_accessible_svg_and_the_numbers_as_a_table() -> None:
    markup = str(render_bar_chart(chart()))
    root = parse(markup)
    assert root.tag == "figure" and "chart" in root.get("class", "")
    svg = root.find(f"{SVG}svg")
    assert svg is not None and svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-k-title chart-k-desc"
    assert svg.find(f"{SVG}title").text == "Calls per day"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").text == "Bars: calls per day."  # type: ignore[union-attr]
    bars = [r for r in svg.iter(f"{SVG}rect") if "bar" in r.get("class", "")]
    assert len(bars) == 2  # a zero draws no bar
    assert [b.find(f"{SVG}title").text for b in bars] == ["Mon: calls 3", "Wed: calls 7"]  # type: ignore[union-attr]
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights[1] == pytest.approx(heights[0] * 7 / 3, rel=.02)
    hidden = root.find("div")
    assert hidden is not None and hidden.get("class") == "visually-hidden"
    table = hidden.find("table")
    assert table is not None
    assert [[c.text for c in row] for row in table.iter("tr")] == [[None, "calls"], ["Mon", "3"], ["Tue", "0"],
                                                                   ["Wed", "7"]]
    assert 'style=' not in markup and "<script" not in markup


def test_stacked_bars_sit_on_each_other_and_show_their_total() -> None:
    c = chart(series=[Series("in time", [2, 1, 0]), Series("late", [1, 0, 4], "alt")], stacked=True)
    svg = parse(str(render_bar_chart(c))).find(f"{SVG}svg")
    bars = [r for r in svg.iter(f"{SVG}rect") if "bar" in r.get("class", "")]  # type: ignore[union-attr]
    monday = [b for b in bars if b.find(f"{SVG}title").text.startswith("Mon")]  # type: ignore[union-attr]
    low, high = sorted(monday, key=lambda b: -float(b.get("y", 0)))
    assert float(high.get("y", 0)) + float(high.get("height", 0)) == pytest.approx(float(low.get("y", 0)), abs=.15)
    assert "alt" in high.get("class", "")
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]  # type: ignore[union-attr]
    assert values == ["3", "1", "4"]
    legend = parse(str(render_bar_chart(c))).find("ul")
    assert legend is not None and [li.text or "".join(li.itertext()) for li in legend] == ["in time", "late"]


def test_percent_charts_planned_and_now() -> None:
    c = chart(series=[Series("occupancy", [0.5, 0.25, 0.125])], percent=True, now=1, planned_from=2,
              planned_name="booked ahead")
    markup = str(render_bar_chart(c))
    svg = parse(markup).find(f"{SVG}svg")
    axis = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "axis"]  # type: ignore[union-attr]
    assert axis[:5] == ["0%", "25%", "50%", "75%", "100%"]
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "axis now"] == ["Tue"]  # type: ignore[union-attr]
    classes = [r.get("class") for r in svg.iter(f"{SVG}rect")]  # type: ignore[union-attr]
    assert classes == ["now", "bar", "bar", "bar planned"]
    assert "13%" in markup and "booked ahead" in markup


def test_grouped_bars_stand_side_by_side_and_text_is_escaped() -> None:
    c = chart(title="<b>&", labels=["a<", "b", "c"], series=[Series("sent", [1, 2, 3]), Series("failed", [1, 0, 1], "alt")],
              ticks=["a<", "", "c"])
    markup = str(render_bar_chart(c))
    assert "<b>&" not in markup and "&lt;b&gt;&amp;" in markup
    svg = parse(markup).find(f"{SVG}svg")
    bars = [r for r in svg.iter(f"{SVG}rect") if "bar" in r.get("class", "")]  # type: ignore[union-attr]
    first_two = bars[:2]
    assert float(first_two[0].get("x", 0)) < float(first_two[1].get("x", 0))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if (t.get("class") or "").startswith("axis")  # type: ignore[union-attr]
             and not re.fullmatch(r"\d+", t.text or "")]
    assert ticks == ["a<", "c"]


def test_a_chart_refuses_mismatched_series() -> None:
    with pytest.raises(ValueError):
        chart(series=[Series("calls", [1, 2])])
    with pytest.raises(ValueError):
        chart(series=[])
    with pytest.raises(ValueError):
        Series("x", [1], tone="red")


def test_counting_by_local_day_and_week_across_the_autumn_clock_change() -> None:
    sunday = date(2026, 10, 25)  # 25 hours long in Amsterdam
    moments = [datetime(2026, 10, 24, 22, 30, tzinfo=timezone.utc),   # Sunday 00:30 CEST
               datetime(2026, 10, 25, 22, 59, tzinfo=timezone.utc),   # Sunday 23:59 CET
               datetime(2026, 10, 25, 23, 0, tzinfo=timezone.utc),    # Monday 00:00
               None]
    assert count_by_day(moments, sunday, 2, AMS) == [2, 1]
    assert count_by_week(moments, date(2026, 10, 19), 2, AMS) == [2, 1]


def test_hours_by_week_cuts_spans_at_local_monday_midnight() -> None:
    monday = date(2026, 12, 7)
    start = datetime(2026, 12, 13, 22, tzinfo=AMS)  # Sunday 22:00 to Monday 02:00
    spans = [(start, start + timedelta(hours=4)), (datetime(2026, 12, 9, 9, tzinfo=AMS), datetime(2026, 12, 9, 10, 30, tzinfo=AMS))]
    assert hours_by_week(spans, monday, 2, AMS) == [3.5, 2.0]
    before, after = datetime(2026, 12, 6, 23, tzinfo=AMS), datetime(2026, 12, 21, 1, tzinfo=AMS)
    assert hours_by_week([(before, before + timedelta(hours=2)), (after, after + timedelta(hours=1))],
                         monday, 2, AMS) == [1.0, 0.0]  # only the part inside the weeks counts
    assert hours_by_week([(before, after)], monday, 2, AMS) == [168.0, 168.0]


def test_dashboard_panels_come_from_every_provider_in_order() -> None:
    app = SimpleNamespace(extensions={})
    clock = DashboardClock(datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc), AMS)
    assert clock.today == date(2026, 12, 8)
    add_dashboard_provider(app, lambda session, c: [Panel("b", 20, "B", chart(key="b"))])
    add_dashboard_provider(app, lambda session, c: [Panel("a", 10, "A", chart(key="a")), Panel("c", 20, "C", chart())])
    assert [p.key for p in dashboard_panels(app, None, clock)] == ["a", "b", "c"]
