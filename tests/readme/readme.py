"""README.md read as data: its fenced code blocks, its sections, and the names it puts in backticks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CI_SCRIPT = ROOT / ".ci" / "run"
EXAMPLE_PROJECT = Path(__file__).resolve().parent / "example_project"

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


@dataclass(frozen=True)
class Block:
    """One fenced code block: its info string's language, its text, and the README line it starts on.

    ``script``: the info string says ``script`` after the language (```` ```sh script ````): the
    block is one shell script, run as a whole, rather than commands run one line at a time.
    """

    language: str
    text: str
    line: int
    section: str
    script: bool = False

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.language or 'plain'}"

    @property
    def after(self) -> str:
        """The README prose right after the block, up to the next block or heading."""
        return _prose_after(self.line)


@dataclass(frozen=True)
class Section:
    """A ``##`` section: its heading and its prose with the code blocks taken out."""

    heading: str
    prose: str


@cache
def _lines() -> tuple[str, ...]:
    return tuple(README.read_text(encoding="utf-8").splitlines())


@cache
def _parsed() -> tuple[tuple[Block, ...], tuple[Section, ...], frozenset[int]]:
    """Blocks, sections, and the (1-based) line numbers that belong to code blocks."""
    blocks: list[Block] = []
    sections: list[tuple[str, list[str]]] = [("", [])]
    code_lines: set[int] = set()
    lines = _lines()
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            marker = fence.group("fence")
            start = index
            body: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(marker):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise AssertionError(f"README.md:{start + 1}: a code block is never closed")
            code_lines.update(range(start + 1, index + 2))
            language, *words = fence.group("info").strip().split(" ")
            text = "\n".join(body) + "\n"
            blocks.append(Block(language, text, start + 1, sections[-1][0], script="script" in words))
        elif line.startswith("## "):
            sections.append((line[3:].strip(), []))
        else:
            sections[-1][1].append(line)
        index += 1
    found = tuple(Section(heading, "\n".join(text)) for heading, text in sections)
    return tuple(blocks), found, frozenset(code_lines)


def blocks() -> tuple[Block, ...]:
    return _parsed()[0]


def sections() -> tuple[Section, ...]:
    return _parsed()[1]


def section(heading: str) -> Section:
    for found in sections():
        if found.heading == heading:
            return found
    raise AssertionError(
        f"README.md has no section '## {heading}' (it has: {[s.heading for s in sections() if s.heading]})"
    )


def prose() -> str:
    """Every line of README that is not inside a code block."""
    code = _parsed()[2]
    return "\n".join(line for number, line in enumerate(_lines(), 1) if number not in code)


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def spans(text: str) -> list[str]:
    """The text of every inline code span (`like this`)."""
    return _SPAN.findall(text)


def _prose_after(line: int) -> str:
    lines = _lines()
    code = _parsed()[2]
    index = line  # 0-based index of the line after the opening fence
    while index < len(lines) and index + 1 in code:
        index += 1
    out: list[str] = []
    while index < len(lines) and index + 1 not in code and not lines[index].startswith("#"):
        out.append(lines[index])
        index += 1
    return "\n".join(out)
