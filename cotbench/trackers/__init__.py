"""Experiment trackers: a finished run's metrics, domain means, samples and provenance logged to
Weights & Biases (``--wandb PROJECT``) or MLflow (``--mlflow URI``).

``record`` builds what is logged from a run directory, the same for every tracker; one module
per tracker sends it; ``dispatch`` checks the optional packages before a run starts and logs
each finished run, turning a tracker's failure into a warning (the results are on disk already).
"""
