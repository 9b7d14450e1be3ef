"""The deterministic cluster simulator (DESIGN §7.3): seeded histories of full nodes (the
real Raft core and the real engine) under network faults, crashes and clock drift, then
healing and convergence. Every history prints its seed; a seed replays one history exactly.

    python scripts/simulate.py --seed S                 # one history, with its trace
    python scripts/simulate.py --seeds N --seed-start S # a sweep; non-zero exit on violation
    python scripts/simulate.py --quick                  # a sweep that finishes within a minute
    python scripts/simulate.py --seeds 50 --broken eager  # watch the checker catch a bug
    python scripts/simulate.py --seeds 200 --schedule figure8   # leader cuts, Figure 8
    python scripts/simulate.py --seeds 300 --durability replicated  # the recovering rule
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from benchlib import figure, print_environment, print_json_line  # noqa: E402

from tests.sim import broken  # noqa: E402
from tests.sim.simulation import (  # noqa: E402
    CRASH_SCHEDULE,
    FIGURE8_SCHEDULE,
    Options,
    Result,
    run_history,
)

QUICK_SEEDS = 40
VARIANTS = {
    "none": Options(),
    "eager": Options(node_type=broken.EagerNode),
    "rogue": Options(make_modules=broken.one_rogue_node),
    # Commits an old-term entry by counting replicas; caught under the Figure 8 schedule
    # (tests/sim/test_simulation.py pins how soon).
    "figure8": FIGURE8_SCHEDULE,
    # A recovering node (replicated mode) that votes; caught under the crash schedule.
    "recovering-votes": CRASH_SCHEDULE,
}
SCHEDULES = {"random": Options(), "figure8": FIGURE8_SCHEDULE, "crashes": CRASH_SCHEDULE}
PATCHES = {"figure8": broken.figure8_commit, "recovering-votes": broken.recovering_votes}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, help="run this one history and print its trace")
    parser.add_argument("--seeds", type=int, default=200, help="sweep this many seeds")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed of the sweep")
    parser.add_argument("--quick", action="store_true",
                        help=f"a sweep of {QUICK_SEEDS} seeds (well within a minute)")
    parser.add_argument("--fault-steps", type=int, default=None,
                        help="steps with faults on, before healing (default: the schedule's)")
    parser.add_argument("--durability", choices=("fsync", "replicated"), default=None,
                        help="what a node syncs when (see tests/sim/storage.py; default: "
                             "the schedule's, fsync for random)")
    parser.add_argument("--workload", choices=("counter", "trading"), default="counter",
                        help="what the clients submit: counter increments, or order flow "
                             "through refdata, risk and matching (balances checked on every "
                             "node after every entry)")
    parser.add_argument("--broken", choices=sorted(VARIANTS), default="none",
                        help="run a deliberately broken variant (the checker must catch it)")
    parser.add_argument("--schedule", choices=sorted(SCHEDULES), default="random",
                        help="the faults: random; figure8 (five voters, small messages, "
                             "leaders cut off right after their election or a commit); "
                             "crashes (replicated mode, frequent crashes, such cuts). "
                             "--broken figure8 and recovering-votes imply theirs")
    return parser.parse_args(argv)


def options_for(arguments: argparse.Namespace) -> Options:
    base = VARIANTS[arguments.broken]
    if arguments.broken == "none":
        base = SCHEDULES[arguments.schedule]
    return Options(**{**{name: getattr(base, name) for name in base.__dataclass_fields__},
                      "fault_steps": arguments.fault_steps or base.fault_steps,
                      "durability": (base.durability if arguments.durability is None
                                     else arguments.durability),
                      "workload": arguments.workload})


def run(seed: int, options: Options, variant: str) -> Result:
    patch = PATCHES[variant]() if variant in PATCHES else contextlib.nullcontext()
    with patch:
        return run_history(seed, options)


def replay_one(seed: int, options: Options, variant: str) -> int:
    print(f"seed {seed}")
    started = time.perf_counter()
    result = run(seed, options, variant)
    elapsed_s = time.perf_counter() - started
    for line in result.trace:
        print(line)
    print(result.summary)
    if result.violation:
        print(f"VIOLATION seed={seed}: {result.violation}")
    else:
        print(f"final chain head {result.head}")
    print_json_line("simulate", [figure("histories_per_s", 1 / elapsed_s, "histories/s"),
                                 figure("seeds", 1, "seeds"),
                                 figure("violations", int(bool(result.violation)),
                                        "violations")],
                    seed_start=seed, fault_steps=options.fault_steps,
                    durability=options.durability, variant=variant,
                    workload=options.workload)
    return 1 if result.violation else 0


def sweep(seeds: range, options: Options, variant: str, schedule: str = "random") -> int:
    violations = 0
    started = time.perf_counter()
    for seed in seeds:
        result = run(seed, options, variant)
        print(result.summary, flush=True)
        if result.violation:
            violations += 1
            print(f"VIOLATION seed={seed}: {result.violation}")
            print(f"  replay: python scripts/simulate.py --seed {seed}"
                  f" --fault-steps {options.fault_steps} --durability {options.durability}"
                  f" --workload {options.workload}"
                  + (f" --broken {variant}" if variant != "none" else "")
                  + (f" --schedule {schedule}" if schedule != "random" else ""))
    elapsed_s = time.perf_counter() - started
    rate = len(seeds) / elapsed_s if elapsed_s > 0 else 0.0
    print(f"# {len(seeds)} histories in {elapsed_s:.1f} s: {rate:.2f} histories/s, "
          f"{violations} violations")
    print_json_line("simulate", [figure("histories_per_s", rate, "histories/s"),
                                 figure("seeds", len(seeds), "seeds"),
                                 figure("violations", violations, "violations")],
                    seed_start=seeds.start, fault_steps=options.fault_steps,
                    durability=options.durability, variant=variant,
                    workload=options.workload)
    return 1 if violations else 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    print_environment()
    options = options_for(arguments)
    if arguments.seed is not None:
        return replay_one(arguments.seed, options, arguments.broken)
    count = QUICK_SEEDS if arguments.quick else arguments.seeds
    schedule = arguments.schedule if arguments.broken == "none" else "random"
    return sweep(range(arguments.seed_start, arguments.seed_start + count), options,
                 arguments.broken, schedule)


if __name__ == "__main__":
    sys.exit(main())
