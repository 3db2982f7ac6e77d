"""Recognise a PostgreSQL staging server that went away, in any client's words.

psycopg, psycopg2 (dlt's loader) and connectorx (the export's reader) each say "the server
stopped or cannot be reached" differently; the pipeline says it one way, naming the server.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Lower-case text of a client error meaning the connection was lost or cannot be made.
CONNECTION_LOST = (
    "server closed the connection",
    "connection refused",
    "connection reset",  # connectorx: `ConnectionReset`, "Connection reset by peer"
    "connectionreset",
    "terminating connection",
    "could not connect",
    "error connecting to server",  # connectorx's connection pool
    "consuming input failed",
    "connection already closed",
    "the connection is closed",
    "could not receive data",
    "could not send data",
    "no connection to the server",
    "ssl syscall",
)


def is_connection_lost(message: str) -> bool:
    lowered = message.lower()
    return any(text in lowered for text in CONNECTION_LOST)


def postgres_server(url: str) -> str:
    """`PostgreSQL at host:port/database`, as the preflight names it (never the password)."""
    parts = urlsplit(url)
    return f"PostgreSQL at {parts.hostname}:{parts.port or 5432}/{parts.path.strip('/')}"
