"""The run configuration: one typed model, filled from defaults, a YAML file and CLI flags (in that order)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LEXICONS = REPO_ROOT / "personas"

# Fields that only say where and how fast to run; they never change a byte of content.
_NON_CONTENT = frozenset({"out", "run_name", "workers", "shard_size_mb", "card_license", "llm_base_url",
                          "llm_concurrency", "llm_cache_dir", "offline_replay", "llm_timeout_s", "image_gpus",
                          "llm_serve_accelerator", "llm_serve_replicas", "llm_serve_port", "llm_serve_builder",
                          "llm_max_tokens", "llm_retry_budget_s", "llm_price_prompt", "llm_price_completion",
                          "llm_retry_quarantined", "progress", "train", "train_config", "publish"})


class ConfigError(ValueError):
    """A bad configuration: the message names the field and says what to do."""


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    out: Path = Field(Path("outputs"), description="output root; the run directory is <out>/<run_name>/")
    run_name: str | None = Field(None, description="run directory name (default: derived from the scale and seed)")
    personas: int = Field(500, ge=1, description="number of training personas")
    bench_personas: int = Field(200, ge=0, description="number of benchmark personas (disjoint from training)")
    months: int = Field(3, ge=1, le=24, description="months of simulated life per persona")
    seed: int = Field(0, ge=0, description="run seed; same config and seed give byte-identical shards")
    text_backend: Literal["scripted", "openai"] = Field(
        "scripted", description="how session plans become text: the embedded templates, or an OpenAI-compatible LLM")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://host:8000/v1 (openai backend)")
    llm_model: str | None = Field(None, description="model name sent to the endpoint (openai backend)")
    llm_temperature: float = Field(0.8, ge=0, le=2, description="sampling temperature (openai backend)")
    llm_concurrency: int = Field(64, ge=1, description="requests in flight per worker (openai backend)")
    llm_timeout_s: float = Field(60.0, gt=0, description="seconds before a request counts as timed out (then retried)")
    llm_repairs: int = Field(2, ge=0, description="repair requests for the turns that fail the check, before they ship "
                                                  "as the scripted draft (openai backend)")
    llm_max_tokens: int | None = Field(None, ge=16, description="completion tokens per request (default: sized from the "
                                                                "draft and the model's context; doubled on a length stop)")
    llm_retry_budget_s: float = Field(600.0, gt=0, description="seconds a request keeps retrying through 429s, 5xx and "
                                                               "outages before its persona is left for a rerun")
    llm_max_fallback_share: float = Field(0.2, ge=0, le=1, description="share of a persona's turns that may ship as the "
                                                                       "scripted draft before the persona is quarantined")
    llm_price_prompt: float = Field(0.0, ge=0, description="price per million prompt tokens, for --plan's cost")
    llm_price_completion: float = Field(0.0, ge=0, description="price per million completion tokens, for --plan's cost")
    llm_cache_dir: Path | None = Field(None, description="request cache (default: <run dir>/llm_cache)")
    offline_replay: bool = Field(False, description="answer every LLM request from the cache; fail on a miss")
    llm_serve_model: str | None = Field(
        None, description="launch this model (Hub id or local folder) on the Ray cluster with Ray Serve LLM (vLLM) and "
                          "generate through it, served as --llm-model (openai backend, serve extra, GPU nodes)")
    llm_serve_accelerator: str | None = Field(None, description="Ray accelerator type of the serving GPUs, e.g. H100 "
                                                                "(default: any GPU)")
    llm_serve_replicas: int = Field(1, ge=1, description="vLLM replicas Ray Serve runs (each on its own GPUs)")
    llm_serve_engine_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="vLLM engine arguments, e.g. {tensor_parallel_size: 2, max_model_len: 16384}")
    llm_serve_port: int = Field(8000, ge=1, le=65535, description="port of Ray Serve's HTTP proxy on every node")
    llm_serve_builder: str = Field("ray.serve.llm:build_openai_app",
                                   description="module:function that builds the Serve app from the LLMServingArgs dict")
    image_backend: Literal["procedural", "diffusers"] = Field(
        "procedural", description="how scene specs become pictures: Pillow drawing, or a diffusers text-to-image model")
    image_model: str | None = Field(None, description="diffusers model: a Hub id (e.g. stabilityai/sdxl-turbo) or a local folder")
    image_steps: int = Field(2, ge=1, le=200, description="diffusion steps per image (diffusers backend)")
    image_guidance: float = Field(0.0, ge=0, description="classifier-free guidance scale (0 for turbo models)")
    image_gpus: float = Field(0.0, ge=0, description="GPUs each persona task requests (diffusers backend; 0.25 shares one GPU by 4)")
    image_rate: float = Field(0.2, gt=0, le=1, description="share of user turns that carry an image")
    turns_per_session: tuple[int, int] = Field((3, 8), description="min and max user-assistant exchanges per session")
    bench_session_rate: float = Field(2.5, gt=0, le=5, description="how many times as often a benchmark persona starts a "
                                      "session as a training persona of the same traits: Persona-MME's 128k histories need "
                                      "100-500 turns within the months simulated")
    start_date: date = Field(date(2025, 3, 3), description="first day of every persona's timeline")
    dedup_threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity at which two documents are near duplicates")
    rl_per_persona: int = Field(12, ge=0, description="GRPO prompts drawn per training persona")
    mme_per_setting: int = Field(50, ge=0, description="Persona-MME multiple-choice questions per benchmark persona and setting")
    mme_alignment_pairs: int = Field(1, ge=0, description="Personality Alignment pairs (aligned + misaligned reply) per persona, setting")
    mme_cases: int = Field(2, ge=1, description="Persona-MME cases per benchmark persona and setting: histories that end at "
                                                "different moments, each with its share of the questions asked there")
    mme_tokenizer: str | None = Field(None, description="tokenizer folder for Persona-MME context token counts (default: an approximation)")
    image_size: int = Field(480, ge=64, le=2048, description="side of the rendered square images, in pixels (480: the "
                                                             "paper's 230,400 max pixels, so a model is given all of them)")
    shard_size_mb: float = Field(250.0, gt=0, description="target size of one Parquet shard, in MB")
    workers: int | None = Field(None, ge=1, description="parallel persona workers (default: one per CPU Ray sees)")
    card_license: str = Field("cc-by-4.0", description="license id written into the dataset card")
    lexicon_dir: Path = Field(DEFAULT_LEXICONS, description="folder with the persona lexicons")
    agent_prompts: Path | None = Field(None, description="a copy of PersonaVLM's prompts.py: the SFT and RL samples use "
                                                         "its templates verbatim (default: ours, prompts/personavlm)")
    # what the job does besides generating; like the rest, each is a flag and a YAML key
    llm_retry_quarantined: bool = Field(False, description="generate the personas an earlier run quarantined again, with "
                                                           "fresh samples (new seeds, so cached rejected replies are not reused)")
    train: bool = Field(False, description="train SFT then GRPO on the finished run with the tiny embedded model (needs "
                                           "the train extra); see `python -m pipeline train --help` for real models")
    train_config: Path | None = Field(None, description="YAML of training options for --train, given to both stages "
                                                        "(`python -m pipeline train sft --config`: steps, batch size, model)",
                                      json_schema_extra={"metavar": "FILE"})
    publish: str | None = Field(None, description="publish the finished run to this Hugging Face dataset repo, "
                                                  "namespace/name (token from $HF_TOKEN)",
                                  json_schema_extra={"metavar": "REPO_ID"})
    progress: bool = Field(True, description="progress on stderr: bars on a terminal, a line every 10 s otherwise")

    @field_validator("run_name")
    @classmethod
    def _safe_run_name(cls, v: str | None) -> str | None:
        if v is not None and (not v or v.startswith(".") or any(c not in _NAME_CHARS for c in v)):
            raise ValueError("use letters, digits, '.', '_' and '-' only, not starting with '.' (it names a folder under --out)")
        return v

    @field_validator("turns_per_session")
    @classmethod
    def _turn_range(cls, v: tuple[int, int]) -> tuple[int, int]:
        lo, hi = v
        if lo < 2 or hi < lo or hi > 60:
            raise ValueError(f"need 2 <= min <= max <= 60, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _lexicons_exist(self) -> RunConfig:
        if not self.lexicon_dir.is_dir():
            raise ValueError(f"lexicon_dir {self.lexicon_dir} is not a folder")
        if self.agent_prompts is not None:
            from pipeline.personavlm.protocol import load_templates

            load_templates(self.agent_prompts)  # TemplateError (a ValueError) says what is missing
        if self.image_backend == "diffusers" and not self.image_model:
            raise ValueError("image_model: the diffusers image backend needs --image-model (a Hub id or a local folder "
                             "with model_index.json)")
        if self.text_backend == "openai" and not self.llm_model:
            raise ValueError("llm_model: the openai text backend needs --llm-model (and --llm-base-url unless "
                             "OPENAI_BASE_URL is set, or --llm-serve-model to serve it on the cluster)")
        if self.llm_serve_model and self.text_backend != "openai":
            raise ValueError("llm_serve_model: serving a model on the cluster needs --text-backend openai")
        if self.llm_serve_model and self.llm_base_url:
            raise ValueError("llm_serve_model: give either --llm-base-url (an endpoint that is already up) or "
                             "--llm-serve-model (launch one on the cluster), not both")
        return self

    @property
    def name(self) -> str:
        return self.run_name or f"p{self.personas}-b{self.bench_personas}-m{self.months}-s{self.seed}"

    @property
    def run_dir(self) -> Path:
        return self.out / self.name

    def content_dict(self) -> dict[str, Any]:
        """The fields that determine the data (not where it goes or how fast): the resume key."""
        d = json.loads(self.model_dump_json(exclude=set(_NON_CONTENT)))
        d["lexicon_dir"] = _dir_digest(self.lexicon_dir)
        if self.agent_prompts is not None:
            d["agent_prompts"] = "sha256:" + hashlib.sha256(self.agent_prompts.read_bytes()).hexdigest()[:16]
        return d

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.content_dict(), sort_keys=True).encode()).hexdigest()[:16]


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _dir_digest(folder: Path) -> str:
    """Content hash of the lexicons, so editing a lexicon is seen as a different config."""
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return "sha256:" + h.hexdigest()[:16]


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        field = ".".join(str(x) for x in e["loc"]) or "(config)"
        got = f" (got {e['input']!r})" if "input" in e and not isinstance(e["input"], dict) else ""
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = f"unknown key; valid keys: {', '.join(RunConfig.model_fields)}"
        lines.append(f"  {field}: {msg}{got}")
    return f"invalid configuration ({source}):\n" + "\n".join(lines)


def load_config(path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Defaults < YAML file < overrides. Raises ConfigError with one message naming each bad field."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        source = str(path)
        try:
            loaded = yaml.safe_load(path.read_text())
        except OSError as e:
            raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {path} is not valid YAML: {e}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must be a mapping of keys to values, got {type(loaded).__name__}")
        data.update({str(k).replace("-", "_"): v for k, v in loaded.items()})
    if overrides:
        data.update({k: v for k, v in overrides.items() if v is not None})
        source = f"{path} + command line" if path is not None else "command line"
    try:
        return RunConfig(**data)
    except ValidationError as e:
        raise ConfigError(_format_errors(e, source)) from None
