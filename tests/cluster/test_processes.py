"""Process-level fault tests: a real 3-node cluster of ``venue node`` processes on
127.0.0.1 (fsync durability), a real client, and real faults: ``kill -9`` of the leader
under load, a restart, a node restarted with an empty disk, a follower stopped with
SIGSTOP. Every load loop is bounded in count and time; every process is stopped by PID.

Each acknowledged command is a ``Deposit`` of 1 unit to one account, so the final balance
on every node counts the commands applied: it must equal the number acknowledged, on
every node (nothing lost, nothing applied twice).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from venue.codecs import BalanceChanged, BalanceReason, Deposit

from .processes import LocalCluster

pytestmark = pytest.mark.slow
ACCOUNT, ASSET = 101, 1
LOAD_TIMEOUT_S = 60


@pytest.fixture
def cluster(tmp_path: Path):
    cluster = LocalCluster(tmp_path / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop_all()


async def deposit_load(cluster: LocalCluster, count: int, window: int = 20,
                       on_progress=None) -> list[list]:
    """Submit ``count`` deposits, ``window`` in flight; return each one's events."""
    client = cluster.client()
    await client.start(timeout_s=20)
    results: list[list] = []

    async def one(index: int) -> None:
        events = await client.submit(Deposit(ACCOUNT, ASSET, 1, f"t{index}"),
                                     timeout_s=LOAD_TIMEOUT_S)
        results.append(events)
        if on_progress is not None:
            on_progress(len(results))

    try:
        for start in range(0, count, window):
            await asyncio.gather(*(one(i) for i in range(start, min(count, start + window))))
    finally:
        await client.close()
    return results


def final_balances(cluster: LocalCluster) -> dict[int, int]:
    cluster.stop_all()
    return {node_id: cluster.engine_of(node_id).module("risk").balance(ACCOUNT, ASSET)[0]
            for node_id in cluster.configs}


def wait_converged(cluster: LocalCluster, timeout_s: float = 30.0) -> None:
    seen: dict[int, object] = {}

    def converged() -> bool:
        for node_id in cluster.configs:
            status = cluster.status(node_id)
            seen[node_id] = {key: status.get(key) for key in (
                "role", "term", "leader_id", "commit_index", "applied_index", "last_index",
                "lag", "halted", "recovering")}
        commits = {s["commit_index"] for s in seen.values()}  # type: ignore[index]
        applied = {s["applied_index"] for s in seen.values()}  # type: ignore[index]
        return len(commits) == 1 and commits == applied
    try:
        cluster.wait_until(converged, timeout_s, "every node to apply the same commit index")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe nodes' last statuses: {seen}") from None


def test_killing_the_leader_under_load_loses_nothing_and_applies_nothing_twice(
        cluster: LocalCluster) -> None:
    leader = cluster.start_all()
    killed: list[int] = []

    def on_progress(done: int) -> None:
        if done == 150 and not killed:
            cluster.kill(leader)  # kill -9 in the middle of the stream
            killed.append(leader)

    results = asyncio.run(deposit_load(cluster, 400, on_progress=on_progress))
    assert killed == [leader]
    assert len(results) == 400
    balances = [events[0].available for events in results
                if type(events[0]) is BalanceChanged]
    assert sorted(balances) == list(range(1, 401)), "each deposit applied once, in order"
    assert all(events[0].reason == BalanceReason.DEPOSIT for events in results)
    new_leader = next(n for n in cluster.configs if n != leader
                      and cluster.status(n)["role"] == "leader")
    assert new_leader != leader
    cluster.start(leader)  # the killed node restarts and catches up
    wait_converged(cluster)
    assert final_balances(cluster) == dict.fromkeys(cluster.configs, 400)


def test_a_follower_stopped_with_sigstop_does_not_stop_the_cluster(
        cluster: LocalCluster) -> None:
    leader = cluster.start_all()
    follower = next(n for n in cluster.configs if n != leader)
    cluster.kill(follower, signal.SIGSTOP)
    results = asyncio.run(deposit_load(cluster, 200))
    assert len(results) == 200
    cluster.kill(follower, signal.SIGCONT)
    wait_converged(cluster)
    commit = cluster.status(leader)["commit_index"]  # new entries may commit meanwhile
    cluster.wait_until(lambda: cluster.status(follower)["applied_index"] >= commit, 20,
                       "the resumed follower to apply the leader's commit index")
    assert final_balances(cluster) == dict.fromkeys(cluster.configs, 200)


