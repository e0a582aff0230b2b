"""The rules around fetching, without a network: which addresses, which URLs, which window, when stale."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest

from calendars.errors import SourceError
from calendars.fetch import Target, address_allowed, parse_url
from calendars.models import CalendarSource
from calendars.sources import url_hint, validate_url
from calendars.sync import content_hash, is_stale, sync_window, uid_suffix
from core.config import ConfigError, Settings, load_settings
from core.problems import InvalidInput

UTC = timezone.utc


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",            # IPv4-mapped: the IPv4 inside decides
    "64:ff9b::808:808",          # NAT64 of 8.8.8.8
])
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.7", "172.16.5.4", "192.168.1.1",   # loopback, private
    "169.254.169.254", "fe80::1", "fe80::1%eth0",                        # link-local (cloud metadata)
    "100.64.0.1",                                                        # carrier-grade NAT (shared)
    "224.0.0.1", "239.255.255.250", "ff02::1",                           # multicast
    "0.0.0.0", "::",                                                     # unspecified
    "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1",          # reserved, documentation, benchmarking
    "::1", "fc00::1", "fd12:3456::1",                                    # IPv6 loopback and unique-local
    "::ffff:127.0.0.1", "::ffff:10.0.0.1",                               # mapped private IPv4
    "2002:7f00:1::", "2002:a00:1::",                                     # 6to4 wrapping 127.0.0.1 / 10.0.0.1
    "64:ff9b::7f00:1", "2001::1",                                        # NAT64 of loopback, Teredo
])
def test_private_local_and_special_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address)


@pytest.mark.parametrize(("url", "target"), [
    ("https://calendar.example.org/a.ics", Target("https", "calendar.example.org", 443, "/a.ics", None)),
    ("webcal://p01-caldav.icloud.com/published/2/Mx?x=1",
     Target("https", "p01-caldav.icloud.com", 443, "/published/2/Mx?x=1", None)),
    ("WEBCAL://Cal.Example.org", Target("https", "cal.example.org", 443, "/", None)),
    ("http://cal.example.org:8080/a.ics", Target("http", "cal.example.org", 8080, "/a.ics", None)),
    ("https://kalender.bücher.example/x", Target("https", "kalender.xn--bcher-kva.example", 443, "/x", None)),
    ("https://jan:ge%40heim@dav.example.org/c", Target("https", "dav.example.org", 443, "/c", ("jan", "ge@heim"))),
    ("http://[2001:db8::1]:8443/c.ics", Target("http", "2001:db8::1", 8443, "/c.ics", None)),
])
def test_parse_url_reads_http_https_and_webcal(url: str, target: Target) -> None:
    assert parse_url(url) == target


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://cal.example.org/a.ics", "only http, https and webcal addresses can be fetched"),
    ("file:///etc/passwd", "only http, https and webcal addresses can be fetched"),
    ("javascript:alert(1)", "only http, https and webcal addresses can be fetched"),
    ("https:///a.ics", "the web address has no host name"),
    ("https://cal.example.org:99999/a.ics", "not a valid web address"),
    ("https://cal.example.org/a b.ics", "not a valid web address"),
    ("https://cal.example.org/a\r\nHost: evil", "not a valid web address"),
    ("", "not a valid web address"),
    ("https://x.example/" + "a" * 3000, "not a valid web address"),
])
def test_parse_url_refuses_what_cannot_be_fetched(url: str, message: str) -> None:
    with pytest.raises(SourceError, match="^" + message.replace("(", r"\(") + "$"):
        parse_url(url)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/a.ics", "http://localhost:8080/a.ics", "https://api.localhost/x", "http://LOCALHOST./x",
    "http://[::1]/x", "http://169.254.169.254/latest/", "http://10.1.2.3/cal.ics",
    # the same addresses as a connect reads them: decimal, hex, octal and short IPv4, mapped IPv6
    "http://2130706433/a.ics", "http://0x7f000001/a.ics", "http://0x7F.1/a.ics", "http://127.1/a.ics",
    "http://0177.0.0.1/a.ics", "http://017700000001/a.ics", "http://10.1/a.ics", "http://3232235777/a.ics",
    "http://0/a.ics", "http://[::ffff:7f00:1]/a.ics", "http://[::ffff:169.254.169.254]/a.ics",
    "webcal://2852039166/latest/",  # 169.254.169.254
])
def test_validate_url_refuses_local_addresses_unless_allowed(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_url(url, "ics_url", allow_private=False)
    assert caught.value.errors == [{"field": "url", "message": "address not allowed: the calendar server is on a "
                                                               "private or local network"}]
    assert validate_url(f"  {url} ", "ics_url", allow_private=True) == url


def _dns(names: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver that knows only `names` (the office's own DNS, say), in getaddrinfo's shape."""
    def lookup(host: str, port: int, **_kw: object) -> list[tuple[object, ...]]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in names[host]]
    return lookup


