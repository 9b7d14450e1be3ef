"""Typed errors for bad input at the codec layer: frames, messages and schemas."""

from __future__ import annotations


class CodecError(Exception):
    """Base class: bytes from outside that cannot be accepted."""


class DecodeError(CodecError):
    """A message that does not decode to a known type (malformed bytes or unknown tag)."""


class FrameError(CodecError):
    """A length-prefixed stream that breaks the framing rules; the stream is unusable."""


class FrameTooLarge(FrameError):
    def __init__(self, size_bytes: int, frame_size_bytes_max: int) -> None:
        super().__init__(
            f"frame of {size_bytes} bytes exceeds frame_size_bytes_max={frame_size_bytes_max}"
        )
        self.size_bytes = size_bytes
        self.frame_size_bytes_max = frame_size_bytes_max


class FrameTruncated(FrameError):
    def __init__(self, have_bytes: int, need_bytes: int) -> None:
        super().__init__(
            f"stream ended inside a frame: have {have_bytes} of {need_bytes} bytes"
        )
        self.have_bytes = have_bytes
        self.need_bytes = need_bytes


class SchemaError(Exception):
    """A command or event type that cannot join the schema (tag clash, wrong shape).

    Raised at start-up, before any entry is applied: a configuration error, not bad input.
    """
