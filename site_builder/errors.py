"""The two exceptions users see: a problem at a place, and a build that failed with many."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SiteError(Exception):
    """A problem in content or templates, located as precisely as the input allows."""

    path: str
    message: str
    hint: str = ""
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        hint = f" — {self.hint}" if self.hint else ""
        where = f"{self.path}:{self.line}:{self.col}" if self.line > 0 else self.path  # line 0: not a place in a file
        return f"{where}: {self.message}{hint}"


class BuildFailed(Exception):
    """A build that stopped because of one or more `SiteError`s."""

    def __init__(self, errors: Iterable[SiteError]) -> None:
        self.errors = sorted(set(errors), key=_order)
        super().__init__(f"Build failed: {len(self.errors)} error{'s' * (len(self.errors) != 1)}")

    def report(self) -> str:
        """All errors, one a line, then the summary line."""
        return "\n".join([*map(str, self.errors), str(self)])


def _order(error: SiteError) -> tuple[str, int, int, str]:
    return (error.path, error.line, error.col, error.message)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean' hint naming the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def display_path(path: Path, root: Path) -> str:
    """The path as users should see it: relative to the project when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
