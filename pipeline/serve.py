"""Serving the text model on the Ray cluster itself: Ray Serve LLM (vLLM) launched from the run's config.

With `llm_serve_model` set, the driver deploys an OpenAI-compatible app before generation, the
generation tasks talk to it through Serve's HTTP proxy on their own node, and the app is deleted
afterwards so its GPUs are free for the stages that follow. Ray Serve LLM places each replica's
vLLM engine on GPUs it asks Ray for (`accelerator_type`, `tensor_parallel_size` in the engine
arguments), so the cluster needs GPU nodes (see ray_cluster.yaml) and the `serve` extra.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pipeline.config import RunConfig

APP_NAME = "personaforge-llm"


def serving_args(cfg: RunConfig) -> dict:
    """The LLMServingArgs for `ray.serve.llm.build_openai_app`, as the dict its YAML form takes."""
    llm_config = {
        "model_loading_config": {"model_id": cfg.llm_model, "model_source": cfg.llm_serve_model},
        "deployment_config": {"autoscaling_config": {"min_replicas": cfg.llm_serve_replicas,
                                                     "max_replicas": cfg.llm_serve_replicas}},
        "engine_kwargs": dict(cfg.llm_serve_engine_kwargs),
    }
    if cfg.llm_serve_accelerator:
        llm_config["accelerator_type"] = cfg.llm_serve_accelerator
    return {"llm_configs": [llm_config]}


def load_builder(import_path: str) -> Callable[[dict], object]:
    """`module:function`, the convention of Serve's own config files."""
    module, _, name = import_path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise RuntimeError(f"llm_serve_builder {import_path!r} cannot be imported ({e}); Ray Serve LLM needs "
                           "`pip install -e '.[serve]'` (vLLM, on GPU nodes)") from e
    except AttributeError:
        raise RuntimeError(f"llm_serve_builder {import_path!r}: {module} has no {name!r}") from None


@contextmanager
def served_llm(cfg: RunConfig) -> Iterator[str]:
    """Deploy the app, yield the base URL the generation tasks use, delete the app on the way out."""
    from ray import serve

    app = load_builder(cfg.llm_serve_builder)(serving_args(cfg))
    # A proxy on every node: each generation task reaches Serve on 127.0.0.1 without crossing the network.
    serve.start(proxy_location="EveryNode", http_options={"host": "0.0.0.0", "port": cfg.llm_serve_port})
    serve.run(app, name=APP_NAME, route_prefix="/")  # returns once every replica is up (the model loaded)
    try:
        yield f"http://127.0.0.1:{cfg.llm_serve_port}/v1"
    finally:
        serve.delete(APP_NAME)
