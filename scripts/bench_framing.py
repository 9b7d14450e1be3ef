"""Frame decoding: the compiled ``CyFrameDecoder`` against the pure-Python ``PyFrameDecoder``,
side by side in one run (same seeded stream: frames of 20-200 bytes in 64 KiB reads).

    python scripts/bench_framing.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import figure, median, print_environment, print_json_line

from venue.codecs.framing import CyFrameDecoder, PyFrameDecoder, encode_frame


def build_stream(frames: int, seed: int) -> tuple[list[bytes], int]:
    rng = random.Random(seed)
    stream = b"".join(encode_frame(rng.randbytes(rng.randint(20, 200))) for _ in range(frames))
    return [stream[i:i + 65536] for i in range(0, len(stream), 65536)], frames


def run(cls: type, chunks: list[bytes], frames: int) -> float:
    decoder = cls()
    started = time.perf_counter()
    count = 0
    for chunk in chunks:
        count += len(decoder.receive_data(chunk))
    elapsed = time.perf_counter() - started
    if count != frames:
        raise SystemExit(f"{cls.__name__} decoded {count} frames, expected {frames}")
    return frames / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.frames, args.runs = 200_000, 3
    if CyFrameDecoder is None:
        raise SystemExit("the Cython frame decoder is not compiled: pip install -e .")
    print_environment()
    print(f"# {args.frames:,} frames of 20-200 bytes, 64 KiB reads, seed {args.seed}, "
          f"{args.runs} runs + warm-up, implementations interleaved")
    chunks, frames = build_stream(args.frames, args.seed)
    rates: dict[str, list[float]] = {"cython": [], "python": []}
    run(CyFrameDecoder, chunks, frames)
    run(PyFrameDecoder, chunks, frames)
    for _ in range(args.runs):
        rates["cython"].append(run(CyFrameDecoder, chunks, frames))
        rates["python"].append(run(PyFrameDecoder, chunks, frames))
    cython, python = median(rates["cython"]), median(rates["python"])
    for name, value in (("cython", cython), ("python", python)):
        print(f"{name:<8} median {value:>14,.0f} frames/s  ({1e9 / value:,.0f} ns/frame)")
    print(f"speedup  {cython / python:.1f}x")
    print_json_line("framing", [
        figure("cython.frames_per_s", cython, "frames/s"),
        figure("python.frames_per_s", python, "frames/s"),
        figure("speedup", cython / python, "ratio"),
    ], quick=args.quick)


if __name__ == "__main__":
    main()
