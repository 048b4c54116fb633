"""Progress lines appear on a terminal for long builds and never off one."""

from __future__ import annotations

import io

from site_builder.progress import MIN_PAGES, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal() -> None:
    out = Terminal()
    progress = Progress(out)
    for done in range(1, MIN_PAGES + 1):
        progress(done, MIN_PAGES)
    progress.close()
    text = out.getvalue()
    assert f"Rendering {MIN_PAGES:,}/{MIN_PAGES:,} pages" in text and "pages/s)" in text
    assert text.endswith("\r\033[K")


def test_quiet_off_a_terminal_and_for_small_builds() -> None:
    pipe = io.StringIO()
    Progress(pipe)(MIN_PAGES, MIN_PAGES)
    assert pipe.getvalue() == ""
    out = Terminal()
    Progress(out)(10, 10)
    assert out.getvalue() == ""
