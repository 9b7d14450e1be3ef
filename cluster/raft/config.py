"""Configuration of one Raft node, validated when it is built."""

from __future__ import annotations

from dataclasses import dataclass, fields

from .messages import ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES

MESSAGE_SIZE_BYTES_MIN = MESSAGE_OVERHEAD_BYTES + ENTRY_OVERHEAD_BYTES + 1


@dataclass(frozen=True)
class Config:
    """Settings of a :class:`RawNode`. Times are in ticks: the node loop calls ``tick()``
    at a fixed interval (say every 10 ms), and the core has no other notion of time.

    - ``election_timeout_ticks``: a follower that hears nothing from a leader for a random
      number of ticks in ``[election_timeout_ticks, 2 * election_timeout_ticks)`` campaigns;
      a leader with check-quorum steps down after this many ticks without hearing from a
      majority.
    - ``heartbeat_interval_ticks``: a leader sends heartbeats this often.
    - ``pre_vote``: campaign in two phases so a node that cannot win never bumps the term.
    - ``check_quorum``: a leader steps down when a majority went quiet, and a node that heard
      from a leader within the election timeout ignores vote requests (leader lease).
    - ``message_size_bytes_max``: upper bound on an append message (entries + envelope, by
      ``Message.size_bytes``); a proposal that could never fit one is refused.
    - ``inflight_messages_max``: unacknowledged appends in flight to one follower.
    - ``uncommitted_size_bytes_max``: payload bytes the leader holds uncommitted before it
      refuses proposals (one proposal is always accepted when nothing is uncommitted).
    - ``committed_size_per_ready_bytes_max``: bound on committed entries per Ready.
    - ``applied``: on restart, the index the application has already applied (default:
      the storage's snapshot index).
    - ``recovering``: this node may have forgotten entries it acknowledged (it restarted
      after a crash in ``replicated`` durability mode, where entries are acknowledged from
      memory and synced later). Until it has caught up with a leader it neither votes,
      grants pre-votes nor campaigns; see ``recovery.py`` for the rule, why it is safe
      while fewer than a majority are recovering, and the fallback when a majority is.
    """

    id: int
    election_timeout_ticks: int = 10
    heartbeat_interval_ticks: int = 1
    pre_vote: bool = True
    check_quorum: bool = True
    message_size_bytes_max: int = 1 << 20
    inflight_messages_max: int = 256
    uncommitted_size_bytes_max: int = 64 << 20
    committed_size_per_ready_bytes_max: int = 4 << 20
    applied: int = 0
    recovering: bool = False

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            wanted = bool if field.type in ("bool", bool) else int
            if type(value) is not wanted:
                raise ValueError(f"Config.{field.name} must be {wanted.__name__}, "
                                 f"got {value!r}")
        self._require(self.id >= 1, f"Config.id must be >= 1 (0 means 'nobody'), got {self.id}")
        self._require(self.heartbeat_interval_ticks >= 1,
                      "Config.heartbeat_interval_ticks must be >= 1")
        self._require(self.election_timeout_ticks > self.heartbeat_interval_ticks,
                      f"Config.election_timeout_ticks ({self.election_timeout_ticks}) must be "
                      f"greater than heartbeat_interval_ticks ({self.heartbeat_interval_ticks})")
        self._require(self.message_size_bytes_max >= MESSAGE_SIZE_BYTES_MIN,
                      f"Config.message_size_bytes_max must be >= {MESSAGE_SIZE_BYTES_MIN} "
                      f"(one envelope and one entry), got {self.message_size_bytes_max}")
        self._require(self.inflight_messages_max >= 1,
                      "Config.inflight_messages_max must be >= 1")
        self._require(self.uncommitted_size_bytes_max >= 1,
                      "Config.uncommitted_size_bytes_max must be >= 1")
        self._require(self.committed_size_per_ready_bytes_max >= 1,
                      "Config.committed_size_per_ready_bytes_max must be >= 1")
        self._require(self.applied >= 0, "Config.applied must be >= 0")

    @staticmethod
    def _require(condition: bool, message: str) -> None:
        if not condition:
            raise ValueError(message)

    @property
    def entries_size_bytes_max(self) -> int:
        """Room for entries in one append message."""
        return self.message_size_bytes_max - MESSAGE_OVERHEAD_BYTES
