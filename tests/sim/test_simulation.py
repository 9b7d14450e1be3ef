"""The simulator's own tests: a sweep of seeded histories stays safe and converges (in both
durability modes, and across a power loss in replicated mode); a seed replays exactly;
deliberately broken variants are caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .broken import (
    EagerNode,
    figure8_commit,
    leaky_trading_node,
    one_rogue_node,
    recovering_votes,
)
from .simulation import CRASH_SCHEDULE, FIGURE8_SCHEDULE, Options, Result, run_history

SWEEP_SEEDS = 40  # ~15 s on a 2-core machine; the CI sweep runs scripts/simulate.py
CATCH_SEEDS_MAX = 200  # a broken variant must be caught within this many seeds
REPLAY_SEED = 11
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "simulate.py"


REPLICATED_SEEDS = 12
POWER_LOSS_SEEDS = 6


def first_violation(options: Options) -> Result | None:
    for seed in range(CATCH_SEEDS_MAX):
        result = run_history(seed, options)
        if result.violation:
            return result
    return None


@pytest.mark.parametrize("seed", range(SWEEP_SEEDS))
def test_history_is_safe_and_converges(seed: int) -> None:
    result = run_history(seed)
    assert not result.violation, f"{result.summary}\n{result.violation}"
    assert result.head, "no final chain head"


@pytest.mark.parametrize("seed", range(REPLICATED_SEEDS))
def test_a_replicated_mode_history_is_safe_and_converges(seed: int) -> None:
    """Entries acknowledged from memory, crashes that lose them: nodes restart recovering
    (cluster/raft/recovery.py), and every check holds as in fsync mode (the faults keep a
    majority of voters neither down nor recovering; the power loss below is the exception)."""
    result = run_history(seed, Options(durability="replicated"))
    assert not result.violation, f"{result.summary}\n{result.violation}"


@pytest.mark.parametrize("seed", range(POWER_LOSS_SEEDS))
def test_after_a_power_loss_only_entries_synced_nowhere_are_lost(seed: int) -> None:
    """Every node crashes at once (powerloss.py): they fall back and elect a leader; the
    checker forgets only the committed entries no node had synced, and checks the rest."""
    result = run_history(seed, Options(durability="replicated", power_loss=True))
    assert not result.violation, f"{result.summary}\n{result.violation}"
    assert any("power loss" in line for line in result.trace)


def test_a_seed_replays_the_same_history_in_process() -> None:
    first, second = run_history(REPLAY_SEED), run_history(REPLAY_SEED)
    assert (first.trace, first.summary, first.head) == (second.trace, second.summary,
                                                        second.head)
    assert first.head


def _script_output(seed: int, hash_seed: str) -> list[str]:
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run([sys.executable, str(SCRIPT), "--seed", str(seed)],
                               capture_output=True, text=True, timeout=120, check=True,
                               env=environment)
    # environment lines start with "#"; the JSON line carries the (varying) run time
    return [line for line in completed.stdout.splitlines()
            if not line.startswith(("#", "{"))]


def test_the_script_replays_a_seed_exactly_under_any_hash_seed() -> None:
    """``simulate.py --seed S`` prints the same history and final chain head every time,
    whatever ``PYTHONHASHSEED`` is."""
    first, second = _script_output(REPLAY_SEED, "1"), _script_output(REPLAY_SEED, "2")
    assert first == second
    assert first[0] == f"seed {REPLAY_SEED}"
    assert first[-1].startswith("final chain head ")
    assert first[-1].removeprefix("final chain head ") == run_history(REPLAY_SEED).head


def test_a_sweep_with_a_violation_exits_non_zero_naming_the_seed() -> None:
    completed = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "1", "--seed-start",
                                "5", "--broken", "rogue"], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 1
    assert "VIOLATION seed=5:" in completed.stdout
    assert '"violations"' in completed.stdout.splitlines()[-1]


def test_applying_before_commit_is_caught() -> None:
    """A node loop that applies entries when persisted, not when committed, is caught by
    the checker (not merely by a crash) within a bounded number of seeds."""
    result = first_violation(Options(node_type=EagerNode))
    assert result is not None, f"not caught within {CATCH_SEEDS_MAX} seeds"
    assert not result.error, result.violation


def test_committing_an_old_term_entry_by_counting_replicas_is_caught() -> None:
    """Figure 8 of the Raft paper (§5.4.2): under the Figure 8 schedule (five voters, small
    messages, leaders cut off right after their election or a commit) a leader that commits
    an entry of an earlier term by counting replicas is caught by Leader Completeness (or
    a changed committed entry) within a bounded number of seeds; the correct core passes
    the same seeds."""
    with figure8_commit():
        result = first_violation(FIGURE8_SCHEDULE)
    assert result is not None, f"not caught within {CATCH_SEEDS_MAX} seeds"
    assert not result.error, result.violation
    assert ("leader completeness" in result.violation
            or "committed entry changed" in result.violation), result.violation
    for seed in range(result.seed + 1):
        correct = run_history(seed, FIGURE8_SCHEDULE)
        assert not correct.violation, f"{correct.summary}\n{correct.violation}"


def test_a_recovering_node_that_votes_is_caught_in_replicated_mode() -> None:
    """The recovering rule is what keeps replicated mode safe: let recovering nodes vote
    and, under frequent crashes and leader cuts, one soon elects a leader that lacks a
    committed entry it had acknowledged and forgotten; the correct core passes the same
    seeds."""
    with recovering_votes():
        result = first_violation(CRASH_SCHEDULE)
    assert result is not None, f"not caught within {CATCH_SEEDS_MAX} seeds"
    assert not result.error, result.violation
    for seed in range(result.seed + 1):
        correct = run_history(seed, CRASH_SCHEDULE)
        assert not correct.violation, f"{correct.summary}\n{correct.violation}"


def test_a_non_deterministic_module_is_caught_by_the_chain_check() -> None:
    result = first_violation(Options(make_modules=one_rogue_node))
    assert result is not None, f"not caught within {CATCH_SEEDS_MAX} seeds"
    assert "hash chain diverged" in result.violation


TRADING_SEEDS = 6


@pytest.mark.parametrize("seed", range(TRADING_SEEDS))
def test_a_history_of_real_order_flow_is_safe_converges_and_conserves_balances(seed: int
                                                                             ) -> None:
    """Refdata, risk and matching under the same faults: every node checks after every
    entry that each asset's total equals what was deposited (the checker raises if not)."""
    result = run_history(seed, Options(workload="trading"))
    assert not result.violation, f"{result.summary}\n{result.violation}"
    assert result.head


