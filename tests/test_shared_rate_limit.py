"""One rate limit for all nodes: gunicorn masters (the README's command) on two ports count the name form's limit
in the one Redis they share, go on answering (each process counting alone) while it is down and share again when it
is back, saying so once each way; several workers counting in memory say at start that they let more through.
Bounded: a few gunicorn masters on 127.0.0.1, under a hundred requests each test, every wait capped."""

import pytest
import requests
from sqlalchemy import create_engine, text

from flasky.ratelimit import STORAGE_RECOVERED
from flasky.testing import soup_of, text_of
from tests.helpers import wait_until
from tests.test_production_server import production_server

pytestmark = pytest.mark.slow

FALLING_BACK = "Rate limit storage unreachable - falling back to in-memory storage"
UNSHARED = "Rate limits are counted by each of the"
UNSHARED_TWO_WORKERS = ("Rate limits are counted by each of the 2 worker processes alone (RATELIMIT_STORAGE_URI is "
                        "memory://), so they let 2 times as many requests through (and more with several nodes): set "
                        "REDIS_URL (or RATELIMIT_STORAGE_URI) to a Redis that all of them share")
LIMITED = "Too many requests: You are sending that faster than we can take it. Please wait a moment and try again."
SHARED = {"storage": "redis", "shared": True, "status": "ok"}
FALLBACK = {"storage": "redis", "shared": False, "status": "fallback"}
# Each phase of a test posts from an address of its own (behind the proxy that PROXY_FIX_X_FOR=1 trusts).
ADDRESSES = iter(f"198.51.100.{n}" for n in range(1, 255))


@pytest.fixture
def nodes(tmp_path, request):
    """Start two nodes, gunicorn masters of `request.param` workers each, on one SQLite database and the test's
    Redis, with the name form's default limit; return a function that does it, for tests that stop Redis first."""
    started = []

    def nodes(workers=2, **env):
        database = f"sqlite:///{tmp_path / 'flasky.sqlite'}"
        for number in range(2):
            server = production_server(database, tmp_path / f"node{number}.log", workers=workers,
                                       RATELIMIT_NAME_FORM="20 per minute; 200 per hour", PROXY_FIX_X_FOR="1", **env)
            started.append(server.start())
        return started

    yield nodes
    for server in started:
        server.stop()


def post(server, name, address, *, htmx=False):
    """Submit a name to a node, as a client at `address` (a browser, or htmx)."""
    with requests.Session() as browser:
        page = browser.get(server.url("/"), timeout=30)
        data = {"csrf_token": soup_of(page).select_one("#csrf_token")["value"], "name": name}
        headers = {"X-Forwarded-For": address, **({"HX-Request": "true"} if htmx else {})}
        return browser.post(server.url("/"), data=data, headers=headers, allow_redirects=False, timeout=30)


def health(server):
    """GET a node's /healthz, which answers 200 whatever its limits' storage does; return its report of them."""
    answer = requests.get(server.url("/healthz"), timeout=30)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    return answer.json()["ratelimit"]


def flood(nodes, count, prefix):
    """Post `count` names from one new address, node after node, plain and htmx in turn; return the answers."""
    address = next(ADDRESSES)
    return [post(nodes[n % 2], f"{prefix} {n}", address, htmx=n % 3 == 1) for n in range(count)]


def assert_one_limit_across_the_nodes(answers):
    """The first 20 posts pass, the 21st is refused with the app's message, whichever node took it."""
    assert [answer.status_code for answer in answers[:20]] == [200 if n % 3 == 1 else 303 for n in range(20)]
    refused = answers[20]
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert text_of(refused, "error-heading") == "Too many requests"


def stored_names(server, prefix):
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.scalars(text("SELECT username FROM users WHERE username LIKE :p ORDER BY id"),
                                      {"p": f"{prefix} %"}).all()
    finally:
        engine.dispose()


def log_count(server, line):
    return server.log_text().count(line)


def test_two_nodes_of_two_workers_count_one_limit_in_redis(nodes, redis_url):
    servers = nodes(REDIS_URL=redis_url)
    assert [health(server) for server in servers] == [SHARED, SHARED]
    answers = flood(servers, 21, "Shared")
    assert_one_limit_across_the_nodes(answers)
    assert stored_names(servers[0], "Shared") == [f"Shared {n}" for n in range(20)]
    for server in servers:
        log = server.log_text()
        assert UNSHARED not in log and FALLING_BACK not in log and "Traceback" not in log
        assert redis_url not in log


def test_a_redis_outage_is_answered_per_process_told_once_and_over_by_itself(nodes, redis_server):
    servers = nodes(workers=1, REDIS_URL=redis_server.url)
    assert_one_limit_across_the_nodes(flood(servers, 21, "Before"))

    redis_server.stop()
    answers = flood(servers, 12, "During")
    assert [answer.status_code for answer in answers] == [200 if n % 3 == 1 else 303 for n in range(12)], \
        "each node counts afresh in its memory: 6 posts each, under 20"
    assert stored_names(servers[0], "During") == [f"During {n}" for n in range(12)]
    assert [health(server) for server in servers] == [FALLBACK, FALLBACK]
    assert [log_count(server, FALLING_BACK) for server in servers] == [1, 1]

    redis_server.start()
    address = next(ADDRESSES)
    assert wait_until(lambda: [post(server, "Recovering", address) for server in servers]
                      and all(log_count(server, STORAGE_RECOVERED) for server in servers), 60, 0.5)
    assert [health(server) for server in servers] == [SHARED, SHARED]
    assert_one_limit_across_the_nodes(flood(servers, 21, "After"))
    assert [(log_count(server, FALLING_BACK), log_count(server, STORAGE_RECOVERED)) for server in servers] == \
        [(1, 1), (1, 1)]
    assert not any("Traceback" in server.log_text() for server in servers)


@pytest.mark.parametrize("workers, in_redis, env, warned", [
    (2, False, {}, True),
    (1, False, {}, False),
    (2, True, {}, False),
    (2, False, {"RATELIMIT_ENABLED": "false"}, False),
], ids=["two-workers-memory", "one-worker-memory", "two-workers-redis", "limits-off"])
def test_several_workers_counting_in_memory_say_so_once_per_master(tmp_path, request, workers, in_redis, env, warned):
    storage = {"REDIS_URL": request.getfixturevalue("redis_url") if in_redis else "", "RATELIMIT_STORAGE_URI": ""}
    server = production_server(f"sqlite:///{tmp_path / 'flasky.sqlite'}", tmp_path / "gunicorn.log", workers=workers,
                               **storage, **env)
    with server:
        assert requests.get(server.url("/healthz"), timeout=30).status_code == 200
        assert wait_until(lambda: server.log_text().count("Booting worker") == workers, 30)
    warnings = [line.split("] ", 3)[-1] for line in server.log_text().splitlines() if "[WARNING]" in line]
    assert warnings == ([UNSHARED_TWO_WORKERS] if warned else []), "said once, by the first worker only"
