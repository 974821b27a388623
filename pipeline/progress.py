"""One progress display for every stage of the job.

On a terminal each stage is a tqdm bar (count, rate, ETA). Anywhere else (a log file, `ray job
logs`, CI) the bar would be carriage-return noise, so each stage prints a plain line when it starts,
one every `interval_s` while it runs (a heartbeat thread, so that a stage busy inside one long call
still shows it is alive) and one when it ends. Every line carries the time since the job started.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

INTERVAL_ENV = "PERSONAFORGE_PROGRESS_S"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


class Progress:
    def __init__(self, enabled: bool = True, stream: TextIO | None = None, interval_s: float | None = None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        # a pseudo-terminal of no size (`script`, some CI runners) shows no bar: plain lines there
        self.tty = enabled and self.stream.isatty() and _columns(self.stream) > 0
        self.interval_s = interval_s or float(os.environ.get(INTERVAL_ENV, 10))
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def say(self, msg: str) -> None:
        if self.enabled:
            with self._lock:
                print(f"[personaforge {_clock(time.monotonic() - self.t0)}] {msg}", file=self.stream, flush=True)

    def track(self, items: list, name: str, unit: str = "persona") -> Iterator:
        """Iterate `items` as one stage."""
        with self.stage(name, len(items), unit) as task:
            for item in items:
                yield item
                task.advance()

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "persona") -> Iterator[Task]:
        task = Task(self, name, total, unit)
        try:
            yield task
        except BaseException:
            task.close(stopped=True)
            raise
        task.close()


def silent() -> Task:
    """A task that shows nothing: what a stage function gets when it is called outside the job."""
    return Task(Progress(enabled=False), "", None, "item")


class Task:
    """A stage in progress: `advance()` as items finish, `note()` to say what it is doing between them."""

    def __init__(self, progress: Progress, name: str, total: int | None, unit: str):
        self.progress, self.name, self.total, self.unit = progress, name, total, unit
        self.done, self.what = 0, ""
        self.t0 = self.phase_t0 = time.monotonic()
        self._stop = threading.Event()
        self._bar = None
        if not progress.enabled:
            return
        if progress.tty:
            self._bar = tqdm(total=total, desc=name, unit=unit, file=progress.stream, dynamic_ncols=True)
        else:
            progress.say(f"{name}: started" + (f", {total:,} {unit}s" if total is not None else ""))
        self._beat = threading.Thread(target=self._heartbeat, name=f"progress-{name}", daemon=True)
        self._beat.start()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def phase(self, what: str, total: int | None = None) -> None:
        """A new pass over the items (e.g. hashing, then matching): the count starts again."""
        self.done, self.total, self.phase_t0 = 0, total, time.monotonic()
        if self._bar is not None:
            self._bar.reset(total=total)
        self.note(what)

    def note(self, what: str) -> None:
        self.what = what
        if self._bar is not None:
            self._bar.set_postfix_str(what, refresh=True)

    def line(self) -> str:
        now = time.monotonic()
        elapsed, in_phase = now - self.t0, now - self.phase_t0
        rate = self.done / in_phase if in_phase > 0 else 0.0
        parts = [f"{self.done:,}" + (f"/{self.total:,}" if self.total is not None else "") + f" {self.unit}s"]
        if self.done:
            parts.append(f"{rate:.1f}/s")
            if self.total is not None and rate > 0 and self.done < self.total:
                parts.append(f"ETA {_clock((self.total - self.done) / rate)}")
        parts.append(f"{_clock(elapsed)} elapsed")
        return f"{self.name}: " + ", ".join(parts) + (f" ({self.what})" if self.what else "")

    def _heartbeat(self) -> None:
        wait = 1.0 if self._bar is not None else self.progress.interval_s
        while not self._stop.wait(wait):
            if self._bar is not None:
                self._bar.refresh()  # the elapsed clock moves even while one long call runs
            else:
                self.progress.say(self.line())

    def close(self, stopped: bool = False) -> None:
        if not self.progress.enabled:
            return
        self._stop.set()
        self._beat.join()
        if self._bar is not None:
            self._bar.close()
        else:
            count = f", {self.done:,}" + (f"/{self.total:,}" if self.total is not None else "") + f" {self.unit}s"
            outcome = "stopped by an error" if stopped else "done"
            self.progress.say(f"{self.name}: {outcome}{count if self.done else ''} in {_clock(time.monotonic() - self.t0)}")
