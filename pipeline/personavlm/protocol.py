"""The PersonaVLM agent's text protocol: its prompt templates and the line formats its parsers read.

The release fills templates with `str.replace` of `{Placeholder}`s and parses each answer by cutting
the text between field names, so every target here is written as those parsers cut it: one
`"field": value` per line, plain values (no JSON lists, no colons inside a profile or procedural value,
nothing after the last field).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from pipeline.records import TRAITS, parse_time

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "prompts" / "personavlm"
PLACEHOLDERS = {
    "MLLM_REASONING_PROMPT_START": ("{UserProfile}", "{Openness}", "{Conscientiousness}", "{Extraversion}",
                                    "{Agreeableness}", "{Neuroticism}", "{DialogHistory}", "{UserQuery}"),
    "MLLM_REASONING_PROMPT_MID": ("{ProceduralMemory}", "{SemanticMemory}", "{DialogHistory}"),
    "MLLM_INFERENCE_PERSONALITY_PROMPT": ("{UserProfile}", "{DialogHistory}", "{UserQuery}"),
    "MLLM_SEMANTIC_MEMORY_PROMPT": ("{UserProfile}", "{DialogHistory}", "{UserQuery}"),
    "MLLM_CORE_MEMORY_UPDATE_PROMPT": ("{UserProfile}", "{DialogHistory}"),
    "MLLM_EPISODIC_MEMORY_PROMPT": ("{UserProfile}", "{DialogHistory}"),
    "MLLM_PROCEDURAL_MEMORY_PROMPT": ("{UserProfile}", "{CurrentProceduralMemory}", "{DialogHistory}"),
}
# what the release's RL plugin cuts out of a reasoning prompt to find the query
START_SECTIONS = ("\n\nUser Input:\n", "\n\n# Core Instructions\n")
SESSION_GAP_MIN = 60  # the agent starts a new session after this much silence
IMAGE = "<image>"  # the SFT loader's marker; the agent's own is <img_fill>, turned into this by the model wrapper


class TemplateError(ValueError):
    """A prompts file that lacks a template or a placeholder the agent fills."""


def load_templates(path: Path | None = None) -> dict[str, str]:
    """Our templates, or a prompts file's; parsed and checked once per file content (every persona's replay
    asks for them)."""
    if path is None:
        return dict(_load_templates(None, b""))
    try:
        text = Path(path).read_bytes()
    except OSError as e:
        raise TemplateError(f"cannot read prompts file {path}: {e}") from e
    return dict(_load_templates(Path(path), text))


@functools.lru_cache(maxsize=8)
def _load_templates(path: Path | None, text: bytes) -> dict[str, str]:
    """Our templates, or the module constants of a user's copy of the release's `prompts.py`.

    The file is read, not imported: each template must be a string literal (optionally `.strip()`ped)."""
    if path is None:
        templates = {name: (TEMPLATE_DIR / f"{name}.txt").read_text().strip() for name in PLACEHOLDERS}
    else:
        try:
            tree = ast.parse(text.decode(), filename=str(path))
        except (UnicodeDecodeError, SyntaxError) as e:
            raise TemplateError(f"cannot read prompts file {path}: {e}") from e
        templates = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                text = _string(node.value)
                if text is not None:
                    templates[node.targets[0].id] = text
        missing = [n for n in PLACEHOLDERS if n not in templates]
        if missing:
            raise TemplateError(f"{path} defines no string constant {', '.join(missing)}: pass the release's "
                                "PersonaVLM/prompts.py (or a copy with the same constants)")
    for name, needed in PLACEHOLDERS.items():
        absent = [p for p in needed if p not in templates[name]]
        if absent:
            raise TemplateError(f"template {name} ({path or TEMPLATE_DIR}) lacks the placeholder(s) {', '.join(absent)}")
    start = templates["MLLM_REASONING_PROMPT_START"]
    if not all(s in start for s in START_SECTIONS) or start.index(START_SECTIONS[0]) > start.index(START_SECTIONS[1]):
        raise TemplateError("MLLM_REASONING_PROMPT_START must hold the 'User Input:' section followed by "
                            "'# Core Instructions' (the release's RL plugin reads the query between them)")
    return templates


def boilerplate(templates: dict[str, str]) -> frozenset[str]:
    """The templates' fixed lines (those without a placeholder): the same in every sample of a call."""
    return frozenset(line.strip() for t in templates.values() for line in t.split("\n") if line.strip() and "{" not in line)


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (isinstance(node, ast.Call) and not node.args and isinstance(node.func, ast.Attribute)
            and node.func.attr == "strip"):
        inner = _string(node.func.value)
        return None if inner is None else inner.strip()
    return None


def fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def stamp(t: str) -> str:
    """ "YYYY-MM-DD HH:MM (Weekday)", as the agent shows every time."""
    return f"{t} ({parse_time(t):%A})"


def user_text(text: str, n_images: int) -> str:
    """A user message as the agent stores it: one image line per photo, then the words."""
    return f"{IMAGE}\n" * n_images + text


def query(time: str, text: str, n_images: int) -> str:
    """The `{UserQuery}` block: the repr of the agent's query dict."""
    return str({"time": stamp(time), "query": user_text(text, n_images)})


def exchange(time: str, user: str, assistant: str, round_no: int | None = None) -> str:
    head = "" if round_no is None else f"Round {round_no} of dialogues\n"
    return f"{head}Time: {stamp(time)}\nUser: {user}\nAssistant: {assistant}"


def big_five(scores: dict[str, float]) -> dict[str, str]:
    """The personality placeholders, cut to three characters as the agent does ("3.4", "4.0")."""
    return {t.capitalize(): str(round(float(scores[t]), 1))[:3] for t in TRAITS}


def clean(value: str, colon: bool = True) -> str:
    """A value the line parsers keep whole: one line, and for the profile and procedural parsers (which cut a
    value at its first colon) no colon."""
    return " ".join((value if colon else value.replace(":", " -")).split())


def personality_lines(scores: dict[str, int]) -> str:
    return "\n".join(f'"{t}": {int(scores[t])}' for t in TRAITS)


def semantic_lines(reason: str, content: str | None, keywords: list[str]) -> str:
    if content is None:
        return f'"reason": {clean(reason)}\n"decision": false\n"content": ""\n"keywords": ""'
    return (f'"reason": {clean(reason)}\n"decision": true\n"content": {clean(content)}\n'
            f'"keywords": {clean(", ".join(keywords))}')


def topic_lines(topics: list[tuple[str, list[str], list[int]]]) -> str:
    return "\n".join(f'"topic_summary": {clean(summary)}\n"keywords": {clean(", ".join(keywords))}\n'
                     f'"source_dialog_indices": [{", ".join(map(str, rounds))}]' for summary, keywords, rounds in topics)


def key_value_lines(entries: dict[str, str]) -> str:
    """Core memory (profile) and procedural memory: a full rewrite, one `"key": value` per line."""
    return "\n".join(f'"{clean(k, colon=False)}": {clean(v, colon=False)}' for k, v in entries.items())


def retrieve_block(think: str, keywords: list[str], start: str | None, end: str | None) -> str:
    when = lambda t: f'"{t}"' if t else '"null"'  # noqa: E731
    return (f"<think>{think}</think><retrieve>\n\"keywords\": {', '.join(keywords)}\n\"start_time\": {when(start)}\n"
            f"\"end_time\": {when(end)}\n</retrieve>")


def answer_block(think: str, answer: str) -> str:
    return f"<think>{think}</think><answer>{answer}</answer>"
