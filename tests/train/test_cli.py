"""`--train` on the job: SFT then GRPO right after the data is written, curves in the run's report."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_run_then_train_in_one_command(tmp_path):
    import ray

    from pipeline.run import main

    options = tmp_path / "train.yaml"
    options.write_text("max_steps: 3\n")  # both stages take it
    try:
        assert main(["--personas", "3", "--bench-personas", "1", "--months", "1", "--no-progress", "--out", str(tmp_path),
                     "--train", "--train-config", str(options)]) == 0
    finally:
        ray.shutdown()
    run = tmp_path / "p3-b1-m1-s0"
    for stage in ("sft", "grpo"):
        assert (run / "train" / stage / "final" / "config.json").exists()
        steps = [json.loads(line).get("step", 0) for line in (run / "train" / stage / "metrics.jsonl").read_text().splitlines()]
        assert max(steps) == 3
        assert (run / "report" / f"train_{stage}.png").exists()
    assert "train_grpo.png" in (run / "report" / "index.html").read_text()
