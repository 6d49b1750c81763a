"""uvicorn's access line, queued for the log writer without a log record (shell).

Once per request uvicorn calls ``access_logger.info('%s - "%s %s HTTP/%s" %d', client, method, path,
version, status)``. Through ``logging`` that builds a ``LogRecord``, redacts it (``privacy.redaction``),
stamps the request id, runs the handler chain and queues the record; the writer thread then formats it as
JSON. ``AccessLine`` (the access logger ``api.one_write.OneWriteHttp`` gives uvicorn) queues the line's
values instead — the time, the request id, the client address and the path redacted exactly as the record
factory redacts them — and the writer thread formats them as ``JsonFormatter`` formats the record
(``logging_setup.AccessEntry``): the same line, byte for byte but for nothing
(``tests/unit/logs/test_access_line.py`` compares them), for about a third of the CPU
(``benchmarks/bench_access_line.py``).

It does so only when the record would have gone exactly that way: ``xiaodai serve``'s logging (JSON lines
written by the writer thread, ``logging_setup.access_queue`` checks the whole chain: no handler, filter or
formatter added since) and an access call of uvicorn's shape (its template, five plain arguments, no
keyword). Anything else is logged through the logger as before, so a changed configuration (text lines, a
handler added by a test or an operator) is honoured.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from xiaodai import logging_setup
from xiaodai.privacy.redaction import ACCESS_TEMPLATE, redact


class AccessLine:
    """Stands in for the ``uvicorn.access`` logger in uvicorn's HTTP protocol: ``info`` as above; any
    other attribute is the logger's."""

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        put = logging_setup.access_queue(self.logger)
        if put is None or kwargs or msg != ACCESS_TEMPLATE or len(args) != 5:
            self.logger.info(msg, *args, **kwargs)
            return
        client, method, path, version, status = args
        if not (
            type(client) is str
            and type(method) is str
            and type(path) is str
            and type(version) is str
            and type(status) is int
        ):
            self.logger.info(msg, *args, **kwargs)
            return
        if not self.logger.isEnabledFor(logging.INFO):
            return
        put(
            logging_setup.AccessEntry(
                time.time(),
                logging_setup.REQUEST_ID.get() or "-",
                redact(client),
                method,
                redact(path),
                version,
                status,
            )
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.logger, name)


ACCESS = AccessLine(logging.getLogger(logging_setup.ACCESS_LOGGER))
