"""Golden bytes: the exact msgpack encoding of every type in the log and on the wire.

Every log ever written must decode the same way forever, so one representative instance of
each type is encoded with the canonical encoder and compared with ``golden/encodings.txt``.
Each sample sets every field to a distinct, non-zero, non-default value, so that reordering,
retyping or dropping a field changes the bytes.

After an intended format change (a new type, a field appended with a default) run
``python -m pytest tests/codecs --rewrite-golden`` and review the diff of the golden file: a
changed line for an existing type means old logs no longer decode as they used to.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import msgspec
import pytest

from venue.codecs import (
    BUILTIN_COMMANDS,
    BUILTIN_EVENTS,
    PAYLOAD_TYPES,
    AddInstrument,
    BalanceChanged,
    BalanceReason,
    BookLevelChanged,
    CancelOrder,
    CancelReason,
    ClientCommand,
    CloseInstrument,
    CommandBatch,
    CommandRejected,
    ConfigChange,
    DecodeError,
    Deposit,
    EntryKind,
    HaltInstrument,
    InstrumentAdded,
    InstrumentStatus,
    InstrumentStatusChanged,
    KillSwitchSet,
    LogEntry,
    MassCancel,
    MassCancelCompleted,
    NoOp,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
    OrderType,
    Outcome,
    ReferencePriceSet,
    RejectReason,
    ReplaceOrder,
    RequestKind,
    ResumeInstrument,
    RiskLimitsSet,
    Schema,
    SelfTradePrevention,
    SessionClose,
    SessionClosed,
    SessionCloseReason,
    SessionOpen,
    SessionOpened,
    SessionRejected,
    SetKillSwitch,
    SetReferencePrice,
    SetRiskLimits,
    Side,
    SnapshotMarker,
    SubmitOrder,
    TimeInForce,
    TimerFire,
    Withdraw,
)
from venue.codecs.client import (
    AdminRequest,
    AdminResult,
    Connect,
    Connected,
    ConnectRefused,
    Disconnect,
    GetStatus,
    Keepalive,
    NodeStatus,
    Redirect,
    Reply,
    StreamEntry,
    Submit,
    SubmitRefused,
    Subscribe,
)
from venue.engine.modules.counter import Increment, Incremented

ENCODER = msgspec.msgpack.Encoder(order="deterministic")
GOLDEN_PATH = Path(__file__).parent / "golden" / "encodings.txt"
SCHEMA = Schema(commands=[Increment], events=[Incremented])

# -- one representative instance per type --------------------------------------------------

DEPOSIT = Deposit(account=7001, asset=4, amount=2_500_000, transfer_id="dep-005")
CANCEL = CancelOrder(account=7001, instrument_id=42, client_order_id="cxl-002",
                     order_id=900_001, orig_client_order_id="ord-001")
COMMANDS = [
    SubmitOrder(account=7001, instrument_id=42, client_order_id="ord-001", side=Side.SELL,
                order_type=OrderType.STOP_LIMIT, time_in_force=TimeInForce.GTD,
                price=1_234_500, quantity=300, post_only=True, display_quantity=100,
                stop_price=1_230_000, expire_time_ns=1_700_000_000_123_456_789,
                self_trade_group=55, stp_mode=SelfTradePrevention.CANCEL_BOTH),
    CANCEL,
    ReplaceOrder(account=7001, instrument_id=42, client_order_id="ord-003", price=1_234_600,
                 quantity=250, order_id=900_001, orig_client_order_id="ord-001",
                 stop_price=1_230_100),
    MassCancel(client_request_id="mass-004", account=7001, instrument_id=42),
    AddInstrument(instrument_id=42, symbol="BTC-EUR", base_asset=3, quote_asset=4,
                  price_decimals=2, quantity_decimals=8, tick_size=50, lot_size=1000,
                  min_quantity=5000, max_quantity=10**12, price_band_bps=750,
                  reference_price=6_500_000),
    HaltInstrument(instrument_id=42, reason="volatility halt"),
    ResumeInstrument(instrument_id=43),
    CloseInstrument(instrument_id=44),
    SetReferencePrice(instrument_id=42, price=6_510_000),
    SetRiskLimits(account=7001, max_order_quantity=10_000, max_order_notional=5_000_000_000,
                  max_open_orders=64),
    DEPOSIT,
    Withdraw(account=7001, asset=3, amount=125_000, transfer_id="wd-006"),
    SetKillSwitch(account=7001, engaged=True),
]
ACCEPTED = OrderAccepted(order_id=900_001, account=7001, instrument_id=42,
                         client_order_id="ord-001", side=Side.SELL,
                         order_type=OrderType.STOP_LIMIT, time_in_force=TimeInForce.GTD,
                         price=1_234_500, quantity=300, stop_price=1_230_000,
                         display_quantity=100, expire_time_ns=1_700_000_000_123_456_789)
FILLED = OrderFilled(trade_id=77, instrument_id=42, price=1_234_500, quantity=120,
                     taker_side=Side.BUY, maker_order_id=900_001, maker_account=7001,
                     maker_client_order_id="ord-001", maker_leaves_quantity=180,
                     taker_order_id=900_003, taker_account=7002,
                     taker_client_order_id="ord-008", taker_leaves_quantity=30)
EVENTS = [
    ACCEPTED,
    OrderRejected(account=7001, instrument_id=42, client_order_id="ord-007",
                  request=RequestKind.REPLACE, reason=RejectReason.PRICE_OUT_OF_BAND,
                  order_id=900_002, text="prix hors bande ±7,5 %",  # pins UTF-8 text
                  side=2, order_type=4, time_in_force=1, price=1_234_700, quantity=260,
                  stop_price=1_230_200, orig_client_order_id="ord-003"),
    FILLED,
    OrderCancelled(order_id=900_001, account=7001, instrument_id=42, client_order_id="ord-001",
                   reason=CancelReason.SELF_TRADE_PREVENTION, cancelled_quantity=180,
                   request_client_order_id="cxl-002"),
    OrderReplaced(order_id=900_001, account=7001, instrument_id=42, client_order_id="ord-003",
                  orig_client_order_id="ord-001", price=1_234_600, quantity=250,
                  leaves_quantity=130, priority_kept=True, stop_price=1_230_100),
    OrderExpired(order_id=900_004, account=7002, instrument_id=42, client_order_id="ord-009",
                 expired_quantity=75),
    OrderTriggered(order_id=900_005, account=7003, instrument_id=42, client_order_id="ord-010",
                   trigger_price=1_229_900),
    MassCancelCompleted(client_request_id="mass-004", account=7001, instrument_id=42,
                        cancelled_count=12),
    InstrumentAdded(instrument_id=42, symbol="BTC-EUR", base_asset=3, quote_asset=4,
                    price_decimals=2, quantity_decimals=8, tick_size=50, lot_size=1000,
                    min_quantity=5000, max_quantity=10**12, price_band_bps=750,
                    reference_price=6_500_000),
    InstrumentStatusChanged(instrument_id=42, status=InstrumentStatus.HALTED,
                            reason="volatility halt"),
    ReferencePriceSet(instrument_id=42, price=6_510_000),
    CommandRejected(command_tag=22, reason=RejectReason.INSUFFICIENT_BALANCE, account=7001,
                    instrument_id=42, text="available 100 < 125000"),
    BookLevelChanged(instrument_id=42, side=Side.SELL, price=1_234_500, quantity=180,
                     order_count=3),
    BalanceChanged(account=7001, asset=4, available=2_375_000, held=125_000,
                   reason=BalanceReason.WITHDRAW, delta=-125_000,  # pins a negative int
                   transfer_id="wd-006"),
    RiskLimitsSet(account=7001, max_order_quantity=10_000, max_order_notional=5_000_000_000,
                  max_open_orders=64),
    KillSwitchSet(account=7001, engaged=True),
    SessionOpened(session_id=1_048_576, principal="fix:ACME-01"),
    SessionClosed(session_id=1_048_576, reason=SessionCloseReason.TIMEOUT),
    SessionRejected(session_id=1_048_576, client_seq=17, reason=RejectReason.SESSION_SEQUENCE_GAP,
                    expected_client_seq=15),
]
DIAGNOSTICS = [Increment(key=5, amount=3), Incremented(key=5, value=8)]
CLIENT_COMMAND = ClientCommand(session_id=1_048_576, client_seq=17,
                               command=ENCODER.encode(DEPOSIT))
BATCH = CommandBatch(commands=[
    CLIENT_COMMAND,
    ClientCommand(session_id=1_048_577, client_seq=3, command=ENCODER.encode(CANCEL)),
])
LOG = [
    CLIENT_COMMAND,
    BATCH,
    SessionOpen(principal="fix:ACME-01"),
    SessionClose(session_id=1_048_576, reason=SessionCloseReason.ADMIN),
    TimerFire(deadline_ns=1_700_000_060_000_000_000),
    SnapshotMarker(requested_by="operator:alice"),
    ConfigChange(change=2, node_id=4, address="10.0.0.4:7400"),
    NoOp(),
    LogEntry(index=123_456, term=7, timestamp_ns=1_700_000_000_987_654_321,
             kind=EntryKind.COMMAND_BATCH, payload=ENCODER.encode(BATCH)),
    Outcome(session_id=1_048_576, client_seq=17, events=[ACCEPTED, FILLED]),
]
CLIENT_PROTOCOL = [
    Connect(cluster_id="prod-1", principal="fix:ACME-01", credential="tok-9f2",
            session_id=1_048_576, resume_from_position=123_400),
    Submit(client_seq=17, command=ENCODER.encode(DEPOSIT)),
    Keepalive(),
    Subscribe(from_position=123_401, principal="history", credential="t0ken"),
    Disconnect(),
    Connected(session_id=1_048_576, last_client_seq=16, leader_id=2),
    Redirect(leader_id=3, address="127.0.0.1:7003"),
    ConnectRefused(reason="unknown principal"),
    Reply(position=123_456, client_seq=17, events=ENCODER.encode([ACCEPTED])),
    StreamEntry(position=123_456, event_bytes=b"\x91\x93\x01\x02\x90",
                timestamp_ns=1_700_000_000_123_456_789),
    SubmitRefused(client_seq=18, reason="not leader"),
    GetStatus(),
    NodeStatus(report=b'{"node_id": 2, "role": "leader"}'),
    AdminRequest(principal="operator", credential="tok-1", action="add-node", node_id=4,
                 address='{"peer": "127.0.0.1:7104", "client": "127.0.0.1:7204"}'),
    AdminResult(ok=True, text="node 4 added"),
]
SAMPLE_LIST = [*COMMANDS, *EVENTS, *DIAGNOSTICS, *LOG, *CLIENT_PROTOCOL]
SAMPLES: dict[str, Any] = {type(sample).__name__: sample for sample in SAMPLE_LIST}
TAGGED = [type(s).__name__ for s in [*COMMANDS, *EVENTS, *DIAGNOSTICS]]


def decode(name: str, data: bytes) -> Any:
    """Decode ``data`` the way the node does for the type called ``name``."""
    cls = type(SAMPLES[name])
    if cls in SCHEMA.commands.values():
        return SCHEMA.decode_command(data)
    if cls in SCHEMA.events.values():
        return SCHEMA.decode_event(data)
    if cls is Outcome:  # outcomes are stored as a list per entry: wrap in a 1-element array
        return SCHEMA.decode_outcomes(b"\x91" + data)[0]
    return msgspec.msgpack.Decoder(cls).decode(data)


# -- the golden file -----------------------------------------------------------------------

HEADER = """\
# Pinned msgpack encodings (Encoder(order="deterministic")) of one sample per type, as
# `TypeName <hex>`. Regenerate with `python -m pytest tests/codecs --rewrite-golden` and
# review the diff: a changed line for an existing type breaks every log already written.
"""


def current_encodings() -> dict[str, str]:
    return {name: ENCODER.encode(sample).hex() for name, sample in SAMPLES.items()}


def read_golden() -> dict[str, str]:
    golden: dict[str, str] = {}
    for line in GOLDEN_PATH.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, hex_bytes = line.split()
            assert name not in golden, f"{name} appears twice in {GOLDEN_PATH}"
            golden[name] = hex_bytes
    return golden


@pytest.fixture(scope="module")
def golden(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.config.getoption("--rewrite-golden", default=False):
        lines = [f"{name} {hex_bytes}" for name, hex_bytes in current_encodings().items()]
        GOLDEN_PATH.write_text(HEADER + "\n".join(lines) + "\n")
        warnings.warn(f"rewrote {GOLDEN_PATH}: review its diff before committing",
                      stacklevel=1)
    return read_golden()


# -- tests ---------------------------------------------------------------------------------


def test_samples_have_one_instance_per_type() -> None:
    assert len(SAMPLES) == len(SAMPLE_LIST), "two sample types share a name"


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_fields_are_distinct_and_non_default(name: str) -> None:
    """So that swapping, dropping or retyping any field changes the pinned bytes."""
    sample = SAMPLES[name]
    fields = msgspec.structs.fields(type(sample))
    values = [getattr(sample, field.name) for field in fields]
    for field, value in zip(fields, values, strict=True):
        assert value, f"{name}.{field.name} is zero or empty"
        assert field.required or value != field.default, f"{name}.{field.name} is the default"
    for i, value in enumerate(values):
        assert value not in values[i + 1:], f"{name} repeats the value {value!r}"


def test_every_builtin_type_is_pinned(golden: dict[str, str]) -> None:
    """A new command, event or payload type cannot ship without a golden line."""
    builtin = [*BUILTIN_COMMANDS, *BUILTIN_EVENTS, *PAYLOAD_TYPES.values(), LogEntry, Outcome,
               Increment, Incremented]
    names = {cls.__name__ for cls in builtin}
    assert names - SAMPLES.keys() == set()
    assert names - golden.keys() == set()


def test_golden_file_lists_exactly_the_samples(golden: dict[str, str]) -> None:
    assert list(golden) == list(SAMPLES)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_encoding_matches_golden_bytes(name: str, golden: dict[str, str]) -> None:
    assert ENCODER.encode(SAMPLES[name]).hex() == golden.get(name), (
        f"the encoding of {name} changed; if intended, rerun with --rewrite-golden and "
        f"review the diff"
    )


@pytest.mark.parametrize("name", list(SAMPLES))
def test_golden_bytes_decode_to_the_sample(name: str, golden: dict[str, str]) -> None:
    assert decode(name, bytes.fromhex(golden[name])) == SAMPLES[name]


@pytest.mark.parametrize("name", TAGGED)
def test_schema_encoder_writes_the_golden_bytes(name: str, golden: dict[str, str]) -> None:
    assert SCHEMA.encode(SAMPLES[name]).hex() == golden[name]


def test_log_entry_payload_decodes_as_the_type_its_kind_names(golden: dict[str, str]) -> None:
    entry = decode("LogEntry", bytes.fromhex(golden["LogEntry"]))
    payload = msgspec.msgpack.decode(entry.payload, type=PAYLOAD_TYPES[entry.kind])
    assert payload == BATCH
    assert SCHEMA.decode_command(payload.commands[0].command) == DEPOSIT


# -- schema evolution: fields are only appended, with defaults -----------------------------


def test_submit_order_from_an_older_writer_gets_the_defaults() -> None:
    """A writer that predates every optional field of SubmitOrder sent only 8 fields."""
    older = ENCODER.encode([1, 7001, 42, "ord-001", 2, 1, 1, 1_234_500, 300])
    assert SCHEMA.decode_command(older) == SubmitOrder(
        account=7001, instrument_id=42, client_order_id="ord-001", side=Side.SELL,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=1_234_500,
        quantity=300, post_only=False, display_quantity=0, stop_price=0, expire_time_ns=0,
        self_trade_group=0, stp_mode=SelfTradePrevention.NONE,
    )


def as_array(sample: Any) -> list[Any]:
    """The sample's encoded array: tag first for tagged types, then fields in order."""
    tag = type(sample).__struct_config__.tag
    values = [getattr(sample, field.name) for field in msgspec.structs.fields(type(sample))]
    return values if tag is None else [tag, *values]


