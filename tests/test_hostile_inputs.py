"""Hostile inputs, generated (hypothesis): whatever a user or a script passes, the run either accepts it
within its rules or stops with one clear message and a non-zero exit, having written nothing."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.publish import PublishError, check_repo_id
from pipeline.run import build_parser, config_from_args, main

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAME_CHARS = string.ascii_letters + string.digits + "._-"


@FAST
@given(name=st.text(min_size=0, max_size=40))
def test_a_run_name_never_escapes_the_output_root(name):
    try:
        cfg = load_config(overrides={"run_name": name, "out": "/tmp/pf-root"})
    except ConfigError as e:
        assert "run_name" in str(e)
        return
    assert cfg.run_dir.resolve().parent == Path("/tmp/pf-root").resolve() and cfg.run_dir.name == name


@FAST
@given(field=st.sampled_from(["personas", "bench_personas", "months", "image_rate", "seed", "image_size",
                              "dedup_threshold", "turns_per_session", "text_backend", "start_date", "llm_concurrency"]),
       value=st.one_of(st.text(max_size=8), st.integers(-10**6, -1), st.floats(allow_nan=True), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.none()))
def test_a_bad_value_is_refused_naming_its_field(field, value):
    """Anything the model does not accept raises ConfigError (never another exception) that names the field."""
    try:
        cfg = load_config(overrides={field: value})
    except ConfigError as e:
        assert field in str(e)
        return
    # accepted: then it is a valid value, and the config says so when checked again
    RunConfig.model_validate(cfg.model_dump())


@FAST
@given(keys=st.dictionaries(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12), st.integers(),
                            min_size=1, max_size=3))
def test_unknown_keys_in_a_config_file_are_named(tmp_path, keys):
    known = set(RunConfig.model_fields)
    unknown = {k: v for k, v in keys.items() if k not in known}
    if not unknown:
        return
    path = tmp_path / "c.yaml"
    path.write_text("".join(f"'{k}': {v}\n" for k, v in unknown.items()))  # quoted: YAML reads `no` as false
    with pytest.raises(ConfigError, match="unknown key") as e:
        load_config(path)
    assert all(k in str(e.value) for k in unknown)


@FAST
@given(repo_id=st.text(min_size=0, max_size=30))
def test_a_repo_id_is_namespace_slash_name_and_never_a_path(repo_id):
    valid = (repo_id.count("/") == 1 and all(part and all(c in NAME_CHARS for c in part) for part in repo_id.split("/"))
             and ".." not in repo_id)
    if valid:
        check_repo_id(repo_id)
    else:
        with pytest.raises(PublishError, match="namespace/name"):
            check_repo_id(repo_id)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flag=st.sampled_from(["--personas", "--months", "--image-rate", "--seed", "--run-name", "--dedup-threshold",
                             "--turns-per-session", "--start-date", "--text-backend"]),
       value=st.sampled_from(["0", "-1", "1.5", "abc", "", "../x", "1e9999", "nan", "2025-13-01", "a/b"]))
def test_the_cli_refuses_bad_input_before_writing_anything(tmp_path_factory, flag, value, capsys):
    out = tmp_path_factory.mktemp("out")
    argv = [flag, value, "--out", str(out), "--no-progress"]
    try:
        config_from_args(build_parser().parse_args(argv))
        assume(False)  # a value that is valid after all (e.g. --seed 0) would start a whole run: not this test's job
    except (ConfigError, SystemExit):
        pass
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as e:  # argparse: a value of the wrong type for the flag
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_a_run_folder_from_another_version_is_refused_untouched(tmp_path, capsys):
    run = tmp_path / "p1-b0-m1-s0"
    run.mkdir()
    (run / "run.json").write_text('{"format": 0, "fingerprint": "x"}')
    (run / "keep.txt").write_text("earlier work")
    assert main(["--personas", "1", "--bench-personas", "0", "--months", "1", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "written by another PersonaForge version" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt", "run.json"]
    assert (run / "run.json").read_text() == '{"format": 0, "fingerprint": "x"}'


def test_an_output_that_cannot_be_written_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["--personas", "1", "--bench-personas", "0", "--months", "1", "--out", str(blocker / "out"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the run folder" in err and "check --out" in err and "Traceback" not in err
    assert blocker.read_text() == "not a folder"
