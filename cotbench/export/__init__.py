"""Run directories in the formats other tools read: lm-eval's ``results_*.json`` /
``samples_*.jsonl`` (:mod:`.lm_eval_results`) and a model card's ``model-index`` block plus the
Hub's ``.eval_results/*.yaml`` files (:mod:`.model_index`)."""
