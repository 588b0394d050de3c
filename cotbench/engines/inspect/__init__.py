"""The Inspect harness: cotbench tasks as Inspect tasks, model calls through cotbench."""
