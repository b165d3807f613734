"""Who the client is: the peer, unless the peer is a proxy named in USERS_FORWARDED_ALLOW_IPS, whose
X-Forwarded-For is then believed (tests/e2e/test_production_path.py has the same through nginx)."""

from pathlib import Path

import httpx
import pytest

from tests.e2e.service import Service, environment

pytestmark = pytest.mark.e2e

CLAIMED = "203.0.113.9"


def logged_client(service: Service, request_id: str) -> str:
    """The address the access line of the request with this id names."""
    headers = {"X-Forwarded-For": CLAIMED, "X-Request-ID": request_id}
    assert httpx.get(f"{service.base}/health/live", headers=headers, timeout=10).status_code == 200
    service.terminate()
    service.wait(30)
    (line,) = [line for line in service.output().splitlines() if f"[{request_id}]" in line]
    return line.rsplit(" from ", 1)[1]


def test_by_default_no_one_is_believed_not_even_a_local_peer(tmp_path: Path) -> None:
    service = Service.start(tmp_path, environment(database_url="memory://"))
    try:
        assert logged_client(service, "nobody-trusted") == "127.0.0.1"
    finally:
        service.kill()


def test_a_named_proxy_is_believed(tmp_path: Path) -> None:
    env = environment(database_url="memory://", forwarded_allow_ips="127.0.0.1")
    service = Service.start(tmp_path, env)
    try:
        assert logged_client(service, "proxy-trusted") == CLAIMED
    finally:
        service.kill()
