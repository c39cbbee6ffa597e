"""What the connector changes in asyncmy: one statement per query (``single_statements``),
and read backpressure (``install``), which asyncmy offers no hook for, so it replaces the
driver's protocol class for the process, at the first connection, never at import.

Read backpressure: Its receive protocol takes whatever the server sends: a
reader slower than the server (a sync waiting on Elasticsearch) ends up holding the rest
of an unbuffered result set in memory (231 MB for the 100k-row items table here, against
71 MB when read flat out). With this, reading pauses once HIGH_WATER bytes wait unread
and resumes when the reader asks for more than is buffered: the server then waits on its
socket, which SESSION_WRITE_TIMEOUT allows for as long as a sync may wait on Elasticsearch.
"""

from __future__ import annotations

import struct
from typing import Any

from asyncmy import connection as _connection
from asyncmy.constants.COMMAND import COM_SET_OPTION

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
    """Make asyncmy connect through FlowControlledProtocol (idempotent); False if this
    asyncmy's internals are not the ones it was written for (then reads are unbounded
    again, and tests/connectors/test_mysql_source.py says so)."""
    if not _supported(_Base):
        return False
    if getattr(_connection, "_MySQLProtocol", None) is not FlowControlledProtocol:
        setattr(_connection, "_MySQLProtocol", FlowControlledProtocol)  # noqa: B010
    return True


MULTI_STATEMENTS_OFF = struct.pack("<H", 1)  # COM_SET_OPTION's MYSQL_OPTION_MULTI_STATEMENTS_OFF


async def single_statements(conn: Any) -> None:
    """One statement per query, for the rest of the session. asyncmy always asks for
    multi-statement support at connect, and a custom query is text we embed: with it, a
    query that closes our subquery could run ``SET SESSION TRANSACTION READ WRITE;
    COMMIT; DROP TABLE ...`` -- undoing the read-only session, then writing. The server
    refuses such text once this option is off (COM_SET_OPTION)."""
    await conn._execute_command(COM_SET_OPTION, MULTI_STATEMENTS_OFF)
    await conn.read_packet()  # an EOF or OK packet; an error packet raises
