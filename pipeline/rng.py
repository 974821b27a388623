"""Seeded generators: every random choice is keyed by (run seed, persona id, stage).

Output therefore does not depend on worker count, scheduling order or retries.
"""

from __future__ import annotations

import hashlib

import numpy as np


def rng_for(seed: int, *keys: str) -> np.random.Generator:
    digest = hashlib.blake2b("\x00".join(keys).encode(), digest_size=16).digest()
    return np.random.default_rng([seed, *np.frombuffer(digest, dtype=np.uint32).tolist()])


def pick(rng: np.random.Generator, items, k: int | None = None, replace: bool = False):
    """One item (k=None) or k distinct items of a sequence, keeping item types (no numpy scalars)."""
    if k is None:
        return items[int(rng.integers(len(items)))]
    idx = rng.choice(len(items), size=k, replace=replace)
    return [items[int(i)] for i in idx]
