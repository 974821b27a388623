"""CPU time of generating one persona, and where it goes (cProfile).

    python bench/profile_persona.py [--personas 3] [--top 15]

Generates a few default-config personas in this process (embedded backends, no Ray, the collector
set as in the run's workers), prints the CPU seconds per persona without the profiler, then the
functions with the most own time under it.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config  # noqa: E402
from pipeline.generate import fewer_collections, generate_persona  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--personas", type=int, default=3, help="personas to generate (train and bench mixed)")
    ap.add_argument("--top", type=int, default=15, help="functions to list")
    args = ap.parse_args()
    cfg = load_config()
    everyone = sample_personas(cfg, load_lexicon(cfg.lexicon_dir))
    picked = [everyone[i * len(everyone) // args.personas] for i in range(args.personas)]
    generate_persona(picked[0], cfg)  # imports and caches
    with fewer_collections():  # as the run's workers do
        t = time.process_time()
        for p in picked:
            generate_persona(p, cfg)
        plain = (time.process_time() - t) / len(picked)
        profile = cProfile.Profile()
        profile.enable()
        for p in picked:
            generate_persona(p, cfg)
        profile.disable()
    print(f"{plain:.3f} CPU s per persona ({len(picked)} personas, default config, no profiler)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
