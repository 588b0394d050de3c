"""Shuffling a multiple-choice item's options: a dataset operation, the same on every machine.

``LETTERS`` are the option labels items are lettered with (MMLU-Pro has ten options); the
``choice`` scorer reads answers in the same letters.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

from cotbench.errors import CotbenchError

LETTERS = "ABCDEFGHIJ"
T = TypeVar("T")


def _stable_seed(seed: int, item_id: str) -> int:
    digest = hashlib.sha256(f"{seed}\x00{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def shuffle_choices(choices: Sequence[T], correct_index: int, seed: int, item_id: str) -> tuple[list[T], int]:
    """Deterministically shuffle ``choices`` for one item (same seed and id, same order on any
    machine or Python process); returns the new list and the correct option's new index."""
    if not 0 <= correct_index < len(choices):
        raise CotbenchError(f"correct_index {correct_index} is out of range for {len(choices)} choices")
    order = list(range(len(choices)))
    random.Random(_stable_seed(seed, item_id)).shuffle(order)
    return [choices[i] for i in order], order.index(correct_index)
