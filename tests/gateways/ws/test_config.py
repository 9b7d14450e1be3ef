"""The WS gateway's config file: tokens map to accounts; bad files say what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from venue.gateways.ws.config import WsConfigError, load_ws_config

CLUSTER = {"addresses": ["127.0.0.1:7201"], "cluster_id": "c", "principal": "demo",
           "credential": "x"}


def write(tmp_path: Path, **raw: object) -> Path:
    path = tmp_path / "ws.json"
    path.write_text(json.dumps({"cluster": CLUSTER, **raw}))
    return path


def test_a_config_gives_tokens_accounts_and_limits(tmp_path: Path) -> None:
    config = load_ws_config(write(tmp_path, listen=["127.0.0.1", 9999],
                                  tokens=[{"token": "t" * 12, "account": 7, "name": "A"}],
                                  limits={"messages_per_s": 5}))
    assert (config.host, config.port, config.accounts_by_token()) == (
        "127.0.0.1", 9999, {"t" * 12: 7})
    assert config.limits.messages_per_s == 5 and config.limits.subscriptions_max == 32


@pytest.mark.parametrize(("raw", "words"), [
    ({"tokens": [{"token": "short", "account": 7}]}, "at least 8"),
    ({"tokens": [{"token": "t" * 12, "account": 0}]}, "positive"),
    ({"tokens": [{"token": "t" * 12, "account": 1}, {"token": "t" * 12, "account": 2}]},
     "appears twice"),
    ({"tokens": [], "limits": {"messages_per_sec": 5}}, "unknown limits: messages_per_sec"),
    ({"tokens": [], "limits": {"subscriptions_max": 0}}, "subscriptions_max"),
    ({}, "tokens"),
])
def test_a_bad_config_is_refused_with_the_reason(tmp_path: Path, raw: dict,
                                                  words: str) -> None:
    with pytest.raises(WsConfigError, match=words):
        load_ws_config(write(tmp_path, **raw))
