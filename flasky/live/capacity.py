"""How many streams a process may hold: none where a waiting stream would starve pages, never past a share of its
server's slots.

A stream waits for minutes. Under a server that serves one request at a time per process (gunicorn's default sync
worker, any prefork server: `wsgi.multithread` is false) one held stream takes the whole process; under a fixed pool
of threads (waitress's 4, gunicorn's gthread) each takes a thread that pages need. So a process holds streams only
where it knows how many requests its server serves at once (its slots), and then at most FLASKY_LIVE_STREAM_SHARE of
them, always leaving FLASKY_LIVE_PAGE_SLOTS for pages, and never more than FLASKY_LIVE_STREAMS:

- flasky.serving's worker (the README's production command) says so in the environ, under SLOTS_KEY: its
  worker_connections, each a greenlet, so that a waiting stream costs no thread;
- for any other threaded server the operator says so: FLASKY_LIVE_SERVER_SLOTS, its number of threads;
- Werkzeug's development server (`flask run`) starts a thread per request: it has no fixed pool to exhaust.

Any other server holds none: its streams answer 503 with Retry-After, and pages poll.
"""

SLOTS_KEY = "flasky.slots"  # in the WSGI environ: how many requests this process's server serves at once
UNBOUNDED = float("inf")  # a thread per request (Werkzeug's development server)


def server_slots(environ, config):
    """Return how many requests this request's server serves at once in this process: 0 when one at a time or
    unknown, UNBOUNDED for a thread per request."""
    if not environ.get("wsgi.multithread"):
        return 0
    slots = environ.get(SLOTS_KEY) or config["FLASKY_LIVE_SERVER_SLOTS"]
    if slots:
        return slots
    return UNBOUNDED if environ.get("SERVER_SOFTWARE", "").startswith("Werkzeug/") else 0


def stream_limit(environ, config):
    """Return how many streams this process may hold under this request's server (0: none)."""
    slots = server_slots(environ, config)
    if slots is UNBOUNDED:
        return config["FLASKY_LIVE_STREAMS"]
    share = min(int(slots * config["FLASKY_LIVE_STREAM_SHARE"]), slots - config["FLASKY_LIVE_PAGE_SLOTS"])
    return max(0, min(config["FLASKY_LIVE_STREAMS"], share))


def why_none(environ, config):
    """Say, for the operator's log, why this request's server holds no stream and what to do about it."""
    server = environ.get("SERVER_SOFTWARE") or "an unnamed server"
    if not environ.get("wsgi.multithread"):
        reason = f"{server} serves one request at a time per process"
    elif not server_slots(environ, config):
        reason = f"{server} does not say how many requests it serves at once (set FLASKY_LIVE_SERVER_SLOTS to its threads)"
    else:
        reason = (f"{server} serves {server_slots(environ, config)} requests at once, too few to spare "
                  f"{config['FLASKY_LIVE_PAGE_SLOTS']} for pages (FLASKY_LIVE_PAGE_SLOTS)")
    return (f"Live feed: streams are refused and pages poll, because {reason}. The README's production command "
            "(-k flasky.serving.StreamWorker) holds thousands.")
