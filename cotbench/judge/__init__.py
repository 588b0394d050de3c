"""Safety judges: prompt formats and strict parsers (``rubrics``, ``classifiers``), asking a judge
with retries (``grading``), the named judges and which task each grades (``judges``), and the
run-level wiring that opens a judge and binds it as the grader role (``session``). The judge
scorers themselves live in ``cotbench.scoring.judge``."""
