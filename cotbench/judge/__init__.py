"""Judge-model grading: rubric prompts and grade parsers (the scorers live in cotbench.scoring.judge)."""
