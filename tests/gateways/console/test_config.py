"""The console's config file and the local-cluster helpers that write it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from venue.cluster.cli import build_parser
from venue.gateways.console import local
from venue.gateways.console.config import ConsoleConfigError, load_console_config


def _write(folder: Path, **changes: object) -> Path:
    raw = {"cluster": {"addresses": ["127.0.0.1:7201"], "cluster_id": "venue-local",
                       "principal": "operator", "credential": "c"},
           "listen": ["127.0.0.1", 9890], "operator_token": "t" * 16, **changes}
    path = folder / "console.json"
    path.write_text(json.dumps(raw))
    return path


def test_a_config_is_read_with_its_limits(tmp_path: Path) -> None:
    config = load_console_config(_write(tmp_path, limits={"connections_max": 3}))
    assert (config.addresses, config.port, config.limits.connections_max) == (
        ("127.0.0.1:7201",), 9890, 3)
    assert config.actions_enabled
    assert not load_console_config(_write(tmp_path, operator_token="")).actions_enabled


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"operator_token": "short"}, "at least 16"),
    ({"limits": {"connections_max": 0}}, "connections_max"),
    ({"limits": {"tabs": 3}}, "unknown limits"),
    ({"cluster": {"addresses": []}}, "KeyError"),
    ({"listen": ["127.0.0.1"]}, "ValueError"),
])
def test_bad_configs_say_what_is_wrong(tmp_path: Path, changes: dict, complaint: str) -> None:
    with pytest.raises(ConsoleConfigError, match=complaint):
        load_console_config(_write(tmp_path, **changes))


def test_the_local_console_config_is_written_once_with_a_fresh_token(tmp_path: Path) -> None:
    path = local.write_local_console(tmp_path, ["127.0.0.1:7201"], "venue-local",
                                     "operator", "credential", 9890)
    config = local.load(tmp_path)
    assert len(config.operator_token) == 32 and config.principal == "operator"
    local.write_local_console(tmp_path, ["127.0.0.1:1"], "x", "y", "z", 1)
    assert local.load(tmp_path) == config and path.name == "console.json"
    assert local.describe(config) == [
        f"  operator console: http://127.0.0.1:9890/  (operator token {config.operator_token})"]


def test_venue_console_is_a_subcommand() -> None:
    args = build_parser().parse_args(["console", "--config", "console.json"])
    assert args.config == "console.json" and args.handler.__name__ == "cmd_console"


def test_start_local_starts_a_console_that_serves_its_page_with_no_cluster_up(
        tmp_path: Path) -> None:
    """The console comes up (its nodes show as unreachable) and stops on SIGTERM."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process, lines = local.start_local(tmp_path, ["127.0.0.1:1"], "venue-local", "operator",
                                       "credential", port)
    assert process is not None, lines
    try:
        assert lines[0].startswith(f"  operator console: http://127.0.0.1:{port}/")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"operator console" in response.read()
    finally:
        process.terminate()
        assert process.wait(10) == 0
