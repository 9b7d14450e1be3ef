"""Prometheus metrics of one node, in the text exposition format, over plain HTTP.

``GET /metrics`` answers; anything else is 404. Gauges: role, term, commit and applied
index, last log index, queued commands, client connections and sessions, replication lag
per follower (on the leader), halted; counters: elections won, entries applied, peer
messages dropped per link; summaries: commands per batch (as leader) and the time of each
node-loop round that applied entries (persist, apply and store).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import NodeServer

REQUEST_BYTES_MAX = 8192


def render(server: NodeServer) -> str:
    status = server.core.status()
    node = f'node="{server.config.node_id}"'
    lines = [
        "# TYPE venue_is_leader gauge",
        f"venue_is_leader{{{node}}} {int(status['role'] == 'leader')}",
        "# TYPE venue_term gauge", f"venue_term{{{node}}} {status['term']}",
        "# TYPE venue_commit_index gauge",
        f"venue_commit_index{{{node}}} {status['commit_index']}",
        "# TYPE venue_applied_index gauge",
        f"venue_applied_index{{{node}}} {status['applied_index']}",
        "# TYPE venue_last_index gauge", f"venue_last_index{{{node}}} {status['last_index']}",
        "# TYPE venue_queued_commands gauge",
        f"venue_queued_commands{{{node}}} {status['queued_commands']}",
        "# TYPE venue_client_connections gauge",
        f"venue_client_connections{{{node}}} {len(server.ingress.connections)}",
        "# TYPE venue_client_sessions gauge",
        f"venue_client_sessions{{{node}}} {len(server.core.engine.sessions)}",
        "# TYPE venue_elections_won_total counter",
        f"venue_elections_won_total{{{node}}} {server.elections}",
        "# TYPE venue_halted gauge", f"venue_halted{{{node}}} {int(server.halted is not None)}",
        "# TYPE venue_batch_commands summary",
        f"venue_batch_commands_sum{{{node}}} {server.core.batched_commands}",
        f"venue_batch_commands_count{{{node}}} {server.core.batches_proposed}",
        "# TYPE venue_apply_seconds summary",
        f"venue_apply_seconds_sum{{{node}}} {server.apply_seconds:.6f}",
        f"venue_apply_seconds_count{{{node}}} {server.apply_rounds}",
        "# TYPE venue_applied_entries_total counter",
        f"venue_applied_entries_total{{{node}}} {server.applied_entries}",
        "# TYPE venue_replication_lag_entries gauge",
    ]
    for follower, lag in status["lag"].items():  # type: ignore[union-attr]
        lines.append(f'venue_replication_lag_entries{{{node},follower="{follower}"}} {lag}')
    lines.append("# TYPE venue_peer_messages_dropped_total counter")
    for peer_id, link in sorted(server.transport.links.items()):
        lines.append(f'venue_peer_messages_dropped_total{{{node},peer="{peer_id}"}} '
                     f'{link.dropped}')
    return "\n".join(lines) + "\n"


async def serve_metrics(server: NodeServer, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        if len(request) > REQUEST_BYTES_MAX:
            raise ValueError("request too large")
        first_line = request.split(b"\r\n", 1)[0].decode("latin-1")
        if first_line.split(" ")[:2] == ["GET", "/metrics"]:
            body, status = render(server).encode(), "200 OK"
        else:
            body, status = b"not found\n", "404 Not Found"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                     + body)
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            ValueError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
