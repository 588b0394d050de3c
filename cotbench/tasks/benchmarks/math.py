"""Math benchmark helpers. MATH-500, GSM8K and AIME are read by the generic ``fields`` loader
(their task YAMLs hold the field mapping); what stays here is GSM8K's answer rule for scripts
that read the upstream file directly."""

from __future__ import annotations

from cotbench.errors import DataError
from cotbench.tasks.benchmarks.fields import answer_value


def gsm8k_answer(solution: str) -> str:
    """The number after GSM8K's ``####`` marker, without thousands separators (the rule the
    gsm8k task's ``source.fields`` applies: ``answer_after: '####'``, ``answer_format: number``)."""
    try:
        return answer_value(solution, after="####", number=True)
    except ValueError:
        raise DataError("gsm8k: an answer lacks the '####' final-answer marker") from None