def test_a_node_restarted_with_an_empty_disk_rejoins_through_a_snapshot(
        tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path / "cluster", snapshot_interval_entries=5)
    try:
        leader = cluster.start_all()
        follower = next(n for n in cluster.configs if n != leader)
        asyncio.run(deposit_load(cluster, 100))
        cluster.kill(follower)
        cluster.wipe(follower)
        asyncio.run(deposit_load(cluster, 300))  # the leader compacts behind its snapshots
        cluster.start(follower, join=True)
        wait_converged(cluster)
        data_dir = cluster.configs[follower].data_dir
        assert list((data_dir / "snapshots").glob("snapshot-*.snap")), "no snapshot installed"
        assert final_balances(cluster) == dict.fromkeys(cluster.configs, 400)
    finally:
        cluster.stop_all()


def test_the_readme_client_example_runs_against_a_local_cluster(tmp_path: Path,
                                                               monkeypatch) -> None:
    """The README's "Talk to the cluster" block, as written, against a real cluster."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("### Talk to the cluster", 1)[1].split("```python", 1)[1]
    code = block.split("```", 1)[0]
    cluster = LocalCluster(tmp_path / "venue-cluster")
    try:
        cluster.start_all()
        monkeypatch.chdir(tmp_path)
        printed: list[str] = []
        exec(compile(code, "README.md", "exec"),
             {"__name__": "readme", "print": lambda *a: printed.append(" ".join(map(str, a)))})
        assert len(printed) == 3
        assert printed[0].startswith("[InstrumentAdded(instrument_id=1, symbol='BTC-USD'")
        assert "BalanceChanged(account=101, asset=1, available=1000000000000" in printed[1]
        assert printed[2].startswith("[OrderAccepted(order_id=1, account=101")
        assert "BookLevelChanged" in printed[2]
    finally:
        cluster.stop_all()


def test_a_non_deterministic_node_is_caught_halted_and_located_by_venue_diverge(
        tmp_path: Path, capsys) -> None:
    """One node runs a module that reads its environment: the leader's checkpoint
    comparison catches it, the node stops applying and reports why, the others go on, and
    ``venue diverge`` names the first differing index with both event lists."""
    from venue.cluster.cli import main
    from venue.codecs import Schema
    from venue.engine.modules.counter import Increment, Incremented

    cluster = LocalCluster(tmp_path / "cluster", modules=("tests.cluster.rogue:"
                                                          "RogueCounterModule",),
                           checkpoint_interval_entries=5)
    try:
        leader = cluster.start_all()
        rogue = next(n for n in cluster.configs if n != leader)
        cluster.kill(rogue)
        cluster.start(rogue, env={"VENUE_ROGUE": "1"})

        async def load() -> None:
            client = cluster.client(Schema(commands=[Increment], events=[Incremented]))
            await client.start(timeout_s=20)
            for _ in range(120):
                await client.submit(Increment(1))
            await client.close()

        asyncio.run(load())
        cluster.wait_until(lambda: cluster.status(rogue)["halted"] != "", 20,
                           "the rogue node to halt")
        assert "differs from the leader" in cluster.status(rogue)["halted"]
        assert any(f"node {rogue} diverged" in text
                   for text in cluster.status(leader)["divergences"])
        healthy = [n for n in cluster.configs if n != rogue]
        assert all(cluster.status(n)["halted"] == "" for n in healthy)
    finally:
        cluster.stop_all()
    data = {n: str(cluster.configs[n].data_dir) for n in cluster.configs}
    capsys.readouterr()
    assert main(["diverge", data[healthy[0]], data[rogue]]) == 1
    out = capsys.readouterr().out
    assert "first difference at log index" in out
    assert "the same log entry, different events" in out
    assert "Incremented(key=1, value=51)" in out and "Incremented(key=1, value=52)" in out
    assert main(["diverge", data[healthy[0]], data[healthy[1]]]) == 0


def test_operators_snapshot_transfer_leadership_add_and_remove_nodes(
        cluster: LocalCluster, capsys) -> None:
    from venue.cluster.cli import main

    leader = cluster.start_all()
    asyncio.run(deposit_load(cluster, 50))
    folder = str(cluster.folder)
    assert main(["snapshot", "--dir", folder, "--node", str(leader)]) == 0
    assert f"node {leader}: snapshot at index" in capsys.readouterr().out
    data_dir = cluster.configs[leader].data_dir
    cluster.wait_until(lambda: list((data_dir / "snapshots").glob("snapshot-*.snap")), 20,
                       "the snapshot file (written by a forked child)")

    target = next(n for n in cluster.configs if n != leader)
    assert main(["transfer-leader", "--dir", folder, "--to", str(target)]) == 0
    cluster.wait_until(lambda: cluster.status(target)["role"] == "leader", 20,
                       f"node {target} to lead")

    assert main(["add-node", "--dir", folder]) == 0  # writes node-4.json, proposes it
    assert "add-node 4 proposed" in capsys.readouterr().out
    from venue.cluster.nodeconfig import load_config

    cluster.configs[4] = load_config(cluster.folder / "node-4.json")
    cluster.start(4, join=True)
    asyncio.run(deposit_load(cluster, 50))
    cluster.wait_until(lambda: cluster.status(4)["applied_index"]
                       == cluster.status(target)["commit_index"], 30, "node 4 to catch up")
    assert "4" in cluster.status(target)["lag"]

    removed = next(n for n in (1, 2, 3) if n != target)
    assert main(["remove-node", "--dir", folder, "--node-id", str(removed)]) == 0
    cluster.wait_until(lambda: str(removed) not in cluster.status(target)["lag"], 20,
                       f"node {removed} to leave")
    cluster.kill(removed)
    del cluster.configs[removed]
    results = asyncio.run(deposit_load(cluster, 50))  # 3 voters left: 2, 4 and one more
    assert len(results) == 50
    wait_converged(cluster)
    assert final_balances(cluster) == dict.fromkeys(cluster.configs, 150)


def test_each_node_serves_prometheus_metrics(cluster: LocalCluster) -> None:
    import urllib.request

    leader = cluster.start_all()
    asyncio.run(deposit_load(cluster, 40))
    host, port = cluster.configs[leader].me.metrics
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        text = response.read().decode()
    values = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    node = f'{{node="{leader}"}}'
    assert values[f"venue_is_leader{node}"] == 1
    assert values[f"venue_batch_commands_sum{node}"] >= 40
    assert values[f"venue_batch_commands_count{node}"] >= 1
    assert values[f"venue_applied_index{node}"] >= values[f"venue_batch_commands_count{node}"]
    assert values[f"venue_apply_seconds_count{node}"] >= 1
    assert f"venue_client_sessions{node}" in values
    assert any(name.startswith("venue_replication_lag_entries") for name in values)
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://{host}:{port}/other", timeout=5)


def test_writing_each_ready_in_a_worker_thread_keeps_every_guarantee(tmp_path: Path) -> None:
    """``persist_in_thread``: the synced commit runs beside the loop; a leader kill under
    load still loses nothing and applies nothing twice."""
    cluster = LocalCluster(tmp_path / "cluster", persist_in_thread=True)
    try:
        leader = cluster.start_all()
        assert cluster.configs[leader].persist_in_thread
        killed: list[int] = []

        def on_progress(done: int) -> None:
            if done == 100 and not killed:
                cluster.kill(leader)
                killed.append(leader)

        results = asyncio.run(deposit_load(cluster, 250, on_progress=on_progress))
        assert sorted(events[0].available for events in results) == list(range(1, 251))
        cluster.start(leader)
        wait_converged(cluster)
        assert final_balances(cluster) == dict.fromkeys(cluster.configs, 250)
    finally:
        cluster.stop_all()


def test_the_event_stream_is_only_for_the_clusters_principals(cluster: LocalCluster) -> None:
    """A subscription carries every account's orders: one with a credential the cluster
    does not know is refused (the stream ends with StreamGone naming the refusal, after
    trying every node); the demo principal's gets the stream from position 1."""
    from venue.cluster.stream import EventStream, StreamGone

    cluster.start_all()
    principal, credential = cluster.credential()

    async def first_entry(secret: str) -> int:
        stream = EventStream(cluster.addresses, 1, principal=principal, credential=secret)
        await stream.start()
        try:
            position, _ = await asyncio.wait_for(stream.__anext__(), 20)
            return position
        finally:
            await stream.close()

    with pytest.raises(StreamGone, match="refused: unknown cluster, principal or credential"):
        asyncio.run(first_entry("not-" + credential))
    assert asyncio.run(first_entry(credential)) == 1
