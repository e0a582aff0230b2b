"""Liveness and readiness, as a load balancer sees them."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import redis

from app import create_app
from core.config import Settings
from tests.conftest import service_unavailable, with_settings

REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


def _client_for(settings: Settings) -> Iterator[Any]:
    app = create_app(settings)
    try:
        yield app.test_client()
    finally:
        runtime = app.extensions["pendel"]
        runtime.db.dispose()
        if runtime.redis is not None:
            runtime.redis.close()


def test_healthz(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_needs_no_login_and_no_database() -> None:
    # Liveness says the process answers; it must not depend on the database.
    for client in _client_for(Settings(environment="testing", secret_key="x",
                                       database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")):
        assert client.get("/healthz").status_code == 200


def test_readyz_with_database(client: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    # Without REDIS_URL the queue is in-process; readiness reports what it checked.
    assert body["checks"].get("redis", "ok") == "ok"


def test_readyz_with_real_redis(settings: Settings) -> None:
    probe = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        probe.ping()
    except redis.exceptions.ConnectionError:
        service_unavailable(f"Redis at {REDIS_TEST_URL}")
    finally:
        probe.close()
    for client in _client_for(with_settings(settings, redis_url=REDIS_TEST_URL)):
        response = client.get("/readyz")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_with_unreachable_redis_is_503_naming_redis(settings: Settings) -> None:
    for client in _client_for(with_settings(settings, redis_url="redis://127.0.0.1:1/0")):
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "not ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"].startswith("error")
        assert "127.0.0.1" not in response.get_data(as_text=True)  # no infrastructure details leak


def test_readyz_with_unreachable_database_is_503_naming_the_database() -> None:
    for client in _client_for(Settings(environment="testing", secret_key="x",
                                       database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")):
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "not ready"
        assert body["checks"]["database"].startswith("error")
        text = response.get_data(as_text=True)
        assert "nobody" not in text and "127.0.0.1" not in text


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_are_get_only(client: Any, path: str) -> None:
    assert client.post(path).status_code == 405
