"""venue's wire and log formats: commands, events, log entries, framing.

Everything that is written to the log or crosses a process boundary is defined here as a
frozen, array-like msgspec Struct with a permanent integer tag.
"""

from . import commands as _commands
from . import enums as _enums
from . import events as _events
from .commands import *  # noqa: F403
from .enums import *  # noqa: F403
from .errors import (
    CodecError,
    DecodeError,
    FrameError,
    FrameTooLarge,
    FrameTruncated,
    SchemaError,
)
from .events import *  # noqa: F403
from .framing import FrameDecoder, encode_frame
from .log import (
    PAYLOAD_TYPES,
    ClientCommand,
    CommandBatch,
    ConfigChange,
    LogEntry,
    NoOp,
    SessionClose,
    SessionOpen,
    SnapshotMarker,
    TimerFire,
)
from .schema import Outcome, Schema

__all__ = [
    *_commands.__all__, *_enums.__all__, *_events.__all__,
    "CodecError", "DecodeError", "FrameError", "FrameTooLarge", "FrameTruncated",
    "SchemaError", "FrameDecoder", "encode_frame",
    "PAYLOAD_TYPES", "ClientCommand", "CommandBatch", "ConfigChange", "LogEntry", "NoOp",
    "SessionClose", "SessionOpen", "SnapshotMarker", "TimerFire", "Outcome", "Schema",
]
