"""The Ray Serve LLM launch settings (the launch itself runs in tests/test_run_llm.py)."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config
from pipeline.serve import load_builder, serving_args


def test_serving_args_follow_the_run_config():
    cfg = load_config(None, {"text_backend": "openai", "llm_model": "writer", "llm_serve_model": "Qwen/Qwen2.5-7B-Instruct",
                             "llm_serve_accelerator": "H100", "llm_serve_replicas": 2,
                             "llm_serve_engine_kwargs": {"tensor_parallel_size": 2, "max_model_len": 16384}})
    (llm,) = serving_args(cfg)["llm_configs"]
    assert llm["model_loading_config"] == {"model_id": "writer", "model_source": "Qwen/Qwen2.5-7B-Instruct"}
    assert llm["accelerator_type"] == "H100"
    assert llm["deployment_config"]["autoscaling_config"] == {"min_replicas": 2, "max_replicas": 2}
    assert llm["engine_kwargs"] == {"tensor_parallel_size": 2, "max_model_len": 16384}
    # where it runs is not content: the same data resumes on a cluster of another shape
    assert cfg.fingerprint() == cfg.model_copy(update={"llm_serve_replicas": 8, "llm_serve_accelerator": None}).fingerprint()


@pytest.mark.parametrize("overrides, message", [
    ({"llm_serve_model": "m"}, "needs --text-backend openai"),
    ({"text_backend": "openai", "llm_model": "w", "llm_serve_model": "m", "llm_base_url": "http://x/v1"}, "not both"),
    ({"text_backend": "openai", "llm_model": "w", "llm_serve_model": "m", "llm_serve_replicas": 0}, "llm_serve_replicas"),
])
def test_bad_serve_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_a_builder_that_cannot_load_says_what_to_install():
    with pytest.raises(RuntimeError, match=r"\.\[serve\]"):
        load_builder("no_such_module_xyz:build_openai_app")
    with pytest.raises(RuntimeError, match="has no 'nope'"):
        load_builder("pipeline.serve:nope")
