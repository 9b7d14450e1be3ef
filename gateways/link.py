"""``ClusterLink``: what every gateway holds of the cluster. One ``VenueClient`` session for
commands (exactly once across failovers) and one ``EventStream`` from position 1 for
everything that comes back, read from the node the client talks to.

``submit`` keeps count of the commands awaiting the cluster's reply and refuses a new one
(returns False) once the client session could not take it: the gateway then answers its
client "busy" instead of the command vanishing in a ``BackPressure``. Past three quarters
of the limit ``on_saturated`` is called (a gateway stops reading its clients), below a
quarter ``on_drained``. ``must`` commands (a cancel on disconnect) wait for room instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from venue.cluster.client import VenueClient, node_status
from venue.cluster.stream import EventStream
from venue.codecs import Command

log = logging.getLogger("venue.gateways")


def _nothing() -> None:
    pass


class ClusterLink:
    def __init__(self, addresses: Sequence[str], *, cluster_id: str, principal: str,
                 credential: str, name: str = "gateway",
                 on_saturated: Callable[[], None] = _nothing,
                 on_drained: Callable[[], None] = _nothing) -> None:
        self.name = name
        self.addresses = list(addresses)
        self.client = VenueClient(self.addresses, cluster_id=cluster_id, principal=principal,
                                  credential=credential)
        self.stream = EventStream(self.addresses, 1, principal=principal,
                                  credential=credential, preferred=lambda: self.client.address)
        self.on_saturated, self.on_drained = on_saturated, on_drained
        self.in_flight_max = self.client.session.unacked_commands_max
        self.in_flight = self.submit_failures = self.busy_refusals = 0
        self._deferred: list[Command] = []
        self._tasks: set[asyncio.Future] = set()

    async def start(self) -> int:
        """Open the client session and the stream; the cluster's applied index now (what a
        gateway's read model must reach before it takes clients)."""
        await self.client.start()
        applied = await self.applied_index()
        await self.stream.start()
        return applied

    async def close(self) -> None:
        await self.stream.close()
        await self.client.close()

    async def applied_index(self) -> int:
        for address in [self.client.address, *self.addresses]:
            try:
                status = await node_status(address, timeout_s=2.0)
            except (TimeoutError, OSError, ConnectionError):
                continue
            return int(status.get("applied_index", 0))
        raise ConnectionError("no node answers a status request")

    @property
    def busy(self) -> bool:
        return self.in_flight >= self.in_flight_max

    def submit(self, command: Command, must: bool = False) -> bool:
        """Send a command (its effects come back through the stream); False if ``busy``,
        unless ``must``."""
        if self.busy:
            if must:
                self._deferred.append(command)
                return True
            self.busy_refusals += 1
            return False
        self.in_flight += 1
        future = self.client.send(command)
        self._tasks.add(future)
        future.add_done_callback(self._submitted)
        if self.in_flight >= self.in_flight_max * 3 // 4:
            self.on_saturated()
        return True

    def _submitted(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        self.in_flight -= 1
        while self._deferred and not self.busy:
            self.submit(self._deferred.pop(0))
        if self.in_flight <= self.in_flight_max // 4:
            self.on_drained()
        if not task.cancelled() and task.exception() is not None:
            self.submit_failures += 1
            log.error("%s: a command's reply did not arrive (it may still apply; its "
                      "effects come from the stream if it does): %r", self.name,
                      task.exception())
