"""The suite's log guard (tests/support/log_guard.py) must be able to fail: each kind it looks for is found."""
from __future__ import annotations

import logging

import pytest

from tests.support.log_guard import GUARD

LEAKS = {
    "phone number": "texted +31612345678",
    "email address": "sent to p1.0@example.net",
    "link token": 'GET /a/AbCdEfGhIjKlMnOpQrStUv HTTP/1.1',
    "bearer token": "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
    "participant name": "booked for Person 12.0",
    "message text": "body: Bedankt voor uw verzoek.",
}


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_each_kind_of_personal_data_is_caught(kind: str) -> None:
    logging.getLogger("pendel.test").warning("%s", LEAKS[kind])
    found, GUARD.found[:] = list(GUARD.found), []  # taken back, so this test's own check passes
    assert found == [f"pendel.test: {kind}"]


def test_ids_times_and_masked_paths_pass() -> None:
    logging.getLogger("pendel.test").warning("message 42 sent at 2026-12-05T10:00:00Z; GET /a/*** 303; case HB-2026-0001")
    assert GUARD.found == []
