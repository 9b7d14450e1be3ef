"""The history process: follow a cluster's event stream from the database's high-water mark
and write each batch of entries, with the new mark, in one transaction; serve the queries
over HTTP meanwhile.

A batch closes at ``batch_entries_max`` entries, or ``batch_interval_ms`` after its first
entry, or when no next entry arrives within ``LINGER_S`` (5 ms): a catch-up, whose entries
come a TCP read at a time, writes big batches; live flow writes small ones, each entry at
most the linger (and never more than the interval) after it arrived.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from venue.cluster.stream import EventStream

from .backends import HistoryDatabase, open_history
from .fold import HistoryFolder
from .http import HistoryHttpServer
from .queries import HistoryQueries, iso_time

log = logging.getLogger("venue.history")
BATCH_ENTRIES_MAX_DEFAULT = 2_000
BATCH_INTERVAL_MS_DEFAULT = 200
LINGER_S = 0.005  # wait this long for the next entry before writing a batch


class HistoryConfigError(ValueError):
    pass


@dataclass(frozen=True)
class HistoryConfig:
    cluster: tuple[str, ...]
    sqlite: str | None = None
    postgres: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 0  # 0: no HTTP server
    batch_entries_max: int = BATCH_ENTRIES_MAX_DEFAULT
    batch_interval_ms: int = BATCH_INTERVAL_MS_DEFAULT
    principal: str = ""  # of the cluster's credentials: the stream holds every order
    credential: str = ""

    def __post_init__(self) -> None:
        if not self.cluster:
            raise HistoryConfigError("cluster: give at least one node client address")
        if not self.principal or not self.credential:
            raise HistoryConfigError("give the principal and credential the cluster knows "
                                     "(principal and credential, or --principal and "
                                     "--credential-file)")
        if (self.sqlite is None) == (self.postgres is None):
            raise HistoryConfigError("give exactly one of sqlite (a path) and postgres "
                                     "(a DSN)")
        if self.batch_entries_max < 1 or self.batch_interval_ms < 1:
            raise HistoryConfigError("batch_entries_max and batch_interval_ms must be >= 1")


def parse_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise HistoryConfigError(f"not host:port: {text!r}")
    return host, int(port)


def load_history_config(path: Path | str) -> HistoryConfig:
    """A JSON object: {"cluster": ["host:port", ...], "principal": NAME, "credential":
    TOKEN, "sqlite": PATH | "postgres": DSN, "http": "127.0.0.1:8600",
    "batch_entries_max": N, "batch_interval_ms": T}."""
    try:
        raw: dict[str, Any] = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise HistoryConfigError(f"{path}: {exc}") from None
    known = {"cluster", "sqlite", "postgres", "http", "batch_entries_max", "batch_interval_ms",
             "principal", "credential"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise HistoryConfigError(f"{path}: unknown keys {unknown}")
    host, port = parse_host_port(raw["http"]) if raw.get("http") else ("127.0.0.1", 0)
    return HistoryConfig(tuple(raw.get("cluster", ())), raw.get("sqlite"), raw.get("postgres"),
                         host, port,
                         int(raw.get("batch_entries_max", BATCH_ENTRIES_MAX_DEFAULT)),
                         int(raw.get("batch_interval_ms", BATCH_INTERVAL_MS_DEFAULT)),
                         str(raw.get("principal", "")), str(raw.get("credential", "")))


class HistoryWriter:
    """Stream entries -> folder -> database, batch by batch."""

    def __init__(self, database: HistoryDatabase, addresses: list[str], *, principal: str,
                 credential: str, batch_entries_max: int = BATCH_ENTRIES_MAX_DEFAULT,
                 batch_interval_ms: int = BATCH_INTERVAL_MS_DEFAULT) -> None:
        self.database = database
        self.position, self.timestamp_ns = database.high_water_mark()
        self.folder = HistoryFolder(self.position + 1)
        self.stream = EventStream(addresses, self.position + 1, principal=principal,
                                  credential=credential)
        self.batch_entries_max = batch_entries_max
        self.batch_interval_s = batch_interval_ms / 1000
        self.entries_written = 0
        self.events_written = 0
        self.batches_written = 0

    async def run(self) -> None:
        await self.stream.start()
        try:
            while True:
                await self._batch()
        finally:
            await self.stream.close()

    async def _batch(self) -> None:
        folder, stream = self.folder, self.stream
        entry = await stream.next_entry()
        folder.add(entry.position, entry.timestamp_ns, entry.outcomes)
        deadline = time.monotonic() + self.batch_interval_s
        while folder.batch.entries < self.batch_entries_max:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                break
            if stream.ready_entries():
                entry = await stream.next_entry()
            else:
                try:
                    entry = await asyncio.wait_for(stream.next_entry(), min(left_s, LINGER_S))
                except TimeoutError:
                    break
            folder.add(entry.position, entry.timestamp_ns, entry.outcomes)
        batch = folder.take()
        self.database.write(batch)
        self.position, self.timestamp_ns = batch.position, batch.timestamp_ns
        self.entries_written += batch.entries
        self.events_written += batch.events
        self.batches_written += 1

    def status(self) -> dict[str, Any]:
        return {"position": self.position, "time": iso_time(self.timestamp_ns),
                "timestamp_ns": self.timestamp_ns, "entries_written": self.entries_written,
                "events_written": self.events_written, "batches_written": self.batches_written,
                "database": self.database.kind, "stream_reconnects": self.stream.reconnects,
                "stream_error": self.stream.last_error}


async def run_history(config: HistoryConfig, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (or the stream gives up)."""
    database = open_history(config.sqlite, config.postgres)
    reader = open_history(config.sqlite, config.postgres, readonly=True)
    writer = HistoryWriter(database, list(config.cluster), principal=config.principal,
                           credential=config.credential,
                           batch_entries_max=config.batch_entries_max,
                           batch_interval_ms=config.batch_interval_ms)
    server = HistoryHttpServer(HistoryQueries(reader), writer.status)
    try:
        where = ""
        if config.http_port:
            port = await server.start(config.http_host, config.http_port)
            where = f", queries on http://{config.http_host}:{port}"
        print(f"venue history: {database.kind} database, resuming at position "
              f"{writer.position + 1}{where}", flush=True)
        task = asyncio.get_running_loop().create_task(writer.run())
        stopped = asyncio.get_running_loop().create_task(stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        task.cancel()
        stopped.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    finally:
        await server.close()
        reader.close()
        database.close()