def test_trading_histories_carry_fills_stops_and_self_trade_prevention() -> None:
    """The workload is real order flow, not rejects: count what the canonical log did."""
    from venue.engine import Engine

    from .node import GENESIS_ENTRY
    from .simulation import Simulation
    from .workload import trading_modules

    sim = Simulation(3, Options(workload="trading"))
    for _ in range(sim.options.fault_steps):
        sim.step(faulty=True)
    sim.heal()
    sim.check_converged()
    engine = Engine(trading_modules(1))
    engine.apply(GENESIS_ENTRY)
    seen: dict[str, int] = {}
    for index in sorted(sim.checker.entries):
        for outcome in engine.apply(sim.checker.entries[index]).outcomes:
            for event in outcome.events:
                name = type(event).__name__
                seen[name] = seen.get(name, 0) + 1
    for name in ("OrderFilled", "OrderTriggered", "OrderCancelled", "OrderReplaced",
                 "MassCancelCompleted"):
        assert seen.get(name, 0) > 0, f"no {name} in {seen}"
    assert seen["OrderFilled"] > 50


def test_a_risk_module_that_creates_money_is_caught_by_the_conservation_check() -> None:
    result = run_history(0, Options(workload="trading", make_modules=leaky_trading_node))
    assert result.violation, "the leak went unnoticed"
    assert "balances not conserved" in result.violation
