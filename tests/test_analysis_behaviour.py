"""The procedural-move lexicon: what counts, what does not, and normalisation."""

from __future__ import annotations

import math

from cotbench.analysis import behaviour as bh


def test_counts_each_move_once_per_phrase() -> None:
    text = ("Wait, that is wrong. Let me verify: plugging it back in gives 4. Case 1: x > 0. Case 2: x < 0. "
            "Let me double-check the sign. Hold on, let me reconsider.")
    # backtracking: wait, that is wrong, hold on, let me reconsider; verification: let me verify,
    # plugging it back in, let me double-check ("verify" inside "let me verify" is not counted again)
    assert bh.count_moves(text) == {"backtracking": 4, "verification": 3, "decomposition": 2}


def test_words_inside_other_words_do_not_count() -> None:
    # "awaited", "unverifiable" and "showcase 1" are not moves
    assert bh.count_moves("The awaited result is unverifiable; see the showcase 12.") == {
        "backtracking": 0, "verification": 0, "decomposition": 0}


def test_case_insensitive_and_versioned() -> None:
    assert bh.count_moves("WAIT. VERIFY.")["backtracking"] == 1
    assert bh.LEXICON_VERSION == "1" and set(bh.MOVES) == {"backtracking", "verification", "decomposition"}


def test_normalisation_and_token_fallback() -> None:
    assert bh.per_thousand(3, 600) == 5.0
    assert math.isnan(bh.per_thousand(3, 0))
    assert bh.reasoning_token_count("a b c", 0) == 3
    assert bh.reasoning_token_count("a b c", 40) == 40
