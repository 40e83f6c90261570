"""Benchmark Flasky against a bare Flask route under identical gunicorn settings, with wrk on 127.0.0.1.

    .venv/bin/python bench/run.py                      # all scenarios, SQLite (WAL), 10 s each
    .venv/bin/python bench/run.py --duration 3 --only get_full,htmx_post_known
    .venv/bin/python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/run.py --write docs/performance.md   # also record the table
    .venv/bin/python bench/run.py --only directory_first_page,directory_search_hit_fragment --directory-names 20000
    .venv/bin/python bench/run.py --only get_full_no_streams,get_full_streams_open --streams 5000

Every server is started and stopped by this script (flasky.testing.Gunicorn); every load is bounded by --duration.
Flasky and the bare route run under the same gunicorn settings: the README's production command (--server sync: the
default sync worker, for comparison with the figures before issue 22). Flasky runs as deployed, Flask-Limiter
included (only the name form's limit is raised, see flasky_env). The wrk script posting the name form is
bench/post.lua. Prints a table: requests/s, p50, p99, errors, bytes per response and the ratio to the bare route,
measured again right after each scenario (this machine's speed drifts; the directory scenarios take turns with it in
rounds). The live-greetings scenarios hold --streams server-sent event streams open with bench/streams.py's asyncio
client, time one greeting's arrival on every one of them, then load `GET /` with wrk while they stay open.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

from bs4 import BeautifulSoup

from flasky.testing import BIN, PRODUCTION, Gunicorn, free_port, migrate
from streams import run_crowd

PROJECT = Path(__file__).resolve().parent.parent
POST_SCRIPT = PROJECT / "bench" / "post.lua"
SMTP_DELAY_SECONDS = 2.0


@dataclass
class Result:
    """What wrk measured for one scenario."""

    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    bytes_per_response: float
    ratio: float = 0.0
    baseline: float | None = None  # the bare route's requests/s measured right after this scenario
    rounds: list | None = None  # requests/s of each round, for scenarios run in alternating rounds


@contextlib.contextmanager
def slow_smtp_server():
    """Run an SMTP server on 127.0.0.1 that takes SMTP_DELAY_SECONDS per message; yield its port."""
    from aiosmtpd.controller import Controller

    class SlowHandler:
        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(SMTP_DELAY_SECONDS)
            return "250 Message accepted for delivery"

    port = free_port()
    controller = Controller(SlowHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def csrf_token(html):
    """Return the name form's CSRF token in a page."""
    return BeautifulSoup(html, "html.parser").select_one("#csrf_token")["value"]


def session_and_token(base):
    """Open a session like a browser would; return its Cookie header value and the form's CSRF token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "/", timeout=10) as response:
        html = response.read().decode()
    token = csrf_token(html)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token


def post_once(base, cookie, token, name):
    """Submit one name (htmx style); return the Cookie header a browser would send next (its session updated)."""
    request = urllib.request.Request(
        base + "/", data=f"csrf_token={token}&name={name}".encode(), method="POST",
        headers={"Cookie": cookie, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status
        set_cookie = response.headers.get("Set-Cookie")
    return set_cookie.split(";", 1)[0] if set_cookie else cookie


def post_headers(cookie, *, htmx=True):
    """The headers of a name-form POST in this session, sent by htmx or by a browser without JS (htmx=False)."""
    return {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
            **({"HX-Request": "true"} if htmx else {})}


def run_wrk(url, args, *, headers=None, post=None):
    """Warm the server up for a second (templates compiled, pools filled), then drive url for args.duration s.

    GETs url with the headers, or with post=(token, mode[, name]) runs bench/post.lua in that mode.
    """
    options = [option for name, value in (headers or {}).items() for option in ("-H", f"{name}: {value}")]
    for seconds in (1, args.duration):
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency", "--timeout",
                   "10s", *options]
        if post:
            token, mode, *name = post
            # New names get a prefix of their own in each wrk run: the warm-up's names stay out of the measured one.
            command += ["-s", str(POST_SCRIPT), url, "--", token, mode, *(name or [f"b{secrets.token_hex(4)}"])]
        else:
            command.append(url)
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    return output


def parse_wrk(name, output, *, expect_error_status=False):
    """Turn wrk's text report into a Result (a 4xx counts as an error unless the scenario expects it)."""
    def duration_ms(text):
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    def size_bytes(text):
        value, unit = re.fullmatch(r"([\d.]+)([KMG]?B)", text).groups()
        return float(value) * {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[unit]

    requests, read = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+\w+) read", output).groups()
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx and not expect_error_status else 0
    return Result(
        name=name,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=duration_ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        p99_ms=duration_ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        errors=errors,
        bytes_per_response=size_bytes(read) / max(int(requests), 1),
    )


