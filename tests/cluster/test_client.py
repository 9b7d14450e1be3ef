"""``VenueClient.send``: a future per command, failed by one deadline sweep (no timer or
task per command), and never left pending by ``close``."""

from __future__ import annotations

import asyncio

from venue.cluster.client import VenueClient
from venue.codecs import Deposit


def _client() -> VenueClient:
    # never started: commands wait in the session for a connection that does not come
    return VenueClient(["127.0.0.1:1"], cluster_id="c", principal="p", credential="x")


def test_a_command_past_its_timeout_fails_and_one_within_it_waits() -> None:
    async def scenario() -> None:
        client = _client()
        loop = asyncio.get_running_loop()
        late = client.send(Deposit(1, 1, 5), timeout_s=1.0)
        patient = client.send(Deposit(1, 1, 6), timeout_s=60.0)
        client._expire(loop.time() + 2.0)
        assert isinstance(late.exception(), TimeoutError)
        assert not patient.done()
        assert list(client._waiting) == list(client._deadlines) == [2]
        await client.close()
        assert isinstance(patient.exception(), ConnectionError)

    asyncio.run(scenario())


def test_a_cancelled_command_is_forgotten_by_the_sweep() -> None:
    async def scenario() -> None:
        client = _client()
        loop = asyncio.get_running_loop()
        future = client.send(Deposit(1, 1, 5))
        future.cancel()
        client._expire(loop.time())
        assert client._waiting == {} and client._deadlines == {}
        await client.close()

    asyncio.run(scenario())
