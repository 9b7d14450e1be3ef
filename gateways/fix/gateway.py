"""The FIX gateway process: FIX sessions in front of a running cluster.

Commands go in through one ``VenueClient`` session (exactly once across failovers). Every
report goes out from the cluster's event stream, never from a command's reply: a fill
of a resting order is caused by someone else's command, and the stream is the one ordered
record of both. The gateway folds the stream into its own read model (instruments, the
orders of its accounts, L2 books) and turns each entry into execution reports, cancel
rejects and market data for the sessions concerned.

Exactly once, across gateway restarts: the last stream position whose output was handed to
the sessions is committed in the same LMDB transaction as the sessions' sequence numbers and
stored messages (``LmdbSessionStores``), before any of it is written to a socket. On start
the gateway replays the stream from position 1 to rebuild its read model, sending nothing
for positions it had already delivered; a counterparty that missed messages while away gets
them through the FIX resend, like any FIX session. The acceptor opens only once the replay
has caught up with the cluster, so that no order meets a half-built instrument table.
"""

from __future__ import annotations

import asyncio
import logging
import time

from venue.codecs import Command
from venue.codecs.schema import Outcome
from venue.gateways.instruments import Instruments
from venue.gateways.link import ClusterLink

from .acceptor import FixAcceptor
from .acceptor_core import FixAcceptorCore
from .dictionary import DataDictionary
from .execreports import OrderTable, Report, reports
from .fixtime import format_utc
from .gateway_config import DROP_COPY, GatewayConfig
from .marketdata import MarketDataHub
from .order_entry import OrderEntryApplication
from .session import FixSession
from .store import LmdbSessionStores

log = logging.getLogger("venue.fix")
CATCH_UP_TIMEOUT_S = 60.0


class FixGateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.instruments = Instruments()
        self.market_data = MarketDataHub(self.instruments)
        self.stores = LmdbSessionStores(config.data_dir, sync=config.store_sync)
        self.delivered_position = self.stores.position
        self.application = OrderEntryApplication(self)
        dictionary = DataDictionary.for_version("FIX.4.4")
        self.sessions: dict[object, FixSession] = {}
        self.by_account: dict[int, list[FixSession]] = {}
        self.drop_copies: list[tuple[FixSession, frozenset[int] | None]] = []
        served: set[int] | None = set()
        for entry in config.sessions:
            sid = entry.fix.session_id
            session = FixSession(entry.fix, self.stores.store(sid.key), dictionary,
                                 self.application)
            self.sessions[sid] = session
            if entry.kind == DROP_COPY:
                accounts = frozenset(entry.accounts) or None
                self.drop_copies.append((session, accounts))
                served = None if accounts is None or served is None else served | accounts
            else:
                self.by_account.setdefault(entry.account, []).append(session)
                if served is not None:
                    served.add(entry.account)
        self.orders = OrderTable(served)
        self.core = FixAcceptorCore(self.sessions.values(),
                                    message_size_max=config.message_size_max,
                                    connections_max=config.connections_max)
        self.acceptor = FixAcceptor(self.core, config.host, config.port)
        self.link = ClusterLink(config.addresses, cluster_id=config.cluster_id,
                                principal=config.principal, credential=config.credential,
                                name="FIX gateway", on_saturated=self.acceptor.pause_reading,
                                on_drained=self.acceptor.resume_reading)
        self.stream = self.link.stream
        self._consumer: asyncio.Task[None] | None = None
        self._caught_up = asyncio.Event()
        self._catch_up_to = 0
        self.position = 0

    @property
    def port(self) -> int:
        return self.acceptor.port

    async def start(self) -> None:
        self._catch_up_to = await self.link.start()
        self._consumer = asyncio.get_running_loop().create_task(self._consume())
        if self._catch_up_to <= 0:
            self._caught_up.set()
        await asyncio.wait_for(self._caught_up.wait(), CATCH_UP_TIMEOUT_S)
        await self.acceptor.start()
        log.info("FIX gateway: caught up at %d, listening on %s:%d", self.position,
                 self.config.host, self.acceptor.port)

    async def close(self) -> None:
        await self.acceptor.close()
        if self._consumer is not None:
            self._consumer.cancel()
            try:
                await self._consumer
            except asyncio.CancelledError:
                pass
        await self.link.close()
        self.stores.close()

    # -- commands ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """As many commands await the cluster's reply as the client session may hold: a
        new one is refused (the FIX client is told), never dropped."""
        return self.link.busy

    def submit(self, command: Command, must: bool = False) -> bool:
        """Send a command to the cluster (``ClusterLink.submit``): False if ``busy``; a
        ``must`` command (a cancel on disconnect) waits for room. Past three quarters of
        the limit the acceptor stops reading from the FIX connections (TCP back-pressure)
        until a quarter is left."""
        return self.link.submit(command, must)

    # -- the stream ----------------------------------------------------------------------

    async def _consume(self) -> None:
        async for position, outcomes in self.stream:
            self.apply(position, outcomes)
            if self.stream._queue.empty():  # a burst is committed and written once
                self.acceptor.flush()
            if position >= self._catch_up_to:
                self._caught_up.set()

    def apply(self, position: int, outcomes: list[Outcome]) -> None:
        """Fold one applied entry into the read model and hand its output to sessions."""
        self.position = position
        events = [event for outcome in outcomes for event in outcome.events]
        if not events:
            return
        for event in events:
            self.instruments.on_event(event)
        now_ns = time.time_ns()
        out = reports(position, events, self.orders, self.instruments, format_utc(now_ns))
        market_data = self.market_data.on_events(position, events)
        if position <= self.delivered_position:
            return  # delivered before a restart: the read model is rebuilt, nothing resent
        for report in out:
            self.route(report, now_ns)
        for session, msg_type, body in market_data:
            if isinstance(session, FixSession) and session.logged_on:
                session.send(msg_type, body, now_ns=now_ns)
        self.stores.set_position(position)
        self.delivered_position = position

    def route(self, report: Report, now_ns: int) -> None:
        for session in self.by_account.get(report.account, ()):
            session.send(report.msg_type, report.body, now_ns=now_ns)
        if report.msg_type != b"8":
            return
        for session, accounts in self.drop_copies:
            if accounts is None or report.account in accounts:
                session.send(report.msg_type, report.body, now_ns=now_ns)


async def run_gateway(config: GatewayConfig, stop: asyncio.Event) -> None:
    gateway = FixGateway(config)
    await gateway.start()
    print(f"venue fix-gateway: FIX 4.4 on {config.host}:{gateway.port}, "
          f"{len(config.sessions)} sessions, cluster {config.cluster_id}", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.close()
