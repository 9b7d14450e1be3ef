"""Golden scenario files in the style of etcd's datadriven tests.

A file is a sequence of blocks::

    # comments and blank lines are kept as they are
    command arg key=value key=(1,2,3)
    ----
    expected output (no blank lines)

Running a file executes each command on one :class:`Env` and compares its output with
the expected text; with ``--rewrite`` the file is written back with the actual output
(review the diff before committing it).
"""

from __future__ import annotations

from pathlib import Path

from tests.scenario_files import Block, parse
from venue.cluster.raft import ConfChangeType

from .harness import Env

CHANGE_OF_LETTER = {"v": ConfChangeType.ADD_VOTER, "l": ConfChangeType.ADD_LEARNER,
                    "r": ConfChangeType.REMOVE}
Value = int | bool | str | tuple[int, ...]


def render_file(blocks: list[Block], trailer: list[str]) -> str:
    lines: list[str] = []
    for block in blocks:
        lines += [*block.preamble, block.command, "----", *block.expected]
    lines += trailer
    return "\n".join(lines).rstrip("\n") + "\n"


def parse_value(token: str) -> Value:
    if token.startswith("(") and token.endswith(")"):
        inner = token[1:-1].strip()
        return tuple(int(part) for part in inner.split(",") if part.strip())
    if token in ("true", "false"):
        return token == "true"
    if token.lstrip("-").isdigit():
        return int(token)
    return token


def split_command(line: str) -> tuple[str, list[Value], dict[str, Value]]:
    name, *tokens = line.split()
    args: list[Value] = []
    options: dict[str, Value] = {}
    for token in tokens:
        if "=" in token and not token.startswith("("):
            key, value = token.split("=", 1)
            options[key] = parse_value(value)
        else:
            args.append(parse_value(token))
    return name, args, options


SETTING_NAMES = {"pre-vote": "pre_vote", "check-quorum": "check_quorum",
                 "election": "election_timeout_ticks", "heartbeat": "heartbeat_interval_ticks",
                 "inflight": "inflight_messages_max", "max-msg-size": "message_size_bytes_max",
                 "max-uncommitted": "uncommitted_size_bytes_max"}


def run_command(env: Env, line: str) -> list[str]:
    """Execute one scenario command and return its output lines."""
    name, args, options = split_command(line)
    env.output = []
    ints = [arg for arg in args if isinstance(arg, int)]
    if name == "add-nodes":
        settings = {SETTING_NAMES[key]: value for key, value in options.items()
                    if key in SETTING_NAMES}
        env.add_nodes(ints[0], voters=_ids(options.get("voters")),
                      learners=_ids(options.get("learners")),
                      index=int(options.get("index", 1)), **settings)  # type: ignore[arg-type]
    elif name == "campaign":
        env.campaign(ints[0])
    elif name == "tick":
        env.tick(ints[0], ints[1] if len(ints) > 1 else 1)
    elif name == "tick-election":
        env.tick_election(ints[0])
    elif name == "tick-heartbeat":
        env.tick_heartbeat(ints[0])
    elif name == "propose":
        env.propose(ints[0], str(args[1]).encode())
    elif name == "propose-conf-change":
        change = str(args[1])
        env.propose_conf_change(ints[0], CHANGE_OF_LETTER[change[0]], int(change[1:]))
    elif name == "transfer-leader":
        env.transfer_leader(ints[0], ints[1])
    elif name == "stabilize":
        env.stabilize(ints or None)
    elif name == "process-ready":
        for node_id in ints or sorted(env.nodes):
            env.process_ready(node_id)
    elif name == "deliver-msgs":
        _deliver(env, ints, _ids(options.get("drop")))
    elif name == "partition":
        env.groups = [list(arg) for arg in args if isinstance(arg, tuple)]
        env.output.append("ok")
    elif name == "heal":
        env.groups = []
        env.output.append("ok")
    elif name == "restart":
        if "keep" in options:  # lose the stored entries after index ``keep`` first
            env.lose_entries_after(ints[0], int(options["keep"]))  # type: ignore[arg-type]
        settings = {"recovering": bool(options["recovering"])} if "recovering" in options else {}
        env.restart(ints[0], **settings)
    else:
        _inspect(env, name, ints)
    return env.output or ["ok"]


def _inspect(env: Env, name: str, ints: list[int]) -> None:
    if name == "raft-log":
        env.raft_log(ints[0])
    elif name == "raft-state":
        env.raft_state()
    elif name == "status":
        env.status(ints[0])
    elif name == "state-machine":
        for node_id in ints or sorted(env.nodes):
            env.state_machine(node_id)
    elif name == "compact":
        env.compact(ints[0], ints[1])
    else:
        raise ValueError(f"unknown scenario command {name!r}")


def _ids(value: Value | None) -> tuple[int, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (int(value),)


def _deliver(env: Env, node_ids: list[int], drop: tuple[int, ...]) -> None:
    for node_id in drop:
        env.deliver(node_id, drop=True)
    if node_ids or not drop:
        for node_id in node_ids or sorted(env.nodes):
            env.deliver(node_id)


def run_file(path: Path, rewrite: bool) -> list[str]:
    """Run one scenario file; return a description of every mismatch (rewriting the file
    instead when ``rewrite``)."""
    blocks, trailer = parse(path.read_text())
    env = Env()
    mismatches = []
    for block in blocks:
        actual = run_command(env, block.command)
        if actual != block.expected:
            mismatches.append(f"{path.name}:{block.line_number}: {block.command}\n"
                              f"--- expected\n" + "\n".join(block.expected) +
                              "\n--- actual\n" + "\n".join(actual))
            block.expected = actual
    if rewrite and mismatches:
        path.write_text(render_file(blocks, trailer))
    return mismatches
