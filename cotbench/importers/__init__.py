"""Import peers' runs: lm-eval output directories and Inspect logs become cotbench run directories.

``lm_eval_dir`` and ``inspect_log`` read the harnesses' files, ``common`` holds what both share
(re-scoring with cotbench's scorers, records that keep a harness's score), ``write`` writes the
run directories and ``paths`` finds the files and ties it together (``cotbench import``).
"""
