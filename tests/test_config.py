from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.run import build_parser, main


def test_defaults_are_the_documented_scale():
    cfg = RunConfig()
    assert (cfg.personas, cfg.bench_personas, cfg.months) == (500, 200, 3)
    assert cfg.run_dir == Path("outputs") / "p500-b200-m3-s0"


def test_yaml_then_cli_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("personas: 40\nmonths: 6\nimage-rate: 0.3\n")
    cfg = load_config(path, {"months": 2})
    assert (cfg.personas, cfg.months, cfg.image_rate) == (40, 2, 0.3)


@pytest.mark.parametrize("overrides, field", [
    ({"personas": -5}, "personas"), ({"personas": 0}, "personas"), ({"months": 0}, "months"),
    ({"image_rate": 1.5}, "image_rate"), ({"text_backend": "gpt"}, "text_backend"),
    ({"run_name": "../escape"}, "run_name"), ({"turns_per_session": (5, 2)}, "turns_per_session"),
])
def test_bad_values_name_the_field(overrides, field):
    with pytest.raises(ConfigError, match=field):
        load_config(overrides=overrides)


def test_unknown_key_and_unreadable_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("persons: 3\n")
    with pytest.raises(ConfigError, match="persons: unknown key"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(tmp_path / "list.yaml")


def test_fingerprint_ignores_where_and_how_fast():
    a = load_config(overrides={"personas": 3, "out": "/x", "workers": 1, "run_name": "a"})
    b = load_config(overrides={"personas": 3, "out": "/y", "workers": 2, "run_name": "b"})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != load_config(overrides={"personas": 4}).fingerprint()


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in ("--config", "--out", "--run-name", "--personas", "--bench-personas", "--months", "--seed",
                 "--text-backend", "--image-backend", "--image-rate", "--turns-per-session"):
        assert flag in text


def test_cli_rejects_bad_input_before_any_work(tmp_path, capsys):
    assert main(["--personas", "-2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "personas" in err and "greater than or equal to 1" in err
    assert list(tmp_path.iterdir()) == []
