"""nginx in front, for real: Debian's nginx runs the shipped deploy/nginx/flasky.conf (only its addresses, ports and
paths replaced) in front of two nodes, each the README's production command, on one PostgreSQL database and one
redis-server, everything on 127.0.0.1, as the README's "Running on several machines" deploys them.

Through it: pages, fragments and the language choice; static files from nginx itself; TLS with HTTP/2 offered; a
greeting reaching both nodes' streams; the rate limit per real client address whichever node counts it; and a node
killed under load, with its streams and its mail taken over by the other. One set of servers for the module (slow
to start); each test leaves them serving, every wait bounded.
"""

import http.client
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text

from flasky import resource_root
from flasky.testing import PRODUCTION, Gunicorn, Server, free_port, migrate, soup_of, text_of
from tests.helpers import Stream, load_form, running_redis, submit, wait_until
from tests.smtp_sink import running_smtp_server

pytestmark = pytest.mark.slow

SHIPPED = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "flasky.conf"
NGINX = "/usr/sbin/nginx"
SECRET_KEY = secrets.token_urlsafe(48)  # one key for every node: each reads the others' sessions and CSRF tokens
ADMIN = "admin@example.com"
NAME_LIMIT = 5  # name form submissions per client address an hour, counted in Redis for all nodes
# How soon a greeting must reach a stream held by either node: only a Redis wake-up does it in time, since each
# process's own read of the events table is every WAKEUP_POLL_SECONDS here. A bound for a slow machine: bench/nodes.py
# measures the real time (worst of 12 under 150 ms).
FANOUT_SECONDS = 3.0
WAKEUP_POLL_SECONDS = 120
LOAD_THREADS = 4
LOAD_MAX_REQUESTS = 500  # per thread: the load stops at the test's end or here, whichever comes first
LEASE_SECONDS = 2  # FLASKY_MAIL_LEASE_SECONDS: how long a dead node's claimed mail waits for another node


class SourceAddress(HTTPAdapter):
    """Connect from a given loopback address (all of 127/8 is the machine's own): another client, as nginx sees it."""

    def __init__(self, address, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        """Make the pools bind each connection's local end to the address."""
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Site:
    """The site as browsers reach it: nginx over TLS (its certificate trusted), and its plain-HTTP port."""

    def __init__(self, tls_port, plain_port, certificate, logs):
        self.base, self.plain_port = f"https://127.0.0.1:{tls_port}", plain_port
        self.tls_port, self.certificate = tls_port, certificate
        self.error_log, self.access_log = logs / "error.log", logs / "access.log"

    def url(self, path=""):
        """Return the https URL of a path through nginx."""
        return self.base + path

    def browser(self, address="127.0.0.1"):
        """Return a requests session that trusts the site's certificate, connecting from `address`."""
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE would win over `verify` (and *_proxy apply)
        session.verify = str(self.certificate)
        adapter = SourceAddress(address)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


def shipped_config(substitutions):
    """Return the shipped file with each (shipped, local) text replaced, failing unless each occurs exactly once."""
    config = SHIPPED.read_text()
    for shipped, local in substitutions:
        assert config.count(shipped) == 1, f"{SHIPPED.name} no longer has exactly one {shipped!r}"
        config = config.replace(shipped, local)
    return config


def top_level_config(directory, include, probe_port):
    """Return an nginx.conf that keeps everything in `directory`, includes the site at http level, and answers
    /ready on probe_port (for flasky.testing.Server's readiness poll)."""
    # As root (CI), nginx would run its workers as nobody, who may not read the checkout or the temporary folder.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    return f"""{user}daemon off;
worker_processes 1;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} notice;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format upstreams '$request_method $uri $status upstreams=$upstream_addr';
    access_log {directory / 'access.log'} upstreams;
{temp}
    include {include};
    server {{
        listen 127.0.0.1:{probe_port};
        location = /ready {{
            return 200;
        }}
    }}
}}
"""


def self_signed_certificate(directory):
    """Make a certificate for 127.0.0.1 and its key; return their paths."""
    certificate, key = directory / "site.pem", directory / "site.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(certificate), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return certificate, key


def node(database_url, redis_url, smtp_port, log_path):
    """Return a (not yet started) node: the README's production command, behind one proxy, sharing the rest."""
    return Gunicorn(log_path=log_path, **PRODUCTION, env={
        "FLASK_CONFIG": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "TRUSTED_HOSTS": "127.0.0.1",
        "PROXY_FIX_X_FOR": "1",
        "PROXY_FIX_X_PROTO": "1",
        "REDIS_URL": redis_url,  # the rate limit counted once for all nodes, and the live feed's wake-ups
        "FLASKY_LIVE_WAKEUP_POLL_SECONDS": str(WAKEUP_POLL_SECONDS),
        "RATELIMIT_NAME_FORM": f"{NAME_LIMIT} per hour",
        # A stream whose client left is noticed at its next heartbeat: soon, so that stopping a node never waits.
        "FLASKY_LIVE_HEARTBEAT_SECONDS": "1",
        "FLASKY_ADMIN": ADMIN,
        "FLASKY_BASE_URL": "https://flasky.example.com",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_USE_TLS": "false",
        "MAIL_TIMEOUT": "20",
        "FLASKY_MAIL_LEASE_SECONDS": str(LEASE_SECONDS),
        "FLASKY_MAIL_POLL_SECONDS": "0.5",
        "FLASKY_MAIL_DIGEST_LIMIT": "1000",  # one mail per name, never a digest
    })


