"""Random streams keyed to (seed, block of paths), never to workers, tasks or chunks.

Block ``b`` covers paths ``b * block_size`` .. ``(b + 1) * block_size - 1``. Its seed words come
from ``SeedSequence(seed, spawn_key=(PATH_STREAM, b))``, generated for the whole block whatever
number of its paths a run uses, so the first N paths of a run are the same in every run of the
same seed and block size.
"""

from __future__ import annotations

import numpy as np

PATH_STREAM = 0  # spawn-key prefix of the per-path simulation streams
WORDS_PER_PATH = 4  # xoshiro256+ state words


def block_seeds(seed: int, block: int, block_size: int, n_paths: int | None = None) -> np.ndarray:
    """Seed words of the first ``n_paths`` (default all) paths of ``block``: uint64 (n, 4)."""
    n_paths = block_size if n_paths is None else n_paths
    if not 0 <= n_paths <= block_size:
        raise ValueError(f"n_paths must be in [0, {block_size}], got {n_paths}")
    sequence = np.random.SeedSequence(seed, spawn_key=(PATH_STREAM, block))
    words = sequence.generate_state(block_size * WORDS_PER_PATH, dtype=np.uint64)
    return words.reshape(block_size, WORDS_PER_PATH)[:n_paths].copy()


def plan_blocks(n_paths: int, block_size: int) -> list[tuple[int, int]]:
    """(block index, paths used in it) for a run of ``n_paths``: full blocks, then a partial one."""
    full, rest = divmod(n_paths, block_size)
    blocks = [(b, block_size) for b in range(full)]
    if rest:
        blocks.append((full, rest))
    return blocks
