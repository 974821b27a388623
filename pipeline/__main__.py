"""`python -m pipeline <command>`: the job (`run`, same as pipeline/run.py) and its tools."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"run": "generate a dataset (see `run --help`)", "schemas": "regenerate schemas/ from the records",
                "export": "`export personavlm RUN`: the benchmark, SFT and RL data in PersonaVLM's own layouts",
                "publish": "upload a finished run to a Hugging Face dataset repo (see `publish --help`)",
                "mme": "Persona-MME: `mme eval` scores an OpenAI-compatible model on a run's benchmark",
                "train": "SFT or GRPO on a run's shards (`train sft|grpo --data outputs/<run>`; needs the train extra)"}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print("usage: python -m pipeline <command> [options]\n\ncommands:")
        for name, text in commands.items():
            print(f"  {name:10s} {text}")
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        from pipeline.run import main as run_main

        return run_main(rest)
    if command == "publish":
        from pipeline.publish import main as publish_main

        return publish_main(rest)
    if command == "train":
        from pipeline.train.cli import main as train_main

        return train_main(rest)
    if command == "mme":
        from pipeline.mme.cli import main as mme_main

        return mme_main(rest)
    if command == "export":
        from pipeline.personavlm.export import main as export_main

        return export_main(rest)
    from pipeline.schemas import write_schemas

    for path in write_schemas():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
