"""Time Flasky's views in-process, as gunicorn calls them (app(environ, start_response)), against the bare route.

    .venv/bin/python bench/inprocess.py                        # ms per request for every case
    .venv/bin/python bench/inprocess.py get_full htmx_post_known
    .venv/bin/python bench/inprocess.py --profile htmx_post_new  # cProfile, top functions by cumulative time
    .venv/bin/python bench/inprocess.py --names 0                # without the directory's seeded names

No server, no sockets: this isolates what the app itself costs per request, which is what bench/run.py's ratios
mostly depend on. bench/run.py's production settings (rate limiter on, its name-form limit raised; mail delivery
off), a fresh SQLite file (WAL), FLASKY_ADMIN set so that new names also write the outbox row, and --names fake names
seeded for the directory's cases (the first page, a search as typed, the names "More names" adds). Prints the best
of five rounds for each case.
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

from bs4 import BeautifulSoup

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.run import csrf_token, flasky_env  # noqa: E402  (bench/ is run as scripts, not installed)
from flasky.testing import BIN, migrate  # noqa: E402

ROUNDS, PER_ROUND, WARM_UP = 5, 500, 200


def environ_factory(method="GET", path="/", body="", headers=None):
    """Return a function making a fresh WSGI environ for one request (built once, copied per call)."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path, method=method, data=body.encode() or None, headers=headers or {},
        content_type="application/x-www-form-urlencoded" if body else None, base_url="http://127.0.0.1:8000")
    environ = builder.get_environ()
    payload = environ["wsgi.input"].read()

    def make():
        fresh = dict(environ)
        fresh["wsgi.input"] = io.BytesIO(payload)
        return fresh

    return make


def call(app, make_environ):
    """Run one request through the WSGI app and consume its body, as a server would."""
    statuses = []
    body = app(make_environ(), lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return statuses[0]


def build_cases(app, bare):
    """Prepare each case: a visitor without cookies, a returning known visitor, a stream of new names."""
    client = app.test_client()
    first = client.get("/")
    token = csrf_token(first.get_data(as_text=True))
    cookie = first.headers["Set-Cookie"].split(";", 1)[0]
    for _ in range(2):  # the second time, the session says "known", as a returning browser's would
        known = client.post("/", data={"csrf_token": token, "name": "Known"}, headers={"HX-Request": "true"})
    known_cookie = known.headers["Set-Cookie"].split(";", 1)[0]
    numbers, run = count(), secrets.token_hex(3)
    template = f"csrf_token={token}&name=n-{run}-" + "0" * 8  # every body the same length: one environ fits all
    new_name_environ = environ_factory("POST", "/", template, {"HX-Request": "true", "Cookie": cookie})

    def new_name():
        environ = new_name_environ()
        environ["wsgi.input"] = io.BytesIO(f"{template[:-8]}{next(numbers):08d}".encode())
        return environ

    htmx = {"HX-Request": "true"}
    listing = client.get("/users").get_data(as_text=True)
    more_url = BeautifulSoup(listing, "html.parser").select_one("#directory-more a[rel=next]")
    directory = {
        "directory_page": (app, environ_factory(path="/users")),
        "directory_search": (app, environ_factory(path="/users?q=an", headers={**htmx, "HX-Target": "directory-rows"})),
    }
    if more_url is not None:  # the same link in every tree: its hx-get, answered as htmx's "More names" asks it
        directory["directory_more"] = (app, environ_factory(path=more_url["hx-get"],
                                                            headers={**htmx, "HX-Target": "directory-more"}))
    return {
        "bare_flask_get": (bare, environ_factory()),
        "get_full": (app, environ_factory()),
        "get_boosted": (app, environ_factory(headers={"HX-Request": "true", "HX-Boosted": "true"})),
        "htmx_post_known": (app, environ_factory(
            "POST", "/", f"csrf_token={token}&name=Known", {"HX-Request": "true", "Cookie": known_cookie})),
        "htmx_post_new": (app, new_name),
        "user_page": (app, environ_factory(path="/user/Known")),
        "not_found": (app, environ_factory(path="/no/such/page")),
        **directory,
    }


def milliseconds_per_request(app, make_environ):
    """Return the best of ROUNDS rounds, in ms per request, after a warm-up."""
    for _ in range(WARM_UP):
        call(app, make_environ)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            call(app, make_environ)
        best = min(best, (time.perf_counter() - start) / PER_ROUND * 1000)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each case instead of timing it")
    parser.add_argument("--names", type=int, default=5000, help="fake names seeded for the directory's cases")
    args = parser.parse_args()

    database = Path(tempfile.mkdtemp()) / "inprocess.sqlite"
    # The same production settings bench/run.py gives its gunicorn server.
    os.environ.update(flasky_env(f"sqlite:///{database}", FLASKY_ADMIN="admin@example.com"))
    migrate(os.environ)
    if args.names:
        subprocess.run([str(BIN / "flask"), "--app", "flasky", "users", "seed", str(args.names), "--seed", "7"],
                       env={**os.environ, "FLASKY_MAIL_WORKER": "false"}, check=True, capture_output=True,
                       timeout=300)
    from bench.hello import app as bare
    from flasky import create_app

    cases = build_cases(create_app(), bare)
    for name in args.cases or cases:
        app, make_environ = cases[name]
        status = call(app, make_environ)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [call(app, make_environ) for _ in range(2000)])
            print(f"== {name} ({status})")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        else:
            print(f"{name:16} {milliseconds_per_request(app, make_environ):6.3f} ms  ({status})")


if __name__ == "__main__":
    main()
