"""Errors the Raft core raises to its caller."""

from __future__ import annotations


class ProposalDropped(Exception):
    """A proposal was refused: this node is not the leader, a leadership transfer or a
    membership change is in progress, or a limit was reached. The caller may retry
    elsewhere or later; nothing was appended."""


class ReadyOrderError(AssertionError):
    """The node loop broke the Ready protocol: it took a Ready before advancing the previous
    one, or advanced a Ready it was not given. This is a bug in the caller."""
