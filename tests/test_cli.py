"""The command lines refuse what they do not understand, and `--help` never does work."""

from __future__ import annotations

import argparse
import sys

import pytest

from pipeline.__main__ import COMMANDS
from pipeline.__main__ import main as pipeline_main
from pipeline.config import RunConfig, load_config
from pipeline.run import build_parser


def _exit_code(fn, argv) -> int:
    try:
        return fn(argv)
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("argv, problem", [([], "a command is required"), (["bogus"], "unknown command 'bogus'"),
                                           (["Run"], "unknown command 'Run'")])
def test_a_missing_or_unknown_command_is_an_error_that_lists_the_commands(argv, problem, capsys):
    assert pipeline_main(argv) == 2
    err = capsys.readouterr().err
    assert problem in err and all(name in err for name in COMMANDS)


def test_help_lists_the_commands_and_exits_0(capsys):
    assert pipeline_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


@pytest.mark.parametrize("argv", [
    ["run", "--persona", "10"], ["run", "--bench", "3"], ["run", "--no-prog"], ["schemas", "--ou", "x"],
    ["publish", "outputs/x", "--repo", "a/b"], ["train", "sft", "--dat", "x"], ["mme", "eval", "--mod", "m", "--data", "x"],
    ["export", "personavlm", "x", "--prompt", "p.py"], ["train", "sf", "--data", "x"], ["export", "pv", "x"],
])
def test_no_abbreviation_is_taken_for_an_option_or_a_subcommand(argv, capsys):
    assert _exit_code(pipeline_main, argv) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["schemas", "--help"], ["run", "--help"], ["train", "--help"], ["train", "sft", "--help"],
                                  ["train", "grpo", "--help"], ["mme", "eval", "--help"], ["export", "personavlm", "--help"],
                                  ["publish", "--help"]])
def test_help_does_no_work_and_each_subcommand_has_its_own(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import pipeline.schemas

    monkeypatch.setattr(pipeline.schemas, "write_schemas", lambda *a, **k: pytest.fail("--help wrote the schemas"))
    assert _exit_code(pipeline_main, argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m pipeline {' '.join(argv[:-1])}" if argv[0] != "run" else "usage: pipeline/run.py")
    if argv[:2] == ["train", "grpo"]:
        assert "GRPO" in out and "--data" in out
    assert list(tmp_path.iterdir()) == []


def test_run_options_are_the_config_fields_with_choices_and_one_default_each():
    actions = {a.dest: a for a in build_parser()._actions if a.dest != "help"}
    assert set(actions) - set(RunConfig.model_fields) == {"config", "plan", "llm_api_key"}  # the flags-only ones
    assert set(RunConfig.model_fields) <= set(actions)
    for name, action in actions.items():
        assert action.help.count("(default") <= 1, (name, action.help)
        assert action.option_strings == ["--" + name.replace("_", "-")] or isinstance(action, argparse.BooleanOptionalAction)
    assert actions["text_backend"].choices == ("scripted", "openai")
    assert actions["image_backend"].choices == ("procedural", "diffusers")


@pytest.mark.parametrize("key, value", [("train", True), ("publish", "me/data"), ("progress", False),
                                        ("llm_retry_quarantined", True), ("llm_serve_engine_kwargs", {"max_model_len": 8})])
def test_every_run_option_is_a_yaml_key(tmp_path, key, value):
    import yaml

    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({key.replace("_", "-"): value}))
    assert getattr(load_config(path), key) == value


def test_flag_values_are_validated_like_yaml_values(capsys):
    from pipeline.config import ConfigError
    from pipeline.run import config_from_args

    with pytest.raises(ConfigError) as e:
        config_from_args(build_parser().parse_args(["--image-rate", "3"]))
    assert str(e.value).startswith("invalid configuration (command line):") and "image_rate" in str(e.value)
    assert config_from_args(build_parser().parse_args(["--llm-serve-engine-kwargs", "{tensor_parallel_size: 2}"])
                            ).llm_serve_engine_kwargs == {"tensor_parallel_size": 2}


def test_train_without_the_extra_is_one_line_with_the_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "trl", None)  # import trl raises ImportError
    assert pipeline_main(["train", "sft", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[train]"' in err and "Traceback" not in err


def test_a_missing_train_config_is_refused_before_any_work(tmp_path, capsys):
    from pipeline.run import main

    pytest.importorskip("trl")
    missing = tmp_path / "nope.yaml"
    assert main(["--personas", "1", "--bench-personas", "0", "--out", str(tmp_path / "out"), "--train",
                 "--train-config", str(missing)]) == 2
    assert f"--train-config {missing}: no such file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