# What --server names, as a line of the written results.
SERVERS = {"production": "the README's production command (gunicorn -k {worker_class} -w {workers} --worker-connections "
                         "{worker_connections} --keep-alive {keep_alive})".format(**PRODUCTION),
           "sync": "gunicorn -w 2 (the default sync worker)"}


def server_options(args):
    """Return the Gunicorn options of --server, for Flasky and the bare route alike."""
    return PRODUCTION if args.server == "production" else {"worker_class": "sync", "workers": 2}


def flasky_env(database_url, **extra):
    """Production settings for the benchmarked Flasky, rate limiter on as deployed (mail delivery off).

    wrk sends everything from one address, so the name form's limit is raised far past what it reaches: the limiter
    costs what it costs in production, and no request is refused.
    """
    return {"FLASK_CONFIG": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database_url,
            "FLASK_SESSION_COOKIE_SECURE": "false", "RATELIMIT_NAME_FORM": "1000000 per minute",
            "FLASKY_MAIL_WORKER": "false", "FLASKY_BASE_URL": "http://127.0.0.1", **extra}


MAIL_SCENARIOS = ["htmx_post_new_mail_off", "htmx_post_new_outbox_only", "htmx_post_new_slow_smtp"]
# The visitors directory over --directory-names fake names: the first page, a page past 90% of the rows, a
# 3-character search that hits and one that hits nothing, and a two-character Chinese one that hits a few (30 of
# 1,000,000 seeded names; too short for trigrams); each as a full page and as the htmx fragment.
DIRECTORY_PLANS = {"first": "/users", "deep": None, "search_hit": "/users?q=son", "search_miss": "/users?q=zqx",
                   "search_short": "/users?" + urlencode({"q": "春冬"})}
DIRECTORY_SCENARIOS = [f"directory_{plan}_{form}" for plan in DIRECTORY_PLANS for form in ("page", "fragment")]
# Live greetings: GET / with no event stream open and with --streams open (whose ratio is to the former), and one
# greeting's arrival on each of those streams.
LIVE_SCENARIOS = ["get_full_no_streams", "get_full_streams_open"]
SCENARIOS = ["get_full", "get_boosted", "htmx_post_known", "htmx_post_new", "nojs_post_redirect_get", "user_page",
             "not_found", *MAIL_SCENARIOS, *DIRECTORY_SCENARIOS, *LIVE_SCENARIOS]


def flasky_scenarios(base, wanted, args):
    """Run the Flasky scenarios that need no special server settings against one server."""
    cookie, token = session_and_token(base)
    # The known-name visitor is a returning one: their session already says they are known, as a browser's would.
    known_cookie = post_once(base, post_once(base, cookie, token, "Known"), token, "Known")
    plans = {
        "get_full": ("/", {}),
        "get_boosted": ("/", {"headers": {"HX-Request": "true", "HX-Boosted": "true"}}),
        "htmx_post_known": ("/", {"headers": post_headers(known_cookie), "post": (token, "fixed", "Known")}),
        "htmx_post_new": ("/", {"headers": post_headers(cookie), "post": (token, "new")}),
        "nojs_post_redirect_get": ("/", {"headers": post_headers(cookie, htmx=False), "post": (token, "new-then-get")}),
        "user_page": ("/user/Known", {}),
        "not_found": ("/no/such/page", {}),
    }
    for name, (path, load) in plans.items():
        if name in wanted:
            yield parse_wrk(name, run_wrk(base + path, args, **load), expect_error_status=name == "not_found")


