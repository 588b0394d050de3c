"""Bridge for lm-eval's ``!function cotbench_hooks.<name>`` tags: the code lives in the
installed cotbench package, so task YAMLs stay declarative."""

from cotbench.engines.lm_eval.hooks import load_dataset, process_results, scored_mean

__all__ = ["load_dataset", "process_results", "scored_mean"]
