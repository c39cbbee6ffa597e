"""Read backpressure for asyncmy. Its receive protocol takes whatever the server sends: a
reader slower than the server (a sync waiting on Elasticsearch) ends up holding the rest
of an unbuffered result set in memory (231 MB for the 100k-row items table here, against
71 MB when read flat out). With this, reading pauses once HIGH_WATER bytes wait unread
and resumes when the reader asks for more than is buffered: the server then waits on its
socket, which SESSION_WRITE_TIMEOUT allows for as long as a sync may wait on Elasticsearch.
"""

from __future__ import annotations

from typing import Any

from asyncmy import connection as _connection

HIGH_WATER = 1 << 20  # bytes received and not yet read
# net_write_timeout, seconds: how long the server waits on a paused reader before it
# drops the query; past the engine's Elasticsearch retry window (300 s by default).
SESSION_WRITE_TIMEOUT = 900

_Base: Any = getattr(_connection, "_MySQLProtocol", None)


def _supported(base: Any) -> bool:
    return base is not None and all(
        hasattr(base, name) for name in ("buffer_updated", "wait_for_data", "get_buffer")
    )


if _supported(_Base):

    class FlowControlledProtocol(_Base):  # type: ignore[misc]
        _reading_paused = False

        def buffer_updated(self, nbytes: int) -> None:
            super().buffer_updated(nbytes)
            transport = self.transport
            unread = self.length - self.pos
            if not self._reading_paused and transport is not None and unread > HIGH_WATER:
                self._reading_paused = True
                transport.pause_reading()

        async def wait_for_data(self, need: int) -> None:
            if self._reading_paused:
                self._reading_paused = False
                if self.transport is not None:
                    self.transport.resume_reading()
            await super().wait_for_data(need)


def install() -> bool:
    """Make asyncmy connect through FlowControlledProtocol; False if this asyncmy's
    internals are not the ones it was written for (then reads are unbounded again, and
    tests/connectors/test_mysql_source.py says so)."""
    if not _supported(_Base):
        return False
    setattr(_connection, "_MySQLProtocol", FlowControlledProtocol)  # noqa: B010
    return True