def mail_latency_scenarios(database_dir, args, wanted):
    """Run new-name POSTs with no admin mail, with notes written but not delivered, and delivered to slow SMTP."""
    for name in MAIL_SCENARIOS:
        if name not in wanted:
            continue
        env = flasky_env(f"sqlite:///{database_dir}/{name}.sqlite")
        with contextlib.ExitStack() as stack:
            if name != "htmx_post_new_mail_off":
                env.update(FLASKY_ADMIN="admin@example.com")
            if name.endswith("slow_smtp"):
                port = stack.enter_context(slow_smtp_server())
                env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), MAIL_USE_TLS="false",
                           FLASKY_MAIL_WORKER="true",
                           # every note mailed on its own: the worker really talks to the slow server throughout
                           FLASKY_MAIL_DIGEST_LIMIT="1000000")
            server = Gunicorn(env=env, **server_options(args), cwd=PROJECT)
            migrate(server.env)
            base = stack.enter_context(server).base
            cookie, token = session_and_token(base)
            yield parse_wrk(name, run_wrk(base + "/", args, headers=post_headers(cookie), post=(token, "new")))


def seed(env, count):
    """Add count fake names to the database of these settings with `flask users seed` (reproducibly)."""
    result = subprocess.run([str(BIN / "flask"), "--app", "flasky", "users", "seed", str(count), "--seed", "1"],
                            env={**os.environ, **env}, cwd=PROJECT, capture_output=True, text=True, timeout=1800)
    if result.returncode:
        raise RuntimeError(f"flask users seed exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def deep_cursor(env, share=0.9):
    """Sign, as the app does, the cursor of the page that starts past `share` of the directory's rows."""
    from sqlalchemy import create_engine, text

    from flasky.directory.search import AFTER, sign_cursor

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
        row = connection.execute(text("SELECT id, last_seen FROM users ORDER BY last_seen DESC, id DESC "
                                      "LIMIT 1 OFFSET :skip"), {"skip": int(total * share)}).one()
    engine.dispose()
    last_seen = row.last_seen if not isinstance(row.last_seen, str) else datetime.fromisoformat(row.last_seen)
    return sign_cursor(AFTER, last_seen, row.id, secret_key=env["SECRET_KEY"])


def directory_scenarios(database_url, args, wanted, bare_route):
    """Seed --directory-names names, then run the directory scenarios against one server in --directory-rounds rounds.

    The scenarios and the bare route take turns (in reverse order every other round), so that each meets the same
    moments of this machine's drift: a scenario keeps its median round, and its ratio is the median of its rounds'
    ratios to the bare route of the same round; deep_page_ratios() compares the first and deep page likewise.
    """
    names = [name for name in DIRECTORY_SCENARIOS if name in wanted]
    if not names:
        return
    server = Gunicorn(env=flasky_env(database_url), **server_options(args), cwd=PROJECT)
    migrate(server.env)
    if args.directory_names:
        print(seed(server.env, args.directory_names), file=sys.stderr)
    plans = {**DIRECTORY_PLANS, "deep": f"/users?cursor={deep_cursor(server.env)}"}
    forms = {"page": {}, "fragment": {"HX-Request": "true", "HX-Target": "directory-rows"}}
    rounds, bare = {name: [] for name in names}, []
    with server:
        for number in range(args.directory_rounds):
            for name in [*names, "bare"] if number % 2 == 0 else ["bare", *reversed(names)]:
                if name == "bare":
                    bare.append(bare_route().requests_per_second)
                    continue
                plan, form = re.fullmatch(r"directory_(\w+)_(page|fragment)", name).groups()
                rounds[name].append(parse_wrk(name, run_wrk(server.url(plans[plan]), args, headers=forms[form])))
    print("bare route rounds: " + ", ".join(f"{value:,.0f}/s" for value in bare), file=sys.stderr)
    for name, results in rounds.items():
        print(f"{name} rounds: " + ", ".join(f"{r.requests_per_second:,.0f}/s" for r in results), file=sys.stderr)
        median = sorted(results, key=lambda result: result.requests_per_second)[len(results) // 2]
        median.rounds = [result.requests_per_second for result in results]
        median.ratio = statistics.median(value / baseline for value, baseline in zip(median.rounds, bare))
        yield median


def deep_page_ratios(results):
    """Return {form: the deep page's requests/s over the first page's, the median of their rounds' ratios}."""
    by_name = {result.name: result for result in results}
    ratios = {}
    for form in ("page", "fragment"):
        first, deep = by_name.get(f"directory_first_{form}"), by_name.get(f"directory_deep_{form}")
        if first and deep and first.rounds and len(first.rounds) == len(deep.rounds):
            ratios[form] = statistics.median(d / f for f, d in zip(first.rounds, deep.rounds))
    return ratios


# A server notices that a client left only when it next writes to the stream: a greeting (every stream gets each) or
# a heartbeat. Production's heartbeat comes every 15 s; with no greetings to write, the benchmark's come every 2 s,
# so that the streams a round closed are let go of before the next round opens its own.
IDLE_HEARTBEAT_SECONDS = 2


def heartbeat_seconds(args):
    """Return the streams' heartbeat interval: production's, unless no greeting is written between rounds."""
    return 15 if args.live_greetings_per_second >= 1 else IDLE_HEARTBEAT_SECONDS


def live_server(database_url, args):
    """Flasky served as --server serves it, its streams' heartbeats every heartbeat_seconds()."""
    env = flasky_env(database_url, FLASKY_LIVE_HEARTBEAT_SECONDS=str(heartbeat_seconds(args)))
    return Gunicorn(env=env, **server_options(args), cwd=PROJECT)


def resident_kib(server):
    """Return the resident memory (KiB) of a gunicorn master and its workers."""
    children = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in [str(server.process.pid), *children]:
        with contextlib.suppress(FileNotFoundError), open(f"/proc/{pid}/status") as status:
            total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return total


@contextlib.contextmanager
def greeter(base, per_second):
    """Greet a new name per_second times a second in a thread (as visitors elsewhere would), until the block ends."""
    if per_second <= 0:
        yield
        return
    cookie, token = session_and_token(base)
    stop = threading.Event()
    prefix = f"g{secrets.token_hex(3)}"

    def greet():
        number = 0
        while not stop.wait(1 / per_second):
            post_once(base, cookie, token, f"{prefix}{number}")
            number += 1

    thread = threading.Thread(target=greet, name="greeter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=15)


@dataclass
class Crowd:
    """What --streams streams held open cost and received: bench/streams.py's report, and the memory they took."""

    report: object
    kib_per_stream: float


def live_scenarios(database_dir, args, wanted, crowds):
    """GET / with no stream open, then with --streams held by bench/streams.py's asyncio client (each round posts a
    greeting and times its arrival on every stream first), a name greeted every second throughout; alternated
    --live-rounds times, the median round kept. Each round's Crowd is appended to crowds."""
    if not wanted & {"get_full_no_streams", "get_full_streams_open"}:
        return
    server = live_server(f"sqlite:///{database_dir}/live.sqlite", args)
    migrate(server.env)
    with server:
        cookie, token = session_and_token(server.base)
        for number in range(10):  # a full panel from the start: both runs render pages of the same size
            post_once(server.base, cookie, token, f"Early {number}")
        rounds = {"get_full_no_streams": [], "get_full_streams_open": []}
        # The same greetings in both runs, so the only difference is the streams (and the events they are sent).
        with greeter(server.base, args.live_greetings_per_second):
            for _ in range(args.live_rounds):
                rounds["get_full_no_streams"].append(parse_wrk("get_full_no_streams", run_wrk(server.url("/"), args)))
                if "get_full_streams_open" in wanted:
                    rounds["get_full_streams_open"].append(streams_open(server, args, crowds))
    for name, results in rounds.items():
        if results:
            print(f"{name} rounds: " + ", ".join(f"{r.requests_per_second:,.0f}/s" for r in results), file=sys.stderr)
            yield sorted(results, key=lambda result: result.requests_per_second)[len(results) // 2]


def streams_open(server, args, crowds):
    """Hold --streams streams, time one greeting's arrival on each, then run wrk on GET / while they stay open; fail
    unless every stream was held and received the greeting."""
    cookie, token = session_and_token(server.base)
    before = resident_kib(server)
    held_kib = []

    def load():
        held_kib.append(resident_kib(server))
        return parse_wrk("get_full_streams_open", run_wrk(server.url("/"), args))

    report = run_crowd(server.port, args.streams, lambda: post_once(server.base, cookie, token,
                                                                     f"s{secrets.token_hex(4)}"), during=load)
    if report.held != args.streams or report.missed or report.ended_early:
        raise RuntimeError(f"{report.held} of {args.streams} streams held ({report.refused} refused), {report.missed} "
                           f"missed the greeting, {report.ended_early} ended early:\n{server.log_text()[-3000:]}")
    crowds.append(Crowd(report, (held_kib[0] - before) / report.held))
    print(f"{report.held} streams: opened in {report.open_seconds:.1f} s, the greeting reached them all in "
          f"p50 {report.p50_ms:.0f} / p99 {report.p99_ms:.0f} / max {report.max_ms:.0f} ms", file=sys.stderr)
    time.sleep(min(heartbeat_seconds(args), 2) + 1)  # a greeting a second, or a heartbeat, finds the closed streams
    return report.during_result


def table(results, crowds=(), streams=5000):
    """Format the results as a Markdown table, with the mail and stream findings after it."""
    lines = [
        "| scenario | requests/s | p50 ms | p99 ms | errors | bytes/response | ratio to bare |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.requests_per_second:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | "
                     f"{r.bytes_per_response:,.0f} | {r.ratio:.2f}× |")
    by_name = {r.name: r for r in results}
    if set(MAIL_SCENARIOS) <= by_name.keys():
        off, outbox, slow = (by_name[name] for name in MAIL_SCENARIOS)
        lines.append("")
        lines.append(f"Mail latency: p99 of new-name POSTs while a worker delivers every note to a "
                     f"{SMTP_DELAY_SECONDS:.0f} s/message SMTP server is {slow.p99_ms / outbox.p99_ms:.2f}× the p99 with "
                     f"delivery off (target ≤ 1.2×); writing the outbox row itself costs "
                     f"{outbox.p99_ms / off.p99_ms:.2f}× at p99 against no admin mail at all.")
    if {"get_full_no_streams", "get_full_streams_open"} <= by_name.keys():
        none, crowd = by_name["get_full_no_streams"], by_name["get_full_streams_open"]
        lines.append("")
        lines.append(f"Live greetings: `GET /` with {streams:,} event streams held open (each sent every greeting) "
                     f"serves {crowd.requests_per_second / none.requests_per_second:.2f}× the requests/s of the same "
                     f"server with none open (target ≥ 0.8×), p99 {crowd.p99_ms:.2f} ms against "
                     f"{none.p99_ms:.2f} ms.")
    for number, found in enumerate(crowds, 1):
        report = found.report
        lines.append("")
        lines.append(f"Streams, round {number}: {report.held:,} held (opened in {report.open_seconds:.1f} s), "
                     f"{found.kib_per_stream:.0f} KiB each (the workers' resident memory); one greeting reached "
                     f"every one of them, p50 {report.p50_ms:.0f} ms, p99 {report.p99_ms:.0f} ms, the last "
                     f"{report.max_ms:.0f} ms after it was posted (target p99 ≤ 2 s).")
    ratios = deep_page_ratios(results)
    if ratios:
        lines.append("")
        lines.append("Deep page (a cursor past 90% of the names) against the first page, the median of the rounds' "
                     "requests/s ratios (target ≥ 0.90×): " + ", ".join(f"{ratio:.2f}× as the {form}"
                                                                       for form, ratio in ratios.items()) + ".")
    return "\n".join(lines)


def write_section(path, text):
    """Replace the results section of a Markdown file (between the bench markers), keeping the rest."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    document = path.read_text() if path.exists() else f"# Performance\n\n{start}\n{end}\n"
    before, _, rest = document.partition(start)
    _, _, after = rest.partition(end)
    path.write_text(f"{before}{start}\n{text}\n{end}{after}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--server", choices=SERVERS, default="production",
                        help="how gunicorn serves Flasky and the bare route alike: the README's production command "
                             "(default), or the default sync worker measured before issue 22")
    parser.add_argument("--database-url", help="benchmark on this database instead of a fresh SQLite file")
    parser.add_argument("--directory-names", type=int, default=100_000,
                        help="fake names seeded for the directory scenarios (the issue: 100,000 on SQLite, "
                             "1,000,000 on PostgreSQL; 0: the --database-url's names as they are)")
    parser.add_argument("--directory-rounds", type=int, default=3,
                        help="alternating rounds of the directory scenarios (each keeps its median round)")
    parser.add_argument("--streams", type=int, default=5000, help="event streams held open in get_full_streams_open")
    parser.add_argument("--live-rounds", type=int, default=3,
                        help="alternating runs of get_full_no_streams and get_full_streams_open (the median is kept)")
    parser.add_argument("--live-greetings-per-second", type=float, default=1.0,
                        help="new names greeted during get_full_no_streams and get_full_streams_open (0: idle streams)")
    parser.add_argument("--only", help="comma-separated scenarios: " + ", ".join(SCENARIOS))
    parser.add_argument("--write", type=Path, help="also write the results to this Markdown file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    wanted = set(args.only.split(",")) if args.only else set(SCENARIOS)

    results = []
    with tempfile.TemporaryDirectory() as tmp, \
            Gunicorn("bench.hello:app", **server_options(args), ready_path="/", cwd=PROJECT) as bare_server:

        def bare_route():
            return parse_wrk("bare_flask_get", run_wrk(bare_server.url("/"), args))

        def with_baseline(scenarios):
            # This machine's speed drifts by up to 2x within a run (shared cores): the bare route is measured
            # again right after each scenario, and each ratio is to that measurement.
            for result in scenarios:
                result.baseline = bare_route().requests_per_second
                yield result

        bare = bare_route()
        results.append(bare)
        database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        # New names write the admin's note to the outbox, as the "insert + outbox" asks; delivery is off
        # here (its cost is the mail-latency scenarios' subject).
        server = Gunicorn(env=flasky_env(database_url, FLASKY_ADMIN="admin@example.com"), **server_options(args),
                          cwd=PROJECT)
        migrate(server.env)
        with server:
            results.extend(with_baseline(flasky_scenarios(server.base, wanted, args)))
        results.extend(with_baseline(mail_latency_scenarios(tmp, args, wanted)))
        # A database of its own (on SQLite), so the name-form scenarios' rows do not count among the seeded ones.
        # Measured in rounds with the bare route: each ratio is already to the bare route of its own round.
        results.extend(directory_scenarios(args.database_url or f"sqlite:///{tmp}/directory.sqlite", args, wanted,
                                           bare_route))
        crowds = []
        results.extend(with_baseline(live_scenarios(tmp, args, wanted, crowds)))
    for result in results:
        result.ratio = result.ratio or result.requests_per_second / (result.baseline or bare.requests_per_second)
    baselines = [result.baseline for result in results if result.baseline]
    if baselines:
        print(f"The bare route ran at {min(baselines):,.0f}-{max(baselines):,.0f} requests/s between scenarios "
              f"({bare.requests_per_second:,.0f} first).", file=sys.stderr)
    report = table(results, crowds, args.streams)
    print(report)
    if args.write:
        header = (f"Run on {date.today().isoformat()}: {platform.platform()}, {os.cpu_count()} cores, Python "
                  f"{platform.python_version()}; {SERVERS[args.server]}, wrk -t{args.threads} "
                  f"-c{args.connections} -d{args.duration}s, database "
                  f"{'PostgreSQL' if args.database_url else 'SQLite (WAL)'}.")
        write_section(args.write, header + "\n\n" + report)


if __name__ == "__main__":
    main()
