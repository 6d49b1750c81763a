"""``api.one_write``: the small writes of one event-loop turn reach the socket's transport as one write, in
order; a large write is handed over at once; close, write_eof, abort and a closing connection behave as the
socket's transport does. And uvicorn's protocol on it sends a whole answer (status line, headers, body) in
one write. (Through a real ``xiaodai serve`` process: ``tests/served/test_one_write_served.py``.)"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from xiaodai.api.one_write import LIMIT, JoinedWrites, OneWriteHttp


class SocketTransport(asyncio.Transport):
    """What the socket's transport was asked to do."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.calls: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.calls.append("close")
        self.closing = True

    def abort(self) -> None:
        self.calls.append("abort")
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append("write_eof")

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.calls.append("pause_reading")

    def resume_reading(self) -> None:
        self.calls.append("resume_reading")

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)


async def one_turn() -> None:
    await asyncio.sleep(0)  # the callbacks scheduled during this turn run
    await asyncio.sleep(0)


def test_the_writes_of_one_turn_go_out_as_one_write_in_order() -> None:
    async def run() -> None:
        socket = SocketTransport()
        joined = JoinedWrites(socket, asyncio.get_running_loop())
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        joined.write(b"")
        joined.write(bytearray(b"body"))
        assert socket.writes == []  # kept until the end of the turn
        assert joined.get_write_buffer_size() == 23
        await one_turn()
        assert socket.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        joined.write(b"next")
        await one_turn()
        assert socket.writes[1:] == [b"next"]
        assert joined.get_write_buffer_size() == 0

    asyncio.run(run())


def test_a_large_write_is_handed_over_at_once_after_what_was_kept() -> None:
    async def run() -> None:
        socket = SocketTransport()
        joined = JoinedWrites(socket, asyncio.get_running_loop())
        big = b"x" * LIMIT
        joined.write(big)
        assert socket.writes == [big]  # not kept, not copied
        assert socket.writes[0] is big
        joined.write(b"head")
        joined.write(big)
        assert socket.writes[1:] == [b"head", big]  # what was kept first, then the large write
        joined.write(b"a" * (LIMIT // 2))
        joined.write(b"b" * (LIMIT // 2))  # together LIMIT: handed over now
        assert socket.writes[3:] == [b"a" * (LIMIT // 2), b"b" * (LIMIT // 2)]
        await one_turn()
        assert len(socket.writes) == 5

    asyncio.run(run())


def test_close_and_write_eof_hand_over_what_was_kept_abort_and_a_closing_connection_drop_it() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        socket = SocketTransport()
        joined = JoinedWrites(socket, loop)
        joined.write(b"last answer")
        joined.close()
        assert (socket.writes, socket.calls) == ([b"last answer"], ["close"])
        socket = SocketTransport()
        joined = JoinedWrites(socket, loop)
        joined.write(b"before eof")
        joined.write_eof()
        assert (socket.writes, socket.calls) == ([b"before eof"], ["write_eof"])
        socket = SocketTransport()
        joined = JoinedWrites(socket, loop)
        joined.write(b"dropped")
        joined.abort()
        await one_turn()
        assert (socket.writes, socket.calls) == ([], ["abort"])
        socket = SocketTransport()
        joined = JoinedWrites(socket, loop)
        joined.write(b"client gone")
        socket.closing = True  # the connection was lost meanwhile
        await one_turn()
        assert socket.writes == []
        joined.pause_reading()
        joined.resume_reading()
        assert socket.calls == ["pause_reading", "resume_reading"]
        assert joined.get_extra_info("peername") == ("127.0.0.1", 5000)

    asyncio.run(run())


def answer_writes(protocol_class: type[HttpToolsProtocol]) -> tuple[list[bytes], list[bytes]]:
    """The socket writes uvicorn's protocol makes for one keep-alive GET answered by a plain JSON answer:
    those made by the time the answer's last ``send`` returned (the same turn of the loop), and all."""
    socket = SocketTransport()
    at_completion: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b'{"ok":true}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        at_completion.extend(socket.writes)

    async def run() -> list[bytes]:
        config = Config(app, access_log=False, lifespan="off")
        config.load()
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
        protocol.connection_made(socket)
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in range(20):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return socket.writes

    return at_completion, asyncio.run(run())


def test_uvicorns_protocol_sends_a_whole_answer_in_one_write_as_soon_as_it_is_complete() -> None:
    _, plain = answer_writes(HttpToolsProtocol)
    assert len(plain) == 2  # uvicorn's own: the head, then the body
    at_completion, joined = answer_writes(OneWriteHttp)
    assert joined == [b"".join(plain)]  # the same bytes, one write
    assert at_completion == joined  # handed over when the answer was complete, not a turn later
    assert joined[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert joined[0].endswith(b'\r\n\r\n{"ok":true}')


def test_xiaodai_serve_gives_uvicorn_this_protocol(monkeypatch: Any) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from xiaodai.cli.main import app as cli

    given: dict[str, Any] = {}
    monkeypatch.setenv("XIAODAI_LOG_LEVEL", "WARNING")  # so that serve leaves the environment as it is
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: given.update(kwargs))
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert given["http"] is OneWriteHttp
