"""Which hash for the event chain: one chain step ``H(prev || index || event_bytes)`` per
candidate, over event records of typical sizes. Seeded, interleaved, medians.

    python scripts/bench_hash.py [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import struct
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import figure, median, print_environment, print_json_line

INDEX = struct.Struct(">Q")
SIZES_BYTES = (64, 512, 4096, 32768)  # one small event .. a large batch of events


def candidates() -> dict[str, Callable[[bytes, int, bytes], bytes]]:
    found: dict[str, Callable[[bytes, int, bytes], bytes]] = {
        "blake2b-128": lambda prev, i, data: hashlib.blake2b(
            prev + INDEX.pack(i) + data, digest_size=16).digest(),
        "sha256": lambda prev, i, data: hashlib.sha256(prev + INDEX.pack(i) + data).digest(),
        "xxh3_128": lambda prev, i, data: xxhash.xxh3_128_digest(prev + INDEX.pack(i) + data),
    }
    try:
        import blake3

        found["blake3"] = lambda prev, i, data: blake3.blake3(
            prev + INDEX.pack(i) + data).digest(16)
    except ImportError:
        print("# blake3 not installed: skipped (pip install blake3 to include it)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    number = 20_000 if args.quick else 100_000
    print_environment()
    rng = random.Random(args.seed)
    previous = rng.randbytes(16)
    table: dict[tuple[str, int], float] = {}
    hashes = candidates()
    for size in SIZES_BYTES:
        data = rng.randbytes(size)
        samples: dict[str, list[float]] = {name: [] for name in hashes}
        for _ in range(args.runs):
            for name, step in hashes.items():
                seconds = timeit.timeit(lambda s=step, d=data: s(previous, 12345, d),
                                        number=max(1000, number * 64 // size))
                samples[name].append(seconds / max(1000, number * 64 // size))
        for name in hashes:
            table[(name, size)] = median(samples[name]) * 1e9
    print(f"{'hash':<12}" + "".join(f"{size:>10} B" for size in SIZES_BYTES) + "   (ns/step)")
    for name in hashes:
        print(f"{name:<12}" + "".join(f"{table[(name, s)]:>12,.0f}" for s in SIZES_BYTES))
    ratio = table[("blake2b-128", 512)] / table[("xxh3_128", 512)]
    print(f"xxh3_128 is {ratio:.1f}x faster than blake2b at 512 B")
    print_json_line("hash", [
        figure("xxh3_128.ns_per_step_512B", table[("xxh3_128", 512)], "ns"),
        figure("blake2b.ns_per_step_512B", table[("blake2b-128", 512)], "ns"),
        figure("xxh3_vs_blake2b_512B", ratio, "ratio"),
    ], quick=args.quick)


if __name__ == "__main__":
    main()
