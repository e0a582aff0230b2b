"""The iCalendar Pendel writes: feeds and invitations parse back to what was meant.

Everything is read back with `icalendar` itself; the VTIMEZONE is also read the
way Outlook reads it (from its own STANDARD/DAYLIGHT rules, not by TZID name).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from calendars.ics_export import EventData, appointment_id_from_uid, event_uid, feed, office_vtimezone
from calendars.invitations import content_type, invitation

TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
DOMAIN = "pendel.example"
OFFICE = dict(organizer_email="afspraken@bureau.example", organizer_name="Afsprakenbureau")


def event(appointment_id: int, *, start: datetime, minutes: int = 60) -> EventData:
    stamp = datetime(2026, 3, 1, 9, 15, 42, 123456, tzinfo=UTC)
    summary = f"HB-2026-{appointment_id:04d} · intake"
    end = start + timedelta(minutes=minutes)
    return EventData(appointment_id, 1, start, end, "confirmed", summary, None, None, stamp)


SPRING = event(1, start=datetime(2026, 3, 30, 8, 0, tzinfo=UTC))  # 10:00 CEST, day after the change
AUTUMN = event(2, start=datetime(2026, 10, 26, 9, 0, tzinfo=UTC))  # 10:00 CET, day after the change


parse = Calendar.from_ical


def the_event(cal: Calendar):
    (vevent,) = cal.events
    return vevent


def invite(ev: EventData, method: str = "REQUEST", **kw) -> bytes:
    args = dict(attendee_email="deelnemer@mail.example", attendee_name=None, tz=TZ, uid_domain=DOMAIN)
    return invitation(ev, method=method, **(OFFICE | args | kw))


def office_feed(*events: EventData) -> bytes:
    return feed(events, calendar_name="Kamer 2", tz=TZ, uid_domain=DOMAIN)



def test_feed_round_trips_across_both_dst_changes():
    cal = parse(office_feed(SPRING, AUTUMN))
    (vtz,) = cal.timezones
    by_uid = {str(e["UID"]): e for e in cal.events}
    for ev in (SPRING, AUTUMN):
        got = by_uid[event_uid(ev.appointment_id, DOMAIN)]
        assert got["DTSTART"].params["TZID"] == got["DTEND"].params["TZID"] == str(vtz["TZID"]) == "Europe/Amsterdam"
        assert got.start.astimezone(UTC) == ev.start and got.end.astimezone(UTC) == ev.end
        assert got.start.hour == 10  # written as the office's wall-clock time
    assert cal.get_missing_tzids() == set()


def test_feed_calendar_properties():
    cal = parse(office_feed(SPRING))
    assert str(cal["PRODID"]).startswith("-//Pendel//")
    assert str(cal["VERSION"]) == "2.0" and str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Kamer 2" and str(cal["X-WR-TIMEZONE"]) == "Europe/Amsterdam"
    assert b"X-PUBLISHED-TTL:PT15M\r\n" in office_feed(SPRING)


@pytest.mark.parametrize(
    "status, ical, transp, busy",
    [
        ("confirmed", "CONFIRMED", "OPAQUE", "BUSY"),
        ("held", "TENTATIVE", "OPAQUE", "TENTATIVE"),
        ("completed", "CONFIRMED", "OPAQUE", "BUSY"),
        ("no_show", "CONFIRMED", "OPAQUE", "BUSY"),
        ("cancelled", "CANCELLED", "TRANSPARENT", "FREE"),
    ],
)
def test_feed_status(status, ical, transp, busy):
    got = the_event(parse(office_feed(replace(SPRING, status=status, version=7))))
    assert (str(got["STATUS"]), str(got["TRANSP"]), str(got["X-MICROSOFT-CDO-BUSYSTATUS"])) == (ical, transp, busy)
    assert got["SEQUENCE"] == 7 and str(got["CLASS"]) == "PRIVATE"


def test_dtstamp_and_last_modified_are_utc_from_updated_at():
    data = office_feed(SPRING)
    assert b"\r\nDTSTAMP:20260301T091542Z\r\n" in data
    got = the_event(parse(data))
    for name in ("DTSTAMP", "LAST-MODIFIED"):
        assert got[name].dt.utcoffset() == timedelta(0)
        assert got[name].dt == SPRING.updated_at.replace(microsecond=0)


def test_feed_bytes_are_stable_and_sorted():
    assert office_feed(AUTUMN, SPRING) == office_feed(SPRING, AUTUMN)
    uids = [str(e["UID"]) for e in parse(office_feed(AUTUMN, SPRING)).events]
    assert uids == [event_uid(1, DOMAIN), event_uid(2, DOMAIN)]


def test_empty_feed_is_still_a_valid_calendar():
    cal = parse(office_feed())
    assert cal.events == [] and len(cal.timezones) == 1


def test_crlf_and_folding():
    long = replace(SPRING, description="Neem een identiteitsbewijs mee. " * 12, location="Zaal ‘De Linde’ " * 6)
    for data in (office_feed(long), invite(long)):
        assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
        lines = data.split(b"\r\n")[:-1]
        assert all(len(line) <= 75 for line in lines)
        assert any(line.startswith(b" ") for line in lines)  # something was folded
    got = the_event(parse(office_feed(long)))
    assert str(got["DESCRIPTION"]) == long.description and str(got["LOCATION"]) == long.location


def test_second_hour_of_the_autumn_change_is_written_in_utc():
    """02:30 happens twice on 2026-10-25; with TZID it would mean the first one."""
    first = event(3, start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC), minutes=20)  # 02:30-02:50 CEST
    second = event(4, start=datetime(2026, 10, 25, 1, 30, tzinfo=UTC), minutes=30)  # 02:30 CET
    by_uid = {str(e["UID"]): e for e in parse(office_feed(first, second)).events}
    got_first, got_second = by_uid[event_uid(3, DOMAIN)], by_uid[event_uid(4, DOMAIN)]
    assert got_first["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert "TZID" not in got_second["DTSTART"].params and "TZID" not in got_second["DTEND"].params
    for ev, got in ((first, got_first), (second, got_second)):
        assert (got.start.astimezone(UTC), got.end.astimezone(UTC)) == (ev.start, ev.end)


@pytest.mark.parametrize(
    "bad",
    [
        dict(status="postponed"),
        dict(start=datetime(2026, 3, 30, 8, 0)),
        dict(end=datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        dict(version=-1),
    ],
)
def test_invalid_events_are_refused(bad):
    with pytest.raises(ValueError):
        office_feed(replace(SPRING, **bad))



@pytest.mark.parametrize(
    "zone, first, last",
    [
        ("Europe/Amsterdam", 2026, 2026),
        ("Europe/Amsterdam", 2024, 2030),
        ("Australia/Sydney", 2026, 2027),  # southern hemisphere
        ("America/Sao_Paulo", 2017, 2021),  # DST abolished in 2019
        ("Asia/Tokyo", 2026, 2026),  # no DST at all
    ],
)
def test_vtimezone_means_what_zoneinfo_means(zone, first, last):
    """Read the VTIMEZONE by its own rules (as Outlook does), not by its TZID."""
    tz = ZoneInfo(zone)
    vtz = office_vtimezone(tz, first, last)
    assert str(vtz["TZID"]) == zone
    rules = vtz.to_tz(lookup_tzid=False)
    day = datetime(first, 1, 1, tzinfo=UTC)
    while day < datetime(last + 1, 1, 1, tzinfo=UTC):
        changes = day.astimezone(tz).utcoffset() != (day + timedelta(days=1)).astimezone(tz).utcoffset()
        step = timedelta(minutes=10) if changes else timedelta(hours=12)  # dense on change days
        t = day
        while t < day + timedelta(days=1):
            assert t.astimezone(rules).utcoffset() == t.astimezone(tz).utcoffset(), t
            t += step
        day += timedelta(days=1)


def test_vtimezone_has_the_shape_outlook_expects():
    vtz = office_vtimezone(TZ, 2026, 2026)
    standard, daylight = vtz.standard, vtz.daylight
    assert len(standard) == len(daylight) == 1
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n" in daylight[0].to_ical()
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n" in standard[0].to_ical()
    # Onsets are local times in the offset in force before the change (RFC 5545 3.6.5).
    assert daylight[0].DTSTART == datetime(2025, 3, 30, 2, 0)
    assert standard[0].DTSTART == datetime(2025, 10, 26, 3, 0)



def test_request_has_one_attendee_an_organizer_and_the_event():
    data = invite(SPRING, attendee_name="M. de Boer")
    cal = parse(data)
    got = the_event(cal)
    assert str(cal["METHOD"]) == "REQUEST" and content_type("request").endswith("method=REQUEST")
    assert str(got["UID"]) == event_uid(1, DOMAIN) and got["SEQUENCE"] == 1
    assert str(got["STATUS"]) == "CONFIRMED"
    attendee, organizer = got.get("ATTENDEE"), got["ORGANIZER"]
    assert not isinstance(attendee, list) and str(attendee) == "mailto:deelnemer@mail.example"
    assert dict(attendee.params) == {
        "CN": "M. de Boer", "CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"
    }
    assert (str(organizer), organizer.params["CN"]) == ("mailto:afspraken@bureau.example", "Afsprakenbureau")
    assert got.start.astimezone(UTC) == SPRING.start and got.end.astimezone(UTC) == SPRING.end
    assert [str(t["TZID"]) for t in cal.timezones] == [got["DTSTART"].params["TZID"]]
    assert data.count(b"ATTENDEE") == 1 and b"\r\nDTSTAMP:20260301T091542Z\r\n" in data
    assert str(the_event(parse(invite(replace(SPRING, status="held"))))["STATUS"]) == "TENTATIVE"


def test_reschedule_keeps_uid_and_raises_sequence():
    moved = replace(SPRING, version=2, start=SPRING.start + timedelta(days=1), end=SPRING.end + timedelta(days=1))
    before, after = the_event(parse(invite(SPRING))), the_event(parse(invite(moved)))
    assert before["UID"] == after["UID"] == event_uid(1, DOMAIN)
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.start.astimezone(UTC) == moved.start


def test_cancel():
    cancelled = replace(SPRING, version=3, status="cancelled")
    cal = parse(invite(cancelled, "CANCEL"))
    got = the_event(cal)
    assert str(cal["METHOD"]) == "CANCEL" and content_type("cancel").endswith("method=CANCEL")
    assert str(got["STATUS"]) == "CANCELLED" and got["SEQUENCE"] == 3
    assert str(got["UID"]) == event_uid(1, DOMAIN) and str(got["ORGANIZER"]).startswith("mailto:")
    assert str(got["ATTENDEE"]) == "mailto:deelnemer@mail.example"
    for wrong in (lambda: invite(cancelled, "REQUEST"), lambda: invite(SPRING, "PUBLISH")):
        pytest.raises(ValueError, wrong)


def test_arrival_is_the_participants_own_start():
    arrival = SPRING.start - timedelta(minutes=15)
    got = the_event(parse(invite(SPRING, arrival=arrival)))
    assert got.start.astimezone(UTC) == arrival and got.end.astimezone(UTC) == SPRING.end
    for wrong in (SPRING.end, datetime(2026, 3, 30, 9, 45)):  # not before the end; naive
        pytest.raises(ValueError, invite, SPRING, arrival=wrong)


@pytest.mark.parametrize(  # a list, a second address, a display name, no address, the organizer itself
    "attendee", ["a@x.example, b@y.example", "a@x.example;b@y.example", "J <a@x.example>", "nobody", "Afspraken@bureau.example"]
)
def test_only_one_plain_address_per_invitation(attendee):
    with pytest.raises(ValueError):
        invite(SPRING, attendee_email=attendee)


def test_parties_do_not_see_each_other():
    """A joint meeting: each party gets their own invitation and arrival time."""
    meeting = replace(SPRING, summary="Afspraak HB-2026-0001")
    victim = invite(meeting, attendee_email="v@mail.example", attendee_name="Vera", arrival=meeting.start)
    offender = invite(
        meeting, attendee_email="o@mail.example", attendee_name="Otto", arrival=meeting.start + timedelta(minutes=15)
    )
    assert b"o@mail.example" not in victim and b"Otto" not in victim
    assert b"v@mail.example" not in offender and b"Vera" not in offender
    for data in (victim, offender, office_feed(meeting)):
        assert b"mediation" not in data.lower() and b"bemiddel" not in data.lower()
    assert b"Vera" not in office_feed(meeting)  # a name shows only if the caller put it in the text
    assert b"Vera" in office_feed(replace(meeting, summary="Gesprek met Vera"))
    assert b"CN=" not in invite(meeting).split(b"ATTENDEE", 1)[1].split(b"\r\n", 1)[0]


def test_uid_is_stable_and_recognisable():
    assert event_uid(42, DOMAIN) == "appointment-42@pendel.example"
    assert appointment_id_from_uid(event_uid(42, DOMAIN), DOMAIN) == 42
    assert appointment_id_from_uid("appointment-42@elsewhere.example", DOMAIN) is None
    assert appointment_id_from_uid("appointment-x@pendel.example", DOMAIN) is None
    in_feed = the_event(parse(office_feed(SPRING)))["UID"]
    assert in_feed == the_event(parse(invite(SPRING)))["UID"] == the_event(parse(invite(SPRING, "CANCEL")))["UID"]


whole_seconds = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n"), max_size=60)


@st.composite
def events(draw, appointment_id: int) -> EventData:
    start, version = draw(whole_seconds), draw(st.integers(0, 10_000))
    end = start + timedelta(seconds=draw(st.integers(1, 12 * 3600)))
    status = draw(st.sampled_from(["held", "confirmed", "completed", "no_show", "cancelled"]))
    summary, location = draw(texts.filter(str.strip)), draw(st.none() | texts.filter(str.strip))
    return EventData(appointment_id, version, start, end, status, summary, location, None, draw(whole_seconds))


@settings(deadline=None, max_examples=100)
@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=5, unique=True).flatmap(lambda ids: st.tuples(*map(events, ids))))
def test_random_events_round_trip_exactly(evs):
    cal = parse(feed(evs, calendar_name="Kamer", tz=TZ, uid_domain=DOMAIN))
    by_uid = {str(e["UID"]): e for e in cal.events}
    assert len(by_uid) == len(evs) and cal.get_missing_tzids() == set()
    (vtz,) = cal.timezones
    rules = vtz.to_tz(lookup_tzid=False)  # how a client without tzdata reads the times
    for ev in evs:
        got = by_uid[event_uid(ev.appointment_id, DOMAIN)]
        assert (got.start.astimezone(UTC), got.end.astimezone(UTC)) == (ev.start, ev.end)
        if "TZID" in got["DTSTART"].params:
            wall = got["DTSTART"].dt.replace(tzinfo=None)
            assert wall.replace(tzinfo=rules).astimezone(UTC) == ev.start
        assert got["SEQUENCE"] == ev.version and got["DTSTAMP"].dt == ev.updated_at
        assert str(got["SUMMARY"]) == ev.summary and str(got.get("LOCATION", "")) == (ev.location or "")
    method = "CANCEL" if evs[0].status == "cancelled" else "REQUEST"
    got = the_event(parse(invite(evs[0], method)))
    assert (got.start.astimezone(UTC), got.end.astimezone(UTC)) == (evs[0].start, evs[0].end)
