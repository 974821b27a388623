"""The driver stages' record: a rerun reuses what still holds, redoes a stage whose files changed and every
stage after it, and a finished run writes nothing."""

from __future__ import annotations

import json

import pytest

from pipeline.config import load_config
from pipeline.parts import write_part
from pipeline.progress import Progress
from pipeline.stages import RECORD, Generated, RunState, Stage, run_stages


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def run(tmp_path, small_parts, small_cfg):
    for part in small_parts[:2]:
        write_part(tmp_path, part, small_cfg.fingerprint())
    return tmp_path


def toy_stages(calls: list[str]) -> tuple[Stage, ...]:
    """Three stages that each write one file from the previous stage's output."""

    def make(name: str, before: str | None):
        def body(state: RunState, task) -> tuple[dict, list[str]]:
            calls.append(name)
            value = (state.outputs[before]["value"] if before else "") + name
            (state.run_dir / f"{name}.txt").write_text(value)
            task.advance()
            return {"value": value}, [f"{name}.txt"]
        return Stage(name, body, "file")

    return make("a", None), make("b", "a"), make("c", "b")


def _state(cfg, run, ids) -> RunState:
    return RunState(cfg, run, ids, {}, Generated())


def test_a_finished_run_is_reused_whole_and_nothing_is_written(run, small_cfg, small_parts):
    ids = [p.persona.id for p in small_parts[:2]]
    calls: list[str] = []
    run_stages(_state(small_cfg, run, ids), Progress(False), lambda name: None, toy_stages(calls))
    assert calls == ["a", "b", "c"] and (run / "c.txt").read_text() == "abc"

    before, calls[:] = _snapshot(run), []
    state = _state(small_cfg, run, ids)
    run_stages(state, Progress(False), lambda name: None, toy_stages(calls))
    assert calls == [] and state.reused == ["a", "b", "c"] and state.outputs["c"] == {"value": "abc"}
    assert _snapshot(run) == before


def test_a_changed_file_redoes_its_stage_and_every_later_one(run, small_cfg, small_parts):
    ids = [p.persona.id for p in small_parts[:2]]
    calls: list[str] = []
    run_stages(_state(small_cfg, run, ids), Progress(False), lambda name: None, toy_stages(calls))
    (run / "b.txt").write_text("damaged")
    calls[:] = []
    state = _state(small_cfg, run, ids)
    run_stages(state, Progress(False), lambda name: None, toy_stages(calls))
    assert calls == ["b", "c"] and state.reused == ["a"] and (run / "b.txt").read_text() == "ab"


@pytest.mark.parametrize("change", ["another persona", "another shard size", "record deleted"])
def test_other_inputs_redo_every_stage(run, small_cfg, small_parts, change):
    ids = [p.persona.id for p in small_parts[:2]]
    calls: list[str] = []
    run_stages(_state(small_cfg, run, ids), Progress(False), lambda name: None, toy_stages(calls))
    cfg = small_cfg
    if change == "another persona":
        write_part(run, small_parts[2], small_cfg.fingerprint())
        ids = [*ids, small_parts[2].persona.id]
    elif change == "another shard size":
        cfg = small_cfg.model_copy(update={"shard_size_mb": 1.0})
    else:
        (run / RECORD).unlink()
    calls[:] = []
    run_stages(_state(cfg, run, ids), Progress(False), lambda name: None, toy_stages(calls))
    assert calls == ["a", "b", "c"]


def test_the_record_follows_each_finished_stage(run, small_cfg, small_parts):
    """A run killed after stage b keeps a and b: the record is written after every stage."""
    ids = [p.persona.id for p in small_parts[:2]]
    calls: list[str] = []
    a, b, c = toy_stages(calls)

    def killed(state, task):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stages(_state(small_cfg, run, ids), Progress(False), lambda name: None, (a, b, Stage("c", killed, "file")))
    assert list(json.loads((run / RECORD).read_text())["stages"]) == ["a", "b"]
    calls[:] = []
    state = _state(small_cfg, run, ids)
    run_stages(state, Progress(False), lambda name: None, (a, b, c))
    assert calls == ["c"] and state.reused == ["a", "b"]


def test_the_fingerprint_free_fields_that_change_no_stage_keep_the_record(run, small_cfg, small_parts):
    ids = [p.persona.id for p in small_parts[:2]]
    calls: list[str] = []
    run_stages(_state(small_cfg, run, ids), Progress(False), lambda name: None, toy_stages(calls))
    calls[:] = []
    moved = load_config(overrides={**small_cfg.model_dump(), "workers": 1, "progress": False, "run_name": "x"})
    run_stages(_state(moved, run, ids), Progress(False), lambda name: None, toy_stages(calls))
    assert calls == []
