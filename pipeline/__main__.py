"""`python -m pipeline <command>`: the job (`run`, same as pipeline/run.py) and its tools."""

from __future__ import annotations

import sys
from importlib import import_module

# command -> (module with main(argv), one line of help)
COMMANDS = {
    "run": ("pipeline.run", "generate a dataset (see `run --help`)"),
    "export": ("pipeline.personavlm.export", "`export personavlm RUN`: the benchmark, SFT and RL data in PersonaVLM's layouts"),
    "publish": ("pipeline.publish", "upload a finished run to a Hugging Face dataset repo"),
    "mme": ("pipeline.mme.cli", "Persona-MME: `mme eval` scores an OpenAI-compatible model on a run's benchmark"),
    "train": ("pipeline.train.cli", "`train sft|grpo --data RUN`: SFT or GRPO on a run's shards (needs the train extra)"),
    "schemas": ("pipeline.schemas", "regenerate schemas/ from the records"),
}


def usage() -> str:
    return ("usage: python -m pipeline <command> [options]   (`python -m pipeline <command> --help` for its options)\n\n"
            "commands:\n" + "".join(f"  {name:9s} {text}\n" for name, (_, text) in COMMANDS.items()))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(usage(), end="")
        return 0
    if not argv or argv[0] not in COMMANDS:
        problem = "a command is required" if not argv else f"unknown command {argv[0]!r}"
        print(f"{usage()}\nerror: {problem}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return import_module(COMMANDS[argv[0]][0]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
