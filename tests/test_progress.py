"""Progress off a terminal: plain lines, one at least every interval even while a stage is stuck in one call."""

from __future__ import annotations

import io
import os
import re
import time

from pipeline.progress import Progress

STAMP = re.compile(r"^\[personaforge (\d+):(\d\d):(\d\d)\] (.*)$")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 0


def progress_lines(text: str) -> list[tuple[int, str]]:
    """(seconds since start, message) of each line; every line must be a progress line."""
    out = []
    for line in text.splitlines():
        m = STAMP.match(line)
        assert m, f"not a progress line: {line!r}"
        h, mi, s, msg = m.groups()
        out.append((int(h) * 3600 + int(mi) * 60 + int(s), msg))
    return out


def test_a_silent_stage_still_prints_a_line_every_interval():
    stream = io.StringIO()
    progress = Progress(stream=stream, interval_s=0.5)
    with progress.stage("dedup", total=4) as task:
        task.advance(1)
        time.sleep(2.2)  # one long call: no advance, no note
        task.advance(3)
    lines = progress_lines(stream.getvalue())
    msgs = [m for _, m in lines]
    assert msgs[0] == "dedup: started, 4 personas" and msgs[-1].startswith("dedup: done, 4/4 personas in")
    beats = [m for m in msgs if m.startswith("dedup: 1/4 personas")]
    assert len(beats) >= 3, msgs
    assert "ETA" in beats[0] and "\r" not in stream.getvalue()


def test_a_terminal_gets_one_bar_per_stage(monkeypatch):
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((100, 30)))
    stream = Terminal()
    progress = Progress(stream=stream)
    with progress.stage("shards", total=3, unit="file") as task:
        for _ in range(3):
            task.advance()
    text = stream.getvalue()
    assert "\r" in text and "shards" in text and "3/3" in text and "[personaforge" not in text


def test_disabled_progress_prints_nothing():
    stream = io.StringIO()
    progress = Progress(enabled=False, stream=stream, interval_s=0.1)
    with progress.stage("report") as task:
        time.sleep(0.3)
        task.advance()
    progress.say("hello")
    assert stream.getvalue() == ""


def test_track_counts_every_item_once():
    stream = io.StringIO()
    items = list(Progress(stream=stream, interval_s=60).track(["a", "b", "c"], "export"))
    msgs = [m for _, m in progress_lines(stream.getvalue())]
    assert items == ["a", "b", "c"] and msgs[-1].startswith("export: done, 3/3 personas in")


def test_a_stage_that_fails_says_so():
    stream = io.StringIO()
    progress = Progress(stream=stream, interval_s=60)
    try:
        with progress.stage("dedup", total=2) as task:
            task.advance()
            raise OSError("disk full")
    except OSError:
        pass
    assert progress_lines(stream.getvalue())[-1][1].startswith("dedup: stopped by an error, 1/2 personas in")


def test_a_new_phase_restarts_the_count_not_the_stage_clock():
    stream = io.StringIO()
    progress = Progress(stream=stream, interval_s=60)
    with progress.stage("dedup", total=2) as task:
        task.advance(2)
        time.sleep(1.1)
        task.phase("matching", 2)
        task.advance(2)
    assert progress_lines(stream.getvalue())[-1][1] == "dedup: done, 2/2 personas in 0:00:01"


def test_a_terminal_of_no_size_gets_plain_lines(monkeypatch):
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))
    stream = Terminal()
    with Progress(stream=stream, interval_s=60).stage("shards", total=1, unit="file") as task:
        task.advance()
    assert [m for _, m in progress_lines(stream.getvalue())][-1].startswith("shards: done, 1/1 files in")