def test_validate_url_refuses_a_name_that_resolves_to_a_private_address() -> None:
    lookup = _dns({"agenda.kantoor.example": ["10.0.0.5"], "mixed.example": ["93.184.215.14", "192.168.1.9"],
                   "cal.example.org": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})
    for url in ("https://agenda.kantoor.example/team.ics", "https://mixed.example/x.ics"):
        with pytest.raises(InvalidInput) as caught:
            validate_url(url, "caldav", False, lookup=lookup)
        assert caught.value.errors == [{"field": "url", "message": "address not allowed: the calendar server is "
                                                                   "on a private or local network"}]
        assert validate_url(url, "caldav", True, lookup=lookup) == url
    assert validate_url("https://cal.example.org/x.ics", "ics_url", False, lookup=lookup)
    # Not resolvable now: let through; every sync resolves and checks it again.
    assert validate_url("https://not-yet.example/x.ics", "ics_url", False, lookup=lookup)


def test_validate_url_names_the_field_and_keeps_the_url_as_typed() -> None:
    assert validate_url("webcal://cal.example.org/x.ics", "ics_url", False) == "webcal://cal.example.org/x.ics"
    with pytest.raises(InvalidInput) as caught:
        validate_url("webcal://cal.example.org/x.ics", "caldav", False)
    assert caught.value.errors[0] == {"field": "url", "message": "a CalDAV address starts with http:// or https://"}
    with pytest.raises(InvalidInput) as caught:
        validate_url("gopher://cal.example.org/", "ics_url", False)
    assert caught.value.errors[0]["field"] == "url"


@pytest.mark.parametrize(("url", "hint"), [
    ("https://outlook.office365.com/owa/calendar/abc@x.nl/S3CR3T/calendar.ics", "https://outlook.office365.com/…"),
    ("webcal://jan:pw@p01.icloud.com:443/published/2/TOKEN", "webcal://p01.icloud.com/…"),
    ("http://[2001:db8::1]:8080/dav/", "http://[2001:db8::1]/…"),
])
def test_url_hint_shows_scheme_and_host_only(url: str, hint: str) -> None:
    assert url_hint(url) == hint


def test_the_window_is_anchored_to_the_utc_day() -> None:
    settings = Settings()
    morning, evening = datetime(2026, 3, 9, 0, 5, tzinfo=UTC), datetime(2026, 3, 9, 23, 55, tzinfo=UTC)
    assert sync_window(morning, settings) == sync_window(evening, settings) == (
        datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 9, 8, tzinfo=UTC))
    assert sync_window(evening + timedelta(minutes=10), settings)[0] == datetime(2026, 3, 3, tzinfo=UTC)
    start, end = sync_window(evening, Settings(calendar_window_past_days=0, calendar_window_future_weeks=1))
    assert (start, end) == (datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 17, tzinfo=UTC))


def test_the_content_hash_covers_bytes_window_day_and_all_day_rule() -> None:
    day, next_day = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
    base = content_hash(b"BEGIN:VCALENDAR", day, True)
    assert base == content_hash(b"BEGIN:VCALENDAR", day.replace(hour=5), True) and len(base) == 64
    assert len({base, content_hash(b"BEGIN:VCALENDAR ", day, True), content_hash(b"BEGIN:VCALENDAR", next_day, True),
                content_hash(b"BEGIN:VCALENDAR", day, False)}) == 4


def test_stale_means_active_and_no_good_sync_within_the_setting() -> None:
    settings, now = Settings(calendar_stale_hours=24), datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert is_stale(CalendarSource(active=True, last_synced_at=None), now, settings)
    assert is_stale(CalendarSource(active=True, last_synced_at=now - timedelta(hours=25)), now, settings)
    assert not is_stale(CalendarSource(active=True, last_synced_at=now - timedelta(hours=23)), now, settings)
    assert not is_stale(CalendarSource(active=False, last_synced_at=None), now, settings)


def test_our_own_uids_are_recognised_by_the_public_host() -> None:
    assert uid_suffix(Settings(public_base_url="https://pendel.bemiddeling.example:8443/app")) == \
        "@pendel.bemiddeling.example"


def test_calendar_settings_have_defaults_and_one_line_errors() -> None:
    env = {"PENDEL_ENV": "testing"}
    settings = load_settings(env)
    assert (settings.calendar_sync_minutes, settings.calendar_stale_hours, settings.calendar_window_past_days,
            settings.calendar_window_future_weeks, settings.calendar_fetch_timeout, settings.calendar_max_mb,
            settings.calendar_allow_private_addresses) == (15, 24, 7, 26, 15, 5, False)
    assert load_settings({**env, "CALENDAR_ALLOW_PRIVATE_ADDRESSES": "true"}).calendar_allow_private_addresses
    with pytest.raises(ConfigError, match="^CALENDAR_MAX_MB must be between 1 and 100, got 0$"):
        load_settings({**env, "CALENDAR_MAX_MB": "0"})
    with pytest.raises(ConfigError, match="^CALENDAR_SYNC_MINUTES must be a whole number, got 'often'$"):
        load_settings({**env, "CALENDAR_SYNC_MINUTES": "often"})
