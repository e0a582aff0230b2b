"""The cut proxy (tests/support/cut_proxy.py) that a chaos run puts between Pendel and PostgreSQL."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.cut_proxy import CutProxy


def _connect(pg_url: str, port: int) -> psycopg.Connection:
    url = make_url(pg_url)
    return psycopg.connect(host="127.0.0.1", port=port, user=url.username or "postgres", dbname=url.database,
                           connect_timeout=5)


def test_cut_breaks_open_connections_and_refuses_new_ones_until_restored(pg_url: str) -> None:
    proxy = CutProxy((make_url(pg_url).host or "127.0.0.1", make_url(pg_url).port or 5432))
    try:
        before = _connect(pg_url, proxy.port)
        assert before.execute("SELECT 1").fetchone() == (1,)
        proxy.cut()
        assert proxy.is_cut and proxy.cuts == 1
        with pytest.raises(psycopg.OperationalError):
            before.execute("SELECT 1")
        with pytest.raises(psycopg.OperationalError):
            _connect(pg_url, proxy.port)
        proxy.restore()
        with _connect(pg_url, proxy.port) as after:
            assert after.execute("SELECT 2").fetchone() == (2,)
        assert proxy.connections == 2
    finally:
        proxy.close()
