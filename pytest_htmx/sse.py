"""Server-sent events read as a browser's EventSource reads them: parsed events, retry hints and heartbeat comments.

`htmx_client.sse(path)` reads a stream of the app under test in a thread of its own, for at most `timeout` seconds
or `max_events` events, and returns an `SSEStream`::

    stream = htmx_client.sse("/events", max_events=2, last_event_id="41", timeout=5)
    assert stream.status_code == 200
    [first, second] = stream.events             # SSEEvent(id, event, data, retry)
    assert first.event == "greetings" and first.id == "42"
    stream.retry                                # the last retry hint (ms), or None
    stream.comments                             # heartbeat comments (": ping" gives "ping")
    stream.ended                                # "closed" (the app ended it), "max_events" or "timeout"

`parse_sse(text)` parses a whole stream body already read. A read ended by `max_events` or `timeout` leaves the
stream open until its next chunk, in the reader's thread: a stream holding resources should end by itself in tests
(after one event, or a short time), so that `sse()` returns with `ended == "closed"` after the app closed it.

Parsing follows the HTML standard's event-stream rules: lines end at CRLF, LF or CR; a blank line ends an event;
"data" lines are joined with newlines; an event without data is not an event (its id and retry still count); the
type defaults to "message". An event's `id` is the id field of its own block (None without one), while
`SSEStream.last_event_id` is what EventSource would send back as Last-Event-ID.
"""

import queue
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event: its own id (or None), its type, its data and the retry hint sent with it (or None)."""

    id: str | None
    event: str
    data: str
    retry: int | None = None


@dataclass
class SSEStream:
    """What a bounded read of an event stream saw."""

    status_code: int
    headers: dict
    events: list = field(default_factory=list)
    comments: list = field(default_factory=list)
    retry: int | None = None
    last_event_id: str = ""
    ended: str = "closed"

    @property
    def names(self):
        """Return the event types sent, in order of first appearance."""
        return list(dict.fromkeys(event.event for event in self.events))


class SSEParser:
    """Turn chunks of an event stream into events and comments as they arrive (a chunk may end mid-line)."""

    def __init__(self, stream):
        self.stream = stream
        self._pending_cr = self._partial_line = ""
        self._block = {}
        self._data = []

    def feed(self, text):
        """Parse a chunk; return how many events it completed."""
        text = self._pending_cr + text
        self._pending_cr = ""
        if text.endswith("\r"):  # maybe the first half of a CRLF: the next chunk tells
            text, self._pending_cr = text[:-1], "\r"
        lines = (self._partial_line + text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
        self._partial_line = lines.pop()
        return sum(self._line(line) for line in lines)

    def close(self):
        """End the stream: a last event without its blank line is dropped, as EventSource drops it."""
        if self._pending_cr:
            self._line(self._partial_line)
        self._pending_cr = self._partial_line = ""

    def _line(self, line):
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.stream.comments.append(line[1:].removeprefix(" "))
            return 0
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._block["id"] = self.stream.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._block["retry"] = self.stream.retry = int(value)
        elif name == "event":
            self._block["event"] = value
        return 0

    def _dispatch(self):
        block, data = self._block, self._data
        self._block, self._data = {}, []
        if not data:
            return 0
        self.stream.events.append(SSEEvent(block.get("id"), block.get("event") or "message", "\n".join(data),
                                           block.get("retry")))
        return 1


def parse_sse(text):
    """Parse a whole event-stream body into an SSEStream (status 200, no headers)."""
    stream = SSEStream(200, {})
    parser = SSEParser(stream)
    parser.feed(text)
    parser.close()
    return stream


def read_sse(client, path, *, max_events=None, last_event_id=None, timeout=5.0, headers=None, **kwargs):
    """GET an event stream with a Flask test client and read it for at most `timeout` seconds or `max_events`
    events, whichever comes first; the response is closed as a server closes it."""
    headers = {"Accept": "text/event-stream", **(headers or {})}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    chunks, done = queue.Queue(), threading.Event()

    def read():
        # The request runs here too: a view's generator may block, and only this thread may close it.
        try:
            response = client.get(path, headers=headers, buffered=False, **kwargs)
        except BaseException as error:  # handed to the caller's thread
            chunks.put(error)
            return
        chunks.put(response)
        try:
            for chunk in response.response:
                chunks.put(chunk.decode() if isinstance(chunk, bytes) else chunk)
                if done.is_set():
                    break
        except BaseException as error:  # the view failed mid-stream: the caller's thread raises it
            chunks.put(error)
        finally:
            response.close()
            chunks.put(None)

    threading.Thread(target=read, name=f"sse {path}", daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        response = _next(chunks, deadline)
        if response is TimeoutError:
            raise TimeoutError(f"{path} sent no response headers in {timeout} s")
        if isinstance(response, BaseException):
            raise response
        stream = SSEStream(response.status_code, dict(response.headers))
        parser = SSEParser(stream)
        while True:
            chunk = _next(chunks, deadline)
            if chunk is None:
                parser.close()
                return stream
            if chunk is TimeoutError:
                stream.ended = "timeout"
                return stream
            if isinstance(chunk, BaseException):
                raise chunk
            parser.feed(chunk)
            if max_events is not None and len(stream.events) >= max_events:
                del stream.events[max_events:]
                stream.ended = "max_events"
                return stream
    finally:
        # The reader stops (and closes the response) at its next chunk; a stream that never sends again keeps
        # its daemon thread until the app ends it.
        done.set()


def _next(chunks, deadline):
    """Return the next item the reader queued, or TimeoutError once the deadline has passed."""
    try:
        return chunks.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        return TimeoutError
