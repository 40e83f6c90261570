"""Two nodes of the README's production command on one PostgreSQL and one Redis, on 127.0.0.1: what the live feed's
wake-ups (flasky/live/wakeup.py) buy and cost across them, each figure with FLASKY_LIVE_WAKEUPS off and on.

    .venv/bin/python bench/nodes.py                              # a throwaway PostgreSQL and redis-server
    .venv/bin/python bench/nodes.py --greetings 12 --streams 200 --idle-seconds 30 --duration 10 --rounds 2

- fan-out: --streams streams on node B; --greetings greetings, one at a time, through node A's form; for each, the
  time from the start of the greeting (its GET / and POST) to its arrival on the slowest of B's streams;
- idle: with the streams open on both nodes and nothing greeted, PostgreSQL's transactions per second
  (pg_stat_database's xact_commit + xact_rollback of the app's database, over --idle-seconds);
- POST: wrk's known- and new-name htmx POSTs on node A, in --rounds alternating off/on rounds: requests/s.
Everything it starts is stopped at the end; every load is bounded by its settings.
"""

import argparse
import contextlib
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from flasky.testing import PRODUCTION, Gunicorn, free_port, migrate
from run import PROJECT, flasky_env, parse_wrk, post_headers, post_once, run_wrk, session_and_token
from streams import greet_through_the_form, run_crowd

sys.path.insert(0, str(PROJECT))
from tests.postgres import PostgresCluster  # noqa: E402  (the suite's throwaway server, found from the project)

MODES = {"off": "false", "on": "true"}


@contextlib.contextmanager
def redis_server(folder):
    """Run a redis-server keeping nothing on disk; yield its URL."""
    port = free_port()
    subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--dir", str(folder)], check=True, timeout=30)
    try:
        for _ in range(100):
            ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=30)


@contextlib.contextmanager
def two_nodes(database_url, redis_url, wakeups):
    """Start node A and node B, the README's production command each, on the shared database and Redis."""
    env = flasky_env(database_url, REDIS_URL=redis_url, FLASKY_LIVE_WAKEUPS=MODES[wakeups])
    env["SECRET_KEY"] = secrets.token_urlsafe(48)  # one key for both: a session is good on either node
    nodes = [Gunicorn(env=env, **PRODUCTION, cwd=PROJECT) for _ in range(2)]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def fan_out(nodes, args):
    """Time each greeting through node A to the slowest of node B's streams; return the times (ms) and misses."""
    greet = greet_through_the_form(nodes[0].port)
    slowest, missed = [], 0
    for _ in range(args.greetings):
        report = run_crowd(nodes[1].port, args.streams, greet, arrival_timeout=5.0, settle_seconds=0.5)
        missed += report.missed + (args.streams - report.held)
        if report.max_ms is not None:
            slowest.append(report.max_ms)
    return slowest, missed


# A PostgreSQL backend reports its transactions to pg_stat_database when idle, at least every 10 s
# (PGSTAT_IDLE_INTERVAL): counting starts this long after the streams opened, so that none of before counts in.
STATS_SETTLE_SECONDS = 11


def transactions(database_url):
    """Return the committed and rolled-back transactions of the app's database so far, asked from another one."""
    url = make_url(database_url)
    with psycopg.connect(url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False),
                         autocommit=True) as connection:
        return connection.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                                  (url.database,)).fetchone()[0]


def idle(nodes, database_url, args):
    """Count the database's transactions per second while both nodes hold --streams streams and nobody greets."""
    def measure():
        time.sleep(STATS_SETTLE_SECONDS)
        before = transactions(database_url)
        time.sleep(args.idle_seconds)
        return (transactions(database_url) - before) / args.idle_seconds

    return run_crowd_on_both(nodes, args.streams, measure)


def run_crowd_on_both(nodes, count, during):
    """Hold count streams on node A and count on node B while during() runs; return what it returns."""
    return run_crowd(nodes[0].port, count, lambda: None, arrival_timeout=0.0,
                     during=lambda: run_crowd(nodes[1].port, count, lambda: None, arrival_timeout=0.0,
                                              during=during).during_result).during_result


def posts(nodes, args):
    """Measure node A's known- and new-name htmx POSTs with wrk; return requests/s by scenario."""
    base = f"http://127.0.0.1:{nodes[0].port}"
    cookie, token = session_and_token(base)
    known_cookie = post_once(base, post_once(base, cookie, token, "Known"), token, "Known")
    loads = {"htmx_post_known": {"headers": post_headers(known_cookie), "post": (token, "fixed", "Known")},
             "htmx_post_new": {"headers": post_headers(cookie), "post": (token, "new")}}
    return {name: parse_wrk(name, run_wrk(base + "/", args, **load)).requests_per_second
            for name, load in loads.items()}


def report(results, args):
    """Format the results as Markdown."""
    def ms(values):
        return f"{statistics.median(values):.0f} / {max(values):.0f}" if values else "-"

    lines = [f"Two nodes (README's production command each), one PostgreSQL, one Redis; {args.streams} streams a node; "
             f"{date.today().isoformat()}.", "",
             "| | wake-ups off | wake-ups on |", "| --- | --- | --- |",
             f"| fan-out A → B, median / worst of {args.greetings} (ms) | {ms(results['off']['fan_out'])} | "
             f"{ms(results['on']['fan_out'])} |",
             f"| streams that missed a greeting | {results['off']['missed']} | {results['on']['missed']} |",
             f"| idle: database transactions a second | {results['off']['idle']:.2f} | {results['on']['idle']:.2f} |"]
    if not args.greetings:
        del lines[4:7]
    for name in ("htmx_post_known", "htmx_post_new"):
        off, on = (statistics.median(results[mode][name]) for mode in MODES)
        lines.append(f"| {name}, requests/s (median of {args.rounds}) | {off:.0f} | {on:.0f} ({on / off:.2f}×) |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL database (not the server's 'postgres' one) to use "
                                               "instead of a throwaway server's")
    parser.add_argument("--greetings", type=int, default=12)
    parser.add_argument("--streams", type=int, default=200, help="streams held on each node")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="off/on rounds of the POST loads")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.database_url:
            database_url = args.database_url
        else:
            cluster = PostgresCluster()
            cluster.init().start()
            stack.callback(cluster.cleanup)
            with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as connection:
                connection.execute("CREATE DATABASE flasky")  # apart from the database the counts are asked from
            database_url = cluster.url("flasky")
        migrate(flasky_env(database_url))
        redis_url = stack.enter_context(redis_server(folder))
        results = {mode: {"htmx_post_known": [], "htmx_post_new": []} for mode in MODES}
        for round_number in range(args.rounds):
            for mode in MODES:
                with two_nodes(database_url, redis_url, mode) as nodes:
                    if round_number == 0:  # --greetings 0 --idle-seconds 0: the POST loads alone
                        results[mode]["fan_out"], results[mode]["missed"] = fan_out(nodes, args)
                        results[mode]["idle"] = idle(nodes, database_url, args) if args.idle_seconds else 0.0
                    for name, value in posts(nodes, args).items():
                        results[mode][name].append(value)
                print(f"round {round_number + 1}, wake-ups {mode}: {results[mode]}", flush=True)
    print(report(results, args))


if __name__ == "__main__":
    main()
