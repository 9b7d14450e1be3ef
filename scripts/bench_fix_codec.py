"""FIX tag=value codec: the compiled ``CyFixParser``/``cy_encode`` against the pure-Python
``PyFixParser``/``py_encode``, side by side in one run.

Parse: a seeded stream of NewOrderSingle messages (FIX.4.4, ~170-190 bytes, 16 fields) fed in
64 KiB reads, every message taken out with ``next()`` (framing, field offsets, BodyLength and
CheckSum verified). Parse + get: the same, also reading ClOrdID, OrderQty and Price.
Encode: seeded ExecutionReport bodies (25 fields: bytes, str and int values) to whole
messages. One warm-up run each, then ``--runs`` measured runs, implementations interleaved,
medians. Gates: before timing, the whole stream must parse well formed with the same fields
in both twins and the first 1,000 encodings must be equal; every run checks its count.

    python scripts/bench_fix_codec.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import figure, median, print_environment, print_json_line

from venue.codecs.tagvalue import CyFixParser, PyFixParser, py_encode

try:
    from venue.codecs._tagvalue import cy_encode
except ImportError:
    cy_encode = None

READ_BYTES = 65536
BEGIN_STRING = b"FIX.4.4"


def header(rng: random.Random, msg_type: str, sequence: int) -> list[tuple[int, object]]:
    return [(35, msg_type), (49, b"CLIENT%02d" % rng.randint(1, 99)), (56, b"VENUE"),
            (34, sequence), (52, b"20261202-03:%02d:%02d.%03d" % (
                rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999)))]


def new_order_single(rng: random.Random, sequence: int) -> list[tuple[int, object]]:
    return [*header(rng, "D", sequence),
            (11, b"ORD-%010d" % rng.randint(0, 10**10 - 1)),
            (1, b"ACC-%04d" % rng.randint(0, 9999)),
            (55, rng.choice((b"EURUSD", b"BTC-USD", b"AAPL", b"ES-Z6"))), (54, rng.choice((1, 2))),
            (60, b"20261202-03:00:00.000"), (38, rng.randint(1, 10**6)), (40, 2),
            (44, f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}"), (59, 0)]


def execution_report(rng: random.Random, sequence: int) -> list[tuple[int, object]]:
    quantity, filled = rng.randint(1, 10**6), rng.randint(0, 10**6)
    return [*header(rng, "8", sequence),
            (37, b"V-%012d" % rng.randint(0, 10**12)), (11, b"ORD-%010d" % rng.randint(0, 10**10)),
            (17, b"X-%012d" % rng.randint(0, 10**12)), (150, b"F"), (39, b"1"),
            (1, b"ACC-%04d" % rng.randint(0, 9999)), (55, "EURUSD"), (54, rng.choice((1, 2))),
            (38, quantity), (40, 2), (44, f"1.{rng.randint(0, 9999):04d}"), (59, 0),
            (32, filled), (31, f"1.{rng.randint(0, 9999):04d}"), (151, quantity),
            (14, filled), (6, f"1.{rng.randint(0, 9999):04d}"), (60, b"20261202-03:00:00.000"),
            (58, "partial fill")]


def build_stream(messages: int, seed: int) -> tuple[list[bytes], int]:
    rng = random.Random(seed)
    stream = b"".join(py_encode(BEGIN_STRING, new_order_single(rng, i + 1))
                      for i in range(messages))
    return [stream[i:i + READ_BYTES] for i in range(0, len(stream), READ_BYTES)], len(stream)


def parse(cls: type, chunks: list[bytes], messages: int, read_fields: bool) -> float:
    parser = cls()
    count = 0
    started = time.perf_counter()
    for chunk in chunks:
        parser.feed(chunk)
        next_message = parser.next
        while (message := next_message()) is not None:
            if read_fields:
                message.get(11)
                message.get(38)
                message.get(44)
            count += 1
    elapsed = time.perf_counter() - started
    if count != messages:
        raise SystemExit(f"{cls.__name__} parsed {count} messages, expected {messages}")
    return messages / elapsed


def check_parsers_agree(chunks: list[bytes]) -> None:
    results = []
    for cls in (CyFixParser, PyFixParser):
        parser, messages = cls(), []
        for chunk in chunks:
            parser.feed(chunk)
            while (message := parser.next()) is not None:
                messages.append((message.fields(), message.garbled))
        results.append(messages)
    if results[0] != results[1] or any(garbled for _, garbled in results[0]):
        raise SystemExit("the parsers disagree or found a garbled message")


def encode(function, bodies: list[list[tuple[int, object]]]) -> tuple[float, bytes]:
    started = time.perf_counter()
    last = b""
    for body in bodies:
        last = function(BEGIN_STRING, body)
    return len(bodies) / (time.perf_counter() - started), last


def prepared(messages: int, seed: int) -> tuple[list, int, list]:
    """The NewOrderSingle stream (chunks, bytes) and ExecutionReport bodies, both twins
    checked to agree on them."""
    chunks, stream_bytes = build_stream(messages, seed)
    rng = random.Random(seed + 1)
    bodies = [execution_report(rng, i + 1) for i in range(messages)]
    if any(cy_encode(BEGIN_STRING, body) != py_encode(BEGIN_STRING, body)
           for body in bodies[:1000]):
        raise SystemExit("cy_encode and py_encode disagree")
    check_parsers_agree(chunks)
    return chunks, stream_bytes, bodies


def codec_rates(chunks: list, bodies: list, messages: int, runs: int,
                with_get3: bool = True) -> dict[str, list[float]]:
    """Messages per second of each twin: parse (optionally reading 3 fields too) and
    encode, a warm-up, then ``runs`` interleaved runs."""
    cases = {
        "parse_per_s": lambda: parse(CyFixParser, chunks, messages, False),
        "py_parse_per_s": lambda: parse(PyFixParser, chunks, messages, False),
    }
    if with_get3:
        cases["parse_get3_per_s"] = lambda: parse(CyFixParser, chunks, messages, True)
        cases["py_parse_get3_per_s"] = lambda: parse(PyFixParser, chunks, messages, True)
    cases["encode_per_s"] = lambda: encode(cy_encode, bodies)[0]
    cases["py_encode_per_s"] = lambda: encode(py_encode, bodies)[0]
    rates: dict[str, list[float]] = {name: [] for name in cases}
    for measure in cases.values():
        measure()  # warm-up
    for _ in range(runs):
        for name, measure in cases.items():
            rates[name].append(measure())
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.messages, args.runs = 50_000, 3
    if CyFixParser is None or cy_encode is None:
        raise SystemExit("the Cython FIX codec is not compiled: pip install -e .")
    print_environment()
    chunks, stream_bytes, bodies = prepared(args.messages, args.seed)
    sample = py_encode(BEGIN_STRING, bodies[0])
    print(f"# {args.messages:,} NewOrderSingle ({stream_bytes / args.messages:.0f} bytes mean) "
          f"in {READ_BYTES // 1024} KiB reads; {args.messages:,} ExecutionReport "
          f"({len(bodies[0])} body fields, {len(sample)} bytes first); seed {args.seed}, "
          f"{args.runs} runs + warm-up, implementations interleaved")
    rates = codec_rates(chunks, bodies, args.messages, args.runs)
    medians = {name: median(values) for name, values in rates.items()}
    for name, value in medians.items():
        runs = " ".join(f"{rate:,.0f}" for rate in rates[name])
        print(f"{name:<20} median {value:>12,.0f} msg/s  ({1e9 / value:,.0f} ns/msg)  "
              f"runs {runs}")
    print(f"speedup  parse {medians['parse_per_s'] / medians['py_parse_per_s']:.1f}x  "
          f"encode {medians['encode_per_s'] / medians['py_encode_per_s']:.1f}x")
    print_json_line("bench_fix_codec", [
        figure(name, value, "msg/s") for name, value in medians.items()
    ], name="bench_fix_codec", quick=args.quick, seed=args.seed, runs=args.runs,
        messages=args.messages)


if __name__ == "__main__":
    main()
