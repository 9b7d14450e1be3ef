"""The golden scenario file format shared by the Raft, order book and module tests.

A file is a sequence of blocks, in the style of etcd's datadriven tests::

    # comments and blank lines are kept as they are
    command arg key=value
    ----
    expected output (no blank lines)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Block:
    preamble: list[str]  # comment and blank lines before the command
    command: str
    expected: list[str]
    line_number: int


def parse(text: str) -> tuple[list[Block], list[str]]:
    """Blocks, and the trailing lines after the last block."""
    lines = text.splitlines()
    blocks: list[Block] = []
    preamble: list[str] = []
    position = 0
    while position < len(lines):
        line = lines[position]
        if not line.strip() or line.startswith("#"):
            preamble.append(line)
            position += 1
            continue
        if position + 1 >= len(lines) or lines[position + 1] != "----":
            raise ValueError(f"line {position + 1}: command {line!r} is not followed by ----")
        cursor = position + 2
        while cursor < len(lines) and lines[cursor].strip():
            cursor += 1
        blocks.append(Block(preamble, line, lines[position + 2:cursor], position + 1))
        preamble = []
        position = cursor
    return blocks, preamble
