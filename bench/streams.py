"""Hold many server-sent event streams open on 127.0.0.1 with asyncio, and time one greeting's arrival on each.

    .venv/bin/python bench/streams.py --port 8000 --count 5000 --greet

bench/run.py uses run_crowd() for its streams scenario. Bounded: at most MAX_STREAMS streams, every wait capped, every
socket closed at the end whatever happens.
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

STREAM_PATH = "/greetings/stream"
MAX_STREAMS = 20_000
SPARE_FILES = 100  # besides the streams: the event loop, wrk's pipes, the greeting's own connection
EVENT_ID = re.compile(rb"^id: ([0-9]+)$", re.M)


@dataclass
class CrowdReport:
    """What a crowd of streams met: how many were held, refused or ended, and when one greeting reached each."""

    requested: int
    held: int = 0
    refused: dict = field(default_factory=dict)  # status (None: no answer in time) -> count
    open_seconds: float = 0.0
    arrivals_ms: list = field(default_factory=list)
    missed: int = 0
    ended_early: int = 0
    during_result: object = None

    def _quantile(self, share):
        ordered = sorted(self.arrivals_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None

    @property
    def p50_ms(self):
        return statistics.median(self.arrivals_ms) if self.arrivals_ms else None

    @property
    def p99_ms(self):
        return self._quantile(0.99)

    @property
    def max_ms(self):
        return max(self.arrivals_ms) if self.arrivals_ms else None


class Stream:
    """One stream: its connection, the last event id it read, and when each id arrived."""

    def __init__(self):
        self.reader = self.writer = None
        self.last_id = None
        self.arrived = {}  # event id -> monotonic time it was read
        self.ended = False
        self.draining = False  # once the arrival is timed: read and drop, so the client costs the shared cores little
        self.news = asyncio.Event()

    async def open(self, port, timeout):
        """Connect and read the answer's head; return its status (None: no answer in time)."""
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        self.writer.write(f"GET {STREAM_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                          "Cache-Control: no-cache\r\n\r\n".encode())
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.chunked = any(line.lower().replace(" ", "") == "transfer-encoding:chunked" for line in lines)
        return int(status_line.split()[1])

    async def read(self):
        """Read the body until the server ends it, noting each event id and when it came."""
        buffer = b""
        try:
            while True:
                if self.draining:
                    if not await self.reader.read(65536):
                        break
                    continue
                if self.chunked:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    if size == 0:
                        break
                    data = await self.reader.readexactly(size + 2)
                    data = data[:-2]
                else:
                    data = await self.reader.read(65536)
                    if not data:
                        break
                buffer += data
                *messages, buffer = buffer.split(b"\n\n")
                now = time.monotonic()
                for message in messages:
                    found = EVENT_ID.search(message)
                    if found and b"\nevent: greetings" in message:
                        self.last_id = int(found[1])
                        self.arrived[self.last_id] = now
                        self.news.set()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        self.ended = True
        self.news.set()

    def close(self):
        if self.writer is not None:
            self.writer.close()


def fit_open_files(count):
    """Raise the soft open-file limit to fit count streams, or fail saying what the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + SPARE_FILES
    if hard != resource.RLIM_INFINITY and wanted > hard:
        raise RuntimeError(f"{count} streams need {wanted} open files; the hard limit is {hard} (ulimit -Hn)")
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def hold_streams(port, count, post_greeting, *, open_concurrency=200, connect_timeout=5.0,
                       arrival_timeout=10.0, settle_seconds=1.0, during=None):
    """Open count streams, post one greeting and time its arrival on each, then run `during` while all stay open."""
    if count > MAX_STREAMS:
        raise RuntimeError(f"at most {MAX_STREAMS} streams, not {count}")
    fit_open_files(count)
    report = CrowdReport(requested=count)
    streams, readers = [], []
    gate = asyncio.Semaphore(open_concurrency)

    async def open_one():
        stream = Stream()
        async with gate:
            try:
                status = await stream.open(port, connect_timeout)
            except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                status = None
        if status == 200:
            streams.append(stream)
            readers.append(asyncio.create_task(stream.read()))
        else:
            report.refused[status] = report.refused.get(status, 0) + 1
            stream.close()

    try:
        started = time.monotonic()
        await asyncio.gather(*(open_one() for _ in range(count)))
        report.open_seconds = time.monotonic() - started
        await asyncio.sleep(settle_seconds)
        held = [stream for stream in streams if not stream.ended]
        report.held = len(held)
        seen = {stream: stream.last_id or 0 for stream in held}
        for stream in held:
            stream.news.clear()
        posted = time.monotonic()
        await asyncio.to_thread(post_greeting)

        async def arrival(stream):
            deadline = posted + arrival_timeout
            while not stream.ended and time.monotonic() < deadline:
                newer = [at for event_id, at in stream.arrived.items() if event_id > seen[stream]]
                if newer:
                    return (min(newer) - posted) * 1000
                stream.news.clear()
                try:
                    await asyncio.wait_for(stream.news.wait(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
            return None

        arrivals = await asyncio.gather(*(arrival(stream) for stream in held))
        report.arrivals_ms = [ms for ms in arrivals if ms is not None]
        report.missed = arrivals.count(None)
        for stream in held:
            stream.draining = True
        if during is not None:
            report.during_result = await asyncio.to_thread(during)
        report.ended_early = sum(stream.ended for stream in held)
        return report
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for stream in streams:
            stream.close()


def run_crowd(port, count, post_greeting, **options):
    """Run hold_streams() in an event loop of its own; return its CrowdReport."""
    return asyncio.run(hold_streams(port, count, post_greeting, **options))


def greet_through_the_form(port):
    """Return a function that greets a new name on the server through its form (a GET for the token, then a POST)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def greet():
        base = f"http://127.0.0.1:{port}"
        with opener.open(base + "/", timeout=10) as page:
            cookie = page.headers["Set-Cookie"].split(";", 1)[0]
            token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode())
        body = urllib.parse.urlencode({"name": f"crowd-{secrets.token_hex(3)}", "csrf_token": token[1]}).encode()
        request = urllib.request.Request(base + "/", data=body, headers={"Cookie": cookie})
        with opener.open(request, timeout=10):
            pass

    return greet


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="a server on 127.0.0.1")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--greet", action="store_true", help="post a greeting and time its arrival on every stream")
    args = parser.parse_args()
    report = run_crowd(args.port, args.count, greet_through_the_form(args.port) if args.greet else (lambda: None),
                       arrival_timeout=10.0 if args.greet else 0.1)
    print(f"held {report.held} of {report.requested} (refused: {report.refused or 'none'}), opened in "
          f"{report.open_seconds:.1f} s, ended early {report.ended_early}")
    if args.greet:
        print(f"arrival: p50 {report.p50_ms} ms, p99 {report.p99_ms} ms, max {report.max_ms} ms; missed {report.missed}")


if __name__ == "__main__":
    main()