@pytest.fixture(scope="module")
def smtp_sink():
    """An SMTP server for the module; `.mailbox` holds what it received."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def cluster(postgres, smtp_sink, tmp_path_factory):
    """nginx with the shipped file in front of two nodes, one database, one Redis; yield (site, nodes)."""
    if shutil.which(NGINX) is None:
        pytest.fail("nginx is missing: install it with `bash tests/system-packages.sh`")
    directory = tmp_path_factory.mktemp("nginx")
    database_url = postgres.create_database(f"nginx_{uuid.uuid4().hex[:8]}")
    with running_redis(directory) as redis:
        nodes = [node(database_url, redis.url, smtp_sink.port, directory / f"node{n}.log") for n in (1, 2)]
        migrate(nodes[0].env)
        certificate, key = self_signed_certificate(directory)
        tls_port, plain_port, probe_port = free_port(), free_port(), free_port()
        (directory / "flasky.conf").write_text(shipped_config([
            ("server 10.0.0.11:8000 ", f"server 127.0.0.1:{nodes[0].port} "),
            ("server 10.0.0.12:8000 ", f"server 127.0.0.1:{nodes[1].port} "),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;"),
            ("listen 80;", f"listen 127.0.0.1:{plain_port};"),
            ("/etc/ssl/certs/flasky.example.com.pem;", f"{certificate};"),
            ("/etc/ssl/private/flasky.example.com.key;", f"{key};"),
            ("alias /srv/flasky/static/;", f"alias {resource_root() / 'static'}/;"),
        ]))
        conf = directory / "nginx.conf"
        conf.write_text(top_level_config(directory, directory / "flasky.conf", probe_port))
        command = [NGINX, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        # nginx 1.25.1 and later warn that `listen ... http2` is deprecated (the file says what to write there).
        warnings = [line for line in checked.stderr.splitlines() if "[warn]" in line and "http2" not in line]
        assert warnings == []
        proxy = Server(command, port=probe_port, ready_path="/ready", log_path=directory / "nginx.out")
        try:
            for each in nodes:
                each.start()
            with proxy:
                yield Site(tls_port, plain_port, certificate, directory), nodes
        finally:
            for each in nodes:
                each.stop()


@pytest.fixture(scope="module")
def site(cluster):
    """The site through nginx."""
    return cluster[0]


@pytest.fixture(scope="module")
def nodes(cluster):
    """The two nodes behind it (flasky.testing.Gunicorn), each reachable directly too."""
    return cluster[1]


def database_rows(node, query):
    """Run a query on the nodes' database; return its rows."""
    engine = create_engine(node.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(text(query)).all()
    finally:
        engine.dispose()


def listed_names(event):
    """Return the names a greetings event's panel lists, newest first."""
    return [item.a.get_text() for item in BeautifulSoup(event["data"], "html.parser").select("#recent-greetings li")]


def wait_for_name(stream, name, timeout):
    """Read a stream's events until one lists `name` (bounded); return that event, or None."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = stream.next_event(timeout=left)
        if event is not None and name in listed_names(event):
            return event
    return None


# --- pages, fragments, languages and static files through nginx -----------------------------------------------


def test_pages_fragments_and_the_language_choice_go_through(site):
    with site.browser() as browser:
        page = browser.get(site.url("/"), timeout=30)
        fragment = browser.get(site.url("/greetings/recent"), headers={"HX-Request": "true"}, timeout=30)
        chosen = browser.post(site.url("/language"), data={"lang": "zh", "next": "/"},
                              headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False, timeout=30)
        chinese = browser.get(site.url(chosen.headers["Location"]), timeout=30)
    assert page.status_code == 200 and text_of(page, "greeting-heading") == "Hello, Stranger!"
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000", "the app saw https (X-Forwarded-Proto)"
    assert "Secure" in page.headers["Set-Cookie"]
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert soup_of(fragment).find(id="recent-greetings") is not None
    assert (chosen.status_code, chosen.headers["Location"]) == (303, "/")
    assert soup_of(chinese).html["lang"] == "zh-CN" and text_of(chinese, "greeting-heading") == "你好，陌生人！"


def test_forged_forwarded_headers_are_replaced_by_nginx(site):
    with site.browser() as browser:
        page = browser.get(site.url("/"), headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"},
                           timeout=30)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000", "still https to the app"


@pytest.mark.parametrize("path, gzip", [("app.css", False), ("vendor/htmx-2.0.11/htmx.min.js", True),
                                        ("vendor/htmx-2.0.11/htmx.min.js", False)])
def test_static_files_come_from_nginx_with_a_year_of_cache(site, path, gzip):
    folder = resource_root() / "static"
    with site.browser() as browser:
        url = soup_of(browser.get(site.url("/"), timeout=30)).select_one(f'[src^="/static/{path}?v="], '
                                                                         f'[href^="/static/{path}?v="]')
        answer = browser.get(site.url(url.get("src") or url.get("href")),
                             headers={"Accept-Encoding": "gzip" if gzip else "identity"}, timeout=30)
    sent = folder / (path + ".gz" if gzip else path)
    stat = sent.stat()
    assert answer.status_code == 200 and answer.content == (folder / path).read_bytes()
    # nginx's own validator, "<mtime>-<size>" in hex, for the very file sent (the app's looks different).
    assert answer.headers["ETag"] == f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'
    assert answer.headers["Cache-Control"] == "public, max-age=31536000"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers.get("Content-Encoding") == ("gzip" if gzip else None)
    assert answer.headers.get("Vary") == ("Accept-Encoding" if path.startswith("vendor/") else None)
    assert "Content-Security-Policy" not in answer.headers, "not the app's answer"


@pytest.mark.parametrize("path", ["/static/../pyproject.toml", "/static/%2e%2e/flasky/config.py",
                                  "/static/..%2f..%2fetc%2fpasswd", "/static/vendor/../../../etc/passwd"])
def test_path_traversal_under_static_finds_nothing(site, path):
    # http.client sends the path as is (requests would resolve the dot segments itself).
    context = ssl.create_default_context(cafile=str(site.certificate))
    connection = http.client.HTTPSConnection("127.0.0.1", site.tls_port, timeout=30, context=context)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    assert response.status in (400, 404)
    assert "root:" not in body and "SECRET_KEY" not in body and "[project]" not in body


def test_tls_offers_http2_and_plain_http_redirects_to_it(site):
    context = ssl.create_default_context(cafile=str(site.certificate))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", site.tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            protocol = tls.selected_alpn_protocol()
    plain = requests.get(f"http://127.0.0.1:{site.plain_port}/user/Ann?x=1", allow_redirects=False, timeout=30)
    assert protocol == "h2"
    assert (plain.status_code, plain.headers["Location"]) == (301, "https://127.0.0.1/user/Ann?x=1")


# --- the live panel across nodes --------------------------------------------------------------------------------


def test_a_greeting_through_nginx_reaches_the_streams_of_both_nodes(site, nodes):
    name = f"Fan-out {uuid.uuid4().hex[:6]}"
    streams = []
    try:
        # One stream held by each node, and one through nginx (whichever node it picks).
        for url, options in [*((each.url("/greetings/stream"), {}) for each in nodes),
                             (site.url("/greetings/stream"), {"verify": str(site.certificate)})]:
            streams.append(Stream(url, **options))  # one by one: each opened is closed, whatever fails next
        assert [stream.response.status_code for stream in streams] == [200] * 3, "each node subscribed its stream"
        assert streams[-1].response.headers["Content-Type"].startswith("text/event-stream")
        with site.browser("127.0.0.4") as browser:
            posted = time.monotonic()
            assert submit(browser, site, name, htmx=True).status_code == 200
        received = [wait_for_name(stream, name, FANOUT_SECONDS) for stream in streams]
        elapsed = time.monotonic() - posted
    finally:
        for stream in streams:
            stream.close()
    assert all(event is not None for event in received), [event is not None for event in received]
    assert elapsed < FANOUT_SECONDS
    assert len({event["id"] for event in received}) == 1, "the same event, whichever node sent it"


# --- the rate limit, per real client ----------------------------------------------------------------------------


def test_the_rate_limit_counts_each_real_client_once_whichever_node_serves_it(site, nodes):
    with site.browser("127.0.0.2") as limited, site.browser("127.0.0.3") as other:
        token = load_form(limited, site)
        answers = [submit(limited, site, f"Limited {n}", token=token).status_code for n in range(NAME_LIMIT + 1)]
        forged = limited.post(site.url("/"), data={"csrf_token": token, "name": "Forged"},
                              headers={"X-Forwarded-For": "198.51.100.7"}, allow_redirects=False, timeout=30)
        elsewhere = submit(other, site, "Other client")
    # Straight to each node, as nginx would pass them: the address over its limit, and one that is not.
    direct = {(each.port, address): requests.post(each.url("/"), data={"name": "Direct"},
                                                  headers={"X-Forwarded-For": address}, timeout=30).status_code
              for each in nodes for address in ("127.0.0.2", "192.0.2.10")}
    assert answers == [303] * NAME_LIMIT + [429], "counted once a request, across both nodes"
    assert forged.status_code == 429, "a forged X-Forwarded-For is replaced, not appended to"
    assert elsewhere.status_code == 303, "another client is counted apart"
    assert direct == {**{(each.port, "127.0.0.2"): 429 for each in nodes},
                      **{(each.port, "192.0.2.10"): 400 for each in nodes}}, "429 on both; else the CSRF check"


# --- a node killed under load ------------------------------------------------------------------------------------


def mail_names(smtp_sink, names):
    """Count the admin mails naming each of `names`."""
    bodies = [message.get_body(("plain",)).get_content() for _, _, message in smtp_sink.mailbox.messages]
    return {name: sum(name in body for body in bodies) for name in names}


def load(site, stop, results):
    """GET / through nginx until told to stop (or LOAD_MAX_REQUESTS), noting each status or error."""
    with site.browser() as browser:
        for _ in range(LOAD_MAX_REQUESTS):
            if stop.is_set():
                return
            try:
                results.append(browser.get(site.url("/"), timeout=30).status_code)
            except requests.RequestException as error:
                results.append(type(error).__name__)


def submit_to(node, name):
    """Submit a name as htmx straight to one node, over plain HTTP (its Secure session cookie sent back anyway)."""
    with requests.Session() as browser:
        browser.get(node.url("/"), timeout=30)
        for cookie in browser.cookies:
            cookie.secure = False
        return submit(browser, node, name, htmx=True)


def last_event(stream, seen):
    """Return the last event a stream queued, or `seen` when it queued none since."""
    while (event := stream.next_event(timeout=0)) is not None:
        seen = event
    return seen


def outbox_count(node, status):
    """Count the outbox's messages in these statuses (a comma-separated SQL list)."""
    return database_rows(node, f"SELECT count(*) FROM mail_outbox WHERE status IN ({status})")[0][0]


def test_a_node_killed_under_load_loses_no_page_no_greeting_and_no_mail(site, nodes, smtp_sink):
    victim = nodes[0]
    tag = uuid.uuid4().hex[:6]
    mailed = [f"Mailed {tag} {n}" for n in range(2)]
    meanwhile = [f"Meanwhile {tag} {n}" for n in range(3)]
    everything = mailed + meanwhile
    hold = smtp_sink.mailbox.hold = threading.Event()
    stop, results = threading.Event(), []
    streams, resumed, threads = [], [], []
    try:
        # Streams through nginx, which spreads them over the two nodes (fewest connections first).
        for _ in range(4):
            streams.append(Stream(site.url("/greetings/stream"), verify=str(site.certificate)))
        assert [stream.response.status_code for stream in streams] == [200] * 4
        # New names posted to the node about to die: it claims their mails, which the SMTP server holds mid-send.
        assert [submit_to(victim, name).status_code for name in mailed] == [200] * 2
        assert wait_until(lambda: outbox_count(victim, "'sending'") == len(mailed)
                          and smtp_sink.mailbox.holding.is_set(), 15), "claimed, and held mid-send"
        seen = {id(stream): wait_for_name(stream, mailed[-1], 10) for stream in streams}
        assert all(seen.values()), "every stream follows"

        threads = [threading.Thread(target=load, args=(site, stop, results)) for _ in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        assert wait_until(lambda: len(results) >= 20, 30)
        os.killpg(victim.process.pid, signal.SIGKILL)  # the master and its workers, with no goodbye
        victim.process.wait(timeout=10)
        served_at_kill = len(results)
        assert wait_until(lambda: any(stream.ended() for stream in streams), 10)

        with site.browser("127.0.0.6") as browser:
            token = load_form(browser, site)
            assert [submit(browser, site, name, htmx=True, token=token).status_code for name in meanwhile] == [200] * 3
        cut = [stream for stream in streams if stream.ended()]
        hold.set()
        # The cut streams come back through nginx, as EventSource does, with the id of the last event they had.
        for stream in cut:
            resumed.append(Stream(site.url("/greetings/stream"), verify=str(site.certificate),
                                  headers={"Last-Event-ID": last_event(stream, seen[id(stream)])["id"]}))
        replayed = [wait_for_name(stream, meanwhile[-1], 10) for stream in resumed]
        followed = [wait_for_name(stream, meanwhile[-1], 10) for stream in streams if stream not in cut]
        assert wait_until(lambda: len(results) >= served_at_kill + 40, 30), "pages kept coming"
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert wait_until(lambda: min(mail_names(smtp_sink, everything).values()) >= 1
                          and outbox_count(victim, "'pending', 'sending'") == 0, 30), "all sent, none left"
        taken_over = database_rows(victim, "SELECT count(*) FROM mail_outbox WHERE attempts > 1")[0][0]
    finally:
        hold.set()
        smtp_sink.mailbox.hold = None
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        for stream in streams + resumed:
            stream.close()
        victim.stop()
        victim.start()  # the node's next life, for the module's other tests

    failed = [result for result in results if result != 200]
    assert len(failed) <= LOAD_THREADS, f"at most the requests in flight at the kill: {failed}"
    # nginx met the dead node (a request in flight cut before its answer, or a connection refused), sent the
    # request on to the other, and left the dead one alone for a while.
    tried_both = f"200 upstreams=127.0.0.1:{victim.port}, 127.0.0.1:{nodes[1].port}"
    assert tried_both in site.access_log.read_text(), "a request the dead node failed was answered by the other"
    assert "upstream server temporarily disabled" in site.error_log.read_text()
    assert 1 <= len(cut) < len(streams), "the dead node's streams ended, the other's went on"
    assert all(event is not None for event in replayed), "reconnected with Last-Event-ID, nothing missed"
    assert all(set(meanwhile) <= set(listed_names(event)) for event in replayed)
    assert all(event is not None for event in followed)
    assert mail_names(smtp_sink, everything) == dict.fromkeys(everything, 1), "every mail exactly once"
    assert taken_over >= 1, "a mail the dead node held was sent by the other after its lease"
