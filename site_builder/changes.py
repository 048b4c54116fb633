"""Which input files changed, as the operating system reports it (inotify, FSEvents… through watchdog).

`serve` could stat every input file every few milliseconds, but at 10,000 records one such scan costs about
75 ms, so polling must either be slow to notice a save or burn a core. The OS says which paths changed; the
watcher then looks at only those. A folder created, deleted or moved, or any doubt, means "scan everything".
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from .tree import Layout, layout

_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


class Notifier(FileSystemEventHandler):
    """Collects the paths (as the tree names them: 'content/…') the OS reports as changed in the content folder,
    the project's templates/ and static/, and the theme's (when it is on disk)."""

    def __init__(self, project: Path | Layout) -> None:
        super().__init__()
        self.folders = [(name, top) for name, top in layout(project).folders() if os.path.isdir(top)]
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self._paths: set[str] | None = set()  # None: a change a list of files cannot describe
        self._observer = Observer()
        for _, top in self.folders:
            self._observer.schedule(self, top, recursive=True, event_filter=_EVENTS)
        self._observer.daemon = True
        self._observer.start()  # OSError when the OS has no watches left: the caller then polls

    def on_any_event(self, event: FileSystemEvent) -> None:
        with self._lock:
            if event.is_directory or self._paths is None:
                self._paths = None
            else:
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    rel = self.logical(os.fsdecode(path)) if path else ""
                    if rel:
                        self._paths.add(rel)
        self._arrived.set()

    def logical(self, path: str) -> str:
        """The tree's name for a path on disk ('content/…', 'templates/…'), or '' when it is in no watched folder."""
        for name, top in self.folders:
            if path.startswith(top + os.sep):
                return name + path[len(top) :].replace(os.sep, "/")
        return ""

    def wait(self, timeout: float) -> bool:
        """Wait until a change arrives (True) or `timeout` seconds pass (False)."""
        return self._arrived.wait(timeout)

    def wake(self) -> None:
        """End a `wait` early (to stop)."""
        self._arrived.set()

    def take(self) -> set[str] | None:
        """The paths changed since the last call; None when only a scan of everything can tell."""
        with self._lock:
            paths, self._paths = self._paths, set()
            self._arrived.clear()
        return paths

    def close(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=2)


def start(project: Path | Layout) -> Notifier | None:
    """A notifier for the project, or None when the OS cannot give one (the watcher polls instead)."""
    try:
        return Notifier(project)
    except OSError:
        return None
