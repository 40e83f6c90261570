"""Hold many server-sent event streams open on 127.0.0.1 with asyncio, and time one greeting's arrival on each.

    .venv/bin/python bench/streams.py --port 8000 --count 5000 --greet

bench/run.py uses run_crowd() for its streams scenario. Standard library only. Bounded: at most MAX_STREAMS streams,
every wait capped, every socket closed at the end whatever happens.
"""

import argparse
import asyncio
import re
import resource
import secrets
import statistics
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

HOST = "127.0.0.1"
STREAM_PATH = "/greetings/stream"
EVENT_NAME = b"greetings"
MAX_STREAMS = 20_000
SPARE_FILES = 100  # besides the streams: the event loop, wrk's pipes, the greeting's own connection
CLOSE_TIMEOUT = 5.0  # the most the end waits for the sockets to close
# The fields of an event this client needs (data: lines are skipped): found in one pass over the whole event.
FIELD = re.compile(rb"^(id|event)(?::[ ]?(.*))?$", re.M)
DIGITS = re.compile(rb"[0-9]{1,18}")
CSRF_INPUT = re.compile(r"<input\b[^>]*\bid=\"csrf_token\"[^>]*>")
VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")


@dataclass
class CrowdReport:
    """What a crowd of streams met: how many were held, refused or ended, and when one greeting reached each."""

    requested: int  # streams asked for
    held: int = 0  # answered 200 and still open when the greeting was posted
    refused: dict = field(default_factory=dict)  # status (None: no answer in time) -> count, for non-200 answers
    open_seconds: float = 0.0  # time to open all of them
    arrivals_ms: list = field(default_factory=list)  # per held stream: ms from the post to the first newer event
    missed: int = 0  # held streams that did not receive that event within the timeout
    ended_early: int = 0  # streams (answered 200) the server closed before the end of the measurement
    during_result: object = None  # what `during` returned

    def _quantile(self, share):
        """Return the nearest-rank quantile of the arrivals (None without any)."""
        ordered = sorted(self.arrivals_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None

    @property
    def p50_ms(self):
        """Return the median arrival (None without any)."""
        return statistics.median(self.arrivals_ms) if self.arrivals_ms else None

    @property
    def p99_ms(self):
        """Return the 99th percentile arrival (None without any)."""
        return self._quantile(0.99)

    @property
    def max_ms(self):
        """Return the slowest arrival (None without any)."""
        return max(self.arrivals_ms) if self.arrivals_ms else None


class Crowd:
    """Count the held streams still waiting for the greeting, and wake the measurement when none is left."""

    def __init__(self):
        self.waiting = 0
        self.settled = asyncio.Event()

    def settle(self):
        """Count one stream out: its greeting arrived, or it ended."""
        self.waiting -= 1
        if self.waiting <= 0:
            self.settled.set()


class Stream:
    """One stream: its connection, the HTTP answer's head, the last event id it read, and when the greeting came."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None
        self.status = None  # the answer's status (None: no answer in time)
        self.answered = asyncio.Event()  # set once the head was read, or the attempt failed
        self.chunked = False
        self.remaining = None  # the body's Content-Length, when given
        self.last_id = None  # the last event id read
        self.baseline = None  # last_id when the greeting was posted; the arrival is the first greetings event above it
        self.arrived_at = None  # monotonic time of that arrival
        self.crowd = None  # while the greeting is awaited
        self.ended = False  # the server ended the body, or the connection
        self.draining = False  # once the arrival is timed: read and drop, so the client costs the shared cores little

    async def run(self, gate, timeout):
        """Connect and read the head within timeout (at most gate's number of attempts at once), then the body."""
        try:
            async with gate:
                try:
                    self.status = await asyncio.wait_for(self.open(), timeout)
                except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ValueError, IndexError):
                    self.status = None
                finally:
                    self.answered.set()
            if self.status != 200:
                self.close()
                return
            try:
                await self.read_body()
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
                pass
            self.ended = True
            if self.crowd is not None and self.arrived_at is None:
                self.crowd.settle()
        finally:
            self.answered.set()

    async def open(self):
        """Connect, send the request and read the answer's head; return its status."""
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAccept: text/event-stream\r\n"
                          "Cache-Control: no-cache\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not self.chunked and headers.get("content-length", "").isdigit():
            self.remaining = int(headers["content-length"])
        return int(status_line.split()[1])

    async def read_body(self):
        """Read the body until the server ends it, feeding each piece to the event parser."""
        buffer = b""
        while True:
            data = await self.read_piece()
            if data is None:
                return
            if self.draining:
                buffer = b""
                continue
            if b"\r" in data or buffer.endswith(b"\r"):
                # An event stream's lines end in CRLF, CR or LF; a CR last in the buffer may be a CRLF's first half.
                buffer += data
                keep = b"\r" if buffer.endswith(b"\r") else b""
                buffer = buffer[:len(buffer) - len(keep)].replace(b"\r\n", b"\n").replace(b"\r", b"\n") + keep
            else:
                buffer += data
            if b"\n\n" not in buffer:
                continue
            *events, buffer = buffer.split(b"\n\n")
            now = time.monotonic()
            for event in events:
                self.dispatch(event, now)

    async def read_piece(self):
        """Return the body's next bytes, unframed from its chunks; None once the body or the connection ended."""
        if self.chunked:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                return None  # the last chunk: the body is complete (its trailers do not matter)
            data = await self.reader.readexactly(size + 2)
            if data[-2:] != b"\r\n":
                raise ValueError("a chunk not followed by CRLF")
            return data[:-2]
        if self.remaining is not None:
            if self.remaining <= 0:
                return None
            data = await self.reader.read(min(self.remaining, 65536))
            self.remaining -= len(data)
        else:
            data = await self.reader.read(65536)
        return data or None

    def dispatch(self, event, now):
        """Note one event's id, and if it is the first greetings event above the baseline, when it came."""
        event_id = name = None
        for found in FIELD.finditer(event):
            value = found[2] or b""
            if found[1] == b"id":
                event_id = value
            else:
                name = value
        if event_id is not None and DIGITS.fullmatch(event_id):
            self.last_id = int(event_id)
        if name != EVENT_NAME or event_id is None or self.last_id is None:
            return
        if self.crowd is not None and self.arrived_at is None and self.last_id > self.baseline:
            self.arrived_at = now
            self.crowd.settle()

    def close(self):
        """Close the connection (the socket goes at the event loop's next turn)."""
        if self.writer is not None:
            self.writer.close()


def fit_open_files(count):
    """Raise the soft open-file limit to fit count streams, or fail saying what the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + SPARE_FILES
    if wanted <= soft:
        return
    if hard != resource.RLIM_INFINITY and wanted > hard:
        raise RuntimeError(f"{count} streams need {wanted} open files, past this process's hard limit of {hard} "
                           f"(ulimit -Hn): ask for at most {hard - SPARE_FILES} streams, or raise the hard limit")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as error:
        raise RuntimeError(f"{count} streams need {wanted} open files; the soft limit {soft} could not be raised "
                           f"to that ({error})") from error


async def hold_streams(port, count, post_greeting, *, open_concurrency=200, connect_timeout=5.0,
                       arrival_timeout=10.0, settle_seconds=1.0, during=None):
    """Open count streams, post one greeting and time its arrival on each, then run `during` while all stay open."""
    if count > MAX_STREAMS:
        raise RuntimeError(f"at most {MAX_STREAMS} streams, not {count}")
    fit_open_files(count)
    report = CrowdReport(requested=count)
    gate = asyncio.Semaphore(open_concurrency)
    streams = [Stream(port) for _ in range(count)]
    tasks = []
    try:
        started = time.monotonic()
        tasks = [asyncio.create_task(stream.run(gate, connect_timeout)) for stream in streams]
        for stream in streams:
            await stream.answered.wait()  # each is bounded by connect_timeout once it passes the gate
        report.open_seconds = time.monotonic() - started
        for stream in streams:
            if stream.status != 200:
                report.refused[stream.status] = report.refused.get(stream.status, 0) + 1
        await asyncio.sleep(settle_seconds)

        held = [stream for stream in streams if stream.status == 200 and not stream.ended]
        report.held = len(held)
        crowd = Crowd()
        crowd.waiting = len(held)
        for stream in held:
            stream.baseline = stream.last_id if stream.last_id is not None else -1
            stream.crowd = crowd
        if not held:
            crowd.settled.set()
        posted = time.monotonic()
        await asyncio.to_thread(post_greeting)
        try:
            await asyncio.wait_for(crowd.settled.wait(), max(0.0, posted + arrival_timeout - time.monotonic()))
        except asyncio.TimeoutError:
            pass
        for stream in held:
            stream.draining = True
            if stream.arrived_at is not None:
                report.arrivals_ms.append((stream.arrived_at - posted) * 1000)
        report.missed = report.held - len(report.arrivals_ms)

        if during is not None:
            report.during_result = await asyncio.to_thread(during)
        report.ended_early = sum(stream.status == 200 and stream.ended for stream in streams)
        return report
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        writers = [stream.writer for stream in streams if stream.writer is not None]
        for writer in writers:
            writer.close()
        if writers:
            await asyncio.wait([asyncio.ensure_future(writer.wait_closed()) for writer in writers],
                               timeout=CLOSE_TIMEOUT)


def run_crowd(port, count, post_greeting, **options):
    """Run hold_streams() in an event loop of its own; return its CrowdReport."""
    return asyncio.run(hold_streams(port, count, post_greeting, **options))


def greet_through_the_form(port):
    """Return a function that greets a new name on the server through its form (a GET for the token, then a POST)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    base = f"http://{HOST}:{port}"

    def greet():
        """Greet a new random name: GET / for the CSRF token and session cookie, then POST the form to /."""
        with opener.open(base + "/", timeout=10) as page:
            cookie = "; ".join(header.split(";", 1)[0] for header in page.headers.get_all("Set-Cookie") or ())
            html = page.read().decode("utf-8", "replace")
        found = CSRF_INPUT.search(html)
        token = found and VALUE.search(found[0])
        if not token:
            raise RuntimeError(f"no csrf_token input in {base}/")
        body = urllib.parse.urlencode({"name": f"crowd-{secrets.token_hex(3)}", "csrf_token": token[1]}).encode()
        request = urllib.request.Request(base + "/", data=body, method="POST",
                                         headers={"Cookie": cookie,
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        with opener.open(request, timeout=10) as answer:
            answer.read()

    return greet


def main():
    """Open --count streams to a running server, greet once if asked, and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="a server on 127.0.0.1")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--greet", action=argparse.BooleanOptionalAction, default=False,
                        help="post a greeting through the form and time its arrival on every stream")
    parser.add_argument("--open-concurrency", type=int, default=200)
    parser.add_argument("--arrival-timeout", type=float, default=10.0)
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to keep the streams open after that")
    args = parser.parse_args()
    report = run_crowd(args.port, args.count, greet_through_the_form(args.port) if args.greet else (lambda: None),
                       open_concurrency=args.open_concurrency,
                       arrival_timeout=args.arrival_timeout if args.greet else 0.0,
                       during=(lambda: time.sleep(args.hold)) if args.hold > 0 else None)
    print(f"held {report.held} of {report.requested} (refused: {report.refused or 'none'}), opened in "
          f"{report.open_seconds:.2f} s, ended early {report.ended_early}")
    if args.greet:
        def ms(value):
            return "-" if value is None else f"{value:.1f}"
        print(f"arrival: p50 {ms(report.p50_ms)} ms, p99 {ms(report.p99_ms)} ms, max {ms(report.max_ms)} ms "
              f"({len(report.arrivals_ms)} timed); missed {report.missed}")


if __name__ == "__main__":
    main()
