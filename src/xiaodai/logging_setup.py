"""Process logging: personal data redacted from every record (``privacy.redaction``), one JSON object per
line carrying the request id, level and file from the environment.

- ``XIAODAI_LOG_LEVEL`` (default WARNING; ``xiaodai serve`` defaults to INFO so the access log is kept);
- ``XIAODAI_LOG_FORMAT``: ``json`` (default) or ``text``;
- ``XIAODAI_LOG_FILE``: also write to this file.

``xiaodai serve`` formats and writes the lines in a thread of their own (``writer_thread=True``): the event
loop only creates the record (redacted, request id stamped) and puts it on an unbounded queue, so no line
is dropped and no request waits for the disk; the writer drains the queue every ``_Writer.POLL_SECONDS``
rather than being woken for each line, and flushes its files once per drain rather than once per line (one
write for the last few milliseconds' lines). ``flush()`` drains the queue and writes synchronously from
then on; it runs at process exit (``atexit``: a worker's clean shutdown on SIGTERM included), so the last
lines are in the log. A SIGKILL loses what was still queued (milliseconds of lines).

The request id is set per HTTP request by ``api.request_id`` (from a sane incoming ``X-Request-ID`` or a
fresh one) and read here through a context variable, so every line written while serving that request —
the access line included — carries it.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import os
import queue
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple

from xiaodai.privacy import redaction

REQUEST_ID: ContextVar[str | None] = ContextVar("xiaodai_request_id", default=None)
ACCESS_LOGGER = "uvicorn.access"
_ACCESS_ARGS = 5  # uvicorn: client address, method, path with query, HTTP version, status code


class RequestIdFilter(logging.Filter):
    """Stamps ``record.request_id`` (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:  # stamped once, in the thread that logged it
            record.request_id = REQUEST_ID.get() or "-"
        return True


_PLAIN = (str, int, float, bool, type(None))


class _Enqueue(logging.handlers.QueueHandler):
    """Puts the record on the writer thread's queue as it is: the formatters need its ``args`` (uvicorn's
    access line is unpacked into fields), which ``QueueHandler.prepare`` would format away. Arguments that
    are not plain values (which could change before the writer formats them) are rendered now."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        args = record.args
        values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else ()
        if any(not isinstance(v, _PLAIN) for v in values):
            record.msg, record.args = record.getMessage(), ()
        return record


_WRITER: dict[str, Any] = {}  # the writer thread's listener, its queue handler and the real handlers


class AccessEntry(NamedTuple):
    """uvicorn's access line as ``access_line.AccessLine`` queues it: what ``JsonFormatter`` shows of the
    record, the client address and the path already redacted."""

    created: float
    request_id: str
    client: str
    method: str
    path: str
    version: str
    status: int


Line = logging.LogRecord | AccessEntry | None  # None: QueueListener's sentinel, put by stop()
INFO = logging.INFO


def access_queue(logger: logging.Logger) -> Any:
    """The writer queue's ``put`` when a record of ``logger`` (uvicorn's access logger) would reach the
    writer thread untouched and be formatted by ``JsonFormatter`` only — the logging ``configure`` set up
    with ``writer_thread=True``, nothing added to it since — else None (log through the logger)."""
    enqueue = _WRITER.get("enqueue")
    if enqueue is None:
        return None
    root = logging.root
    handlers = root.handlers
    if len(handlers) != 1 or handlers[0] is not enqueue or root.filters or len(enqueue.filters) != 1:
        return None
    node: Any = logger
    while node is not root:  # uvicorn.access, uvicorn: nothing of their own, passing records up
        if node.handlers or node.filters or node.disabled or not node.propagate:
            return None
        node = node.parent
    for handler in _WRITER["handlers"]:
        if type(handler.formatter) is not JsonFormatter or len(handler.filters) != 1 or handler.level > INFO:
            return None
    return _WRITER["lines"].put


class _Writer(logging.handlers.QueueListener):
    """The writer thread: it takes what is queued and, when the queue is empty, sleeps ``POLL_SECONDS``
    instead of waiting on the queue. A thread waiting on the queue is woken by every put (the serving
    thread hands it the GIL once per log line, the access line of every request); a sleeping one is not,
    and writes the lines of the last few milliseconds in one go. ``stop()`` still writes everything queued
    (its sentinel comes after the last line)."""

    POLL_SECONDS = 0.02

    def __init__(self, lines: queue.SimpleQueue[Line], *handlers: logging.Handler) -> None:
        super().__init__(lines, *handlers, respect_handler_level=True)
        self.lines = lines

    def _monitor(self) -> None:
        written = False
        while True:
            try:
                record = self.lines.get_nowait()
            except queue.Empty:
                if written:  # what this drain wrote, out of the buffers at once
                    self._flush_lines()
                    written = False
                time.sleep(self.POLL_SECONDS)
                continue
            if record is None:  # QueueListener's sentinel (stop)
                self._flush_lines()
                return
            if isinstance(record, AccessEntry):  # access_line: formatted as JsonFormatter formats its record
                formatted: dict[int, str] = {}  # once per formatter (the handlers share one)
                for handler in self.handlers:
                    formatter = handler.formatter
                    if isinstance(handler, _Lines) and isinstance(formatter, JsonFormatter):
                        text = formatted.get(id(formatter))
                        if text is None:
                            text = formatted[id(formatter)] = formatter.format_access(record)
                        handler.emit_text(text)
            else:
                self.handle(record)
            written = True

    def _flush_lines(self) -> None:
        for handler in self.handlers:
            if isinstance(handler, _Lines):
                handler.flush_lines()


class _Lines(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that the writer thread has write once per drain instead of once per line: while
    ``batched``, ``emit`` keeps the formatted line and ``flush_lines`` writes the kept lines in one write and
    flushes (standard error is line-buffered: one write per line would be one system call per line). Not
    batched (the default; ``unbatch`` at ``logging_setup.flush``) it writes each line as StreamHandler does.
    Lines kept and written are in the order they were emitted (both under the handler's lock)."""

    batched = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not self.batched:
            super().emit(record)
            return
        try:
            self._kept.append(self.format(record) + self.terminator)
        except RecursionError:  # as StreamHandler.emit
            raise
        except Exception:
            self.handleError(record)

    def emit_text(self, text: str) -> None:
        """A line formatted already (``AccessEntry``), kept or written as ``emit`` keeps or writes one."""
        with self.lock:  # type: ignore[union-attr]  # as Handler.handle takes it around emit
            if self.batched:
                self._kept.append(text + self.terminator)
            else:
                self.stream.write(text + self.terminator)
                self.flush()

    def flush_lines(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._write_kept()

    def unbatch(self) -> None:
        """Write what is kept and write line by line from now on."""
        with self.lock:  # type: ignore[union-attr]
            self._write_kept()
            self.batched = False

    def _write_kept(self) -> None:
        if self._kept:
            text, self._kept = "".join(self._kept), []
            self.stream.write(text)
        super().flush()


class _FileLines(_Lines, logging.FileHandler):
    """``_Lines`` for ``XIAODAI_LOG_FILE``."""


_quote = json.encoder.encode_basestring  # json.dumps's string encoder, ensure_ascii=False


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, request_id; access lines also carry
    client, method, path and status as fields; exc holds the (already redacted) traceback."""

    _encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # as json.dumps with these options

    def format_access(self, line: AccessEntry) -> str:
        """What ``format`` gives for uvicorn's access record with these values (redacted already): the
        same JSON text, put together from the string encoder ``json.dumps`` uses for these options
        (every value a string but the status, an ``int``)."""
        quote = _quote
        client, method, path = quote(line.client), quote(line.method), quote(line.path)
        message = redaction.ACCESS_TEMPLATE % (line.client, line.method, line.path, line.version, line.status)
        ts = datetime.fromtimestamp(line.created, tz=UTC).isoformat(timespec="milliseconds")
        return (
            f'{{"ts": "{ts}", "level": "INFO", "logger": "{ACCESS_LOGGER}", "message": {quote(message)},'
            f' "request_id": {quote(line.request_id)}, "client": {client}, "method": {method},'
            f' "path": {path}, "status": {int.__repr__(line.status)}}}'
        )

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get() or "-",
        }
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == _ACCESS_ARGS:
            client, method, path, _version, status = args
            entry.update(client=str(client), method=str(method), path=str(path), status=status)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return self._encode(entry)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure(*, default_level: str = "WARNING", writer_thread: bool = False) -> None:
    """Idempotent per process. Uvicorn's own loggers are left without handlers of their own and
    propagate here (``xiaodai serve`` passes ``log_config=None``), so the access log is formatted too."""
    redaction.install()
    root = logging.getLogger()
    if getattr(root, "xiaodai_configured", False):
        return
    # neither format shows the process or the thread: LogRecord need not look them up for every line (the
    # access line of every request) — os.getpid, threading.current_thread, the multiprocessing process name
    logging.logProcesses = logging.logMultiprocessing = logging.logThreads = False
    level = os.environ.get("XIAODAI_LOG_LEVEL", default_level).upper()
    formatter: logging.Formatter = (
        logging.Formatter(TEXT_FORMAT)
        if os.environ.get("XIAODAI_LOG_FORMAT", "json").lower() == "text"
        else JsonFormatter()
    )
    handlers: list[_Lines] = [_Lines()]
    path = os.environ.get("XIAODAI_LOG_FILE")
    if path:
        handlers.append(_FileLines(path, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RequestIdFilter())
    # uvicorn's access line, once per request: no caller look-up (a walk up the stack for the file and line
    # of uvicorn's own call, which neither format shows)
    logging.getLogger(ACCESS_LOGGER).findCaller = _no_caller  # type: ignore[method-assign]
    if writer_thread:
        for handler in handlers:
            handler.batched = True  # the writer flushes once per drain
        lines: queue.SimpleQueue[Line] = queue.SimpleQueue()
        enqueue = _Enqueue(lines)
        enqueue.addFilter(RequestIdFilter())  # the request id lives in the logging thread's context
        listener = _Writer(lines, *handlers)
        _WRITER.update(listener=listener, enqueue=enqueue, handlers=handlers, lines=lines)
        root.addHandler(enqueue)
        listener.start()
        atexit.register(flush)
    else:
        for handler in handlers:
            root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.WARNING))
    root.xiaodai_configured = True  # type: ignore[attr-defined]
    if level == "DEBUG":
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and their parameters


def _no_caller(stack_info: bool = False, stacklevel: int = 1) -> tuple[str, int, str, str | None]:
    """What ``Logger._log`` records when logging is told not to look for the caller (``logging._srcfile``
    None): no file, line or function."""
    return "(unknown file)", 0, "(unknown function)", None


def flush() -> None:
    """Write every queued line, stop the writer thread and write synchronously from now on (idempotent)."""
    listener = _WRITER.pop("listener", None)
    if listener is None:
        return
    root = logging.getLogger()
    handlers: list[_Lines] = _WRITER.pop("handlers")
    for handler in handlers:  # first: a line logged while the queue drains is written directly
        root.addHandler(handler)
    root.removeHandler(_WRITER.pop("enqueue"))
    _WRITER.pop("lines", None)
    listener.stop()  # writes what is queued, then joins the thread
    for handler in handlers:
        handler.unbatch()