def with_defaults_from(sample: Any, kept: int) -> Any:
    """``sample`` with every field after the first ``kept`` reset to its default."""
    dropped = msgspec.structs.fields(type(sample))[kept:]
    return msgspec.structs.replace(sample, **{field.name: field.default for field in dropped})


OPTIONAL = [name for name, sample in SAMPLES.items()
            if any(not field.required for field in msgspec.structs.fields(type(sample)))]
REQUIRED_TAGGED = [name for name in TAGGED
                   if any(field.required for field in msgspec.structs.fields(type(SAMPLES[name])))]
REQUIRED_LOG = [type(sample).__name__ for sample in LOG
                if any(field.required for field in msgspec.structs.fields(type(sample)))]


def without_last_required_field(sample: Any) -> bytes:
    fields = msgspec.structs.fields(type(sample))
    array = as_array(sample)
    required = sum(field.required for field in fields)
    return ENCODER.encode(array[:len(array) - len(fields) + required - 1])


@pytest.mark.parametrize("name", REQUIRED_TAGGED)
def test_command_or_event_missing_a_required_field_is_a_decode_error(name: str) -> None:
    with pytest.raises(DecodeError):
        decode(name, without_last_required_field(SAMPLES[name]))


@pytest.mark.parametrize("name", REQUIRED_LOG)
def test_log_payload_missing_a_required_field_is_refused(name: str) -> None:
    """The store and journal decode these with plain typed msgspec decoders."""
    with pytest.raises((msgspec.ValidationError, DecodeError)):
        decode(name, without_last_required_field(SAMPLES[name]))


