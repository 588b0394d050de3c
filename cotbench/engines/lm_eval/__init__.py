"""The lm-eval harness: cotbench tasks as lm-eval tasks, model calls through cotbench."""
