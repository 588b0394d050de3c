"""Run directories on the Hugging Face Hub: ``push_runs`` uploads them to a dataset repo
(``runs/<run_id>/``) with a generated dataset card, ``pull_runs`` fetches them back.
See docs/hub.md."""
