"""One ``send()`` per answer: uvicorn's HTTP protocol with the small writes of one event-loop turn joined.

uvicorn writes an answer with one ``transport.write`` for the status line and headers and another for the
body (``http.response.start``, then ``http.response.body``): two ``send()`` system calls, two TCP segments
for the client to take in, for every request. ``OneWriteHttp`` (the protocol class ``xiaodai serve`` gives
uvicorn) is uvicorn's own ``HttpToolsProtocol`` on a transport (``JoinedWrites``) that keeps the small
writes made during one turn of the event loop and hands them to the socket's transport as ONE write at the
end of that turn (``loop.call_soon``), or as soon as the answer is complete (``on_response_complete``),
whichever comes first: an answer sent without waiting in between (every plain response: its start and body
messages follow each other without a pause) goes out in one ``send()``, as soon as its last byte is
written.

Nothing else changes:

- order: bytes reach the socket in the order written (a write that is not kept goes out only after what is
  kept was handed over);
- size: a write of ``LIMIT`` bytes or more, or one that would take what is kept to ``LIMIT`` or more, is
  handed over at once (what is kept first), so a large body is never copied and at most ``LIMIT`` bytes
  wait for the end of the turn;
- flow control: the socket's transport still tells the protocol to pause and resume writing (its buffer,
  its limits), and uvicorn waits before each message as before; a streamed body whose chunks come between
  awaits leaves each chunk at the end of its turn;
- ``close()`` and ``write_eof()`` hand over what is kept first (keep-alive off, a bad request's answer);
  ``abort()`` drops it, as the socket's transport drops its own buffer; on a connection already closing
  (the client went away) what is kept is dropped, as the socket's transport would drop it.

Checked through a real ``xiaodai serve`` process (``tests/api/test_one_write.py``): keep-alive, pipelined
requests, a large body, a streamed answer, a bad request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from xiaodai.access_line import ACCESS

LIMIT = 16 * 1024  # bytes kept at most until the end of the turn; a larger write is handed over at once


class JoinedWrites(asyncio.Transport):
    """A socket's transport whose small writes within one event-loop turn go out as one write."""

    __slots__ = ("_kept", "_loop", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._kept: list[bytes] | None = None  # written during this turn, not yet handed over
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        size = len(data)
        if not size:
            return  # as the socket's transport: nothing to send
        kept = self._kept
        if kept is None:
            if size >= LIMIT:
                self._transport.write(data)
                return
            self._kept, self._size = [bytes(data)], size
            self._loop.call_soon(self.flush)
            return
        if self._size + size >= LIMIT:
            self.flush()
            self._transport.write(data)
            return
        kept.append(bytes(data))
        self._size += size

    def flush(self) -> None:
        """Hand what was kept to the socket's transport, as one write (called at the end of the turn)."""
        kept = self._kept
        if kept is None:
            return
        self._kept, self._size = None, 0
        if self._transport.is_closing():
            return  # the connection is going: the socket's transport would drop it as well
        self._transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._kept, self._size = None, 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class OneWriteHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through ``JoinedWrites`` (``uvicorn.run(http=OneWriteHttp)``); a
    complete answer is handed over at once, without waiting for the end of the turn. Its access line is
    queued for the log writer as values (``access_line.AccessLine``: the same line, less CPU)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_logger = ACCESS  # type: ignore[assignment]  # the logger's stand-in (info, the rest)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.joined = JoinedWrites(transport, self.loop)
        super().connection_made(self.joined)

    def on_response_complete(self) -> None:
        self.joined.flush()  # the whole answer is written: out now, before the next request starts
        super().on_response_complete()