def test_order_rejected_written_before_its_request_terms_decodes_with_defaults() -> None:
    """``OrderRejected`` grew the request's terms (side ... orig_client_order_id) at its end,
    with defaults: the bytes an older venue wrote (the golden line before the append) still
    decode, the new fields at 0 and "", and an older reader skips the new trailing fields."""
    written_before = bytes.fromhex(
        "9802cd1b592aa76f72642d3030370305ce000dbba2b77072697820686f72732062616e646520c2b1"
        "372c352025")
    event = decode("OrderRejected", written_before)
    assert event == OrderRejected(7001, 42, "ord-007", RequestKind.REPLACE,
                                  RejectReason.PRICE_OUT_OF_BAND, 900_002,
                                  "prix hors bande ±7,5 %")
    assert (event.side, event.quantity, event.orig_client_order_id) == (0, 0, "")

    class OrderRejectedBefore(msgspec.Struct, frozen=True, array_like=True, tag_field="type",
                              tag=2):
        account: int
        instrument_id: int
        client_order_id: str
        request: RequestKind
        reason: RejectReason
        order_id: int = 0
        text: str = ""

    old = msgspec.msgpack.decode(ENCODER.encode(SAMPLES["OrderRejected"]),
                                 type=OrderRejectedBefore)
    assert (old.order_id, old.text) == (900_002, "prix hors bande ±7,5 %")
