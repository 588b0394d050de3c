"""One ``Estimate``: a value with its uncertainty, alone or against a reference.

The leaderboard's per-run rates and the profile's paired comparisons are both Estimates:

- a run's own value: ``model`` with its ``stderr`` and 95% interval ``low`` .. ``high``;
- a comparison over paired items: also ``reference`` and ``delta = model - reference`` with the
  delta's 95% interval ``ci_low`` .. ``ci_high``, its test (``p_value``, ``p_holm``) and MDE.

``None`` means not defined (nothing scored, nothing shared), never 0.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field


class Estimate(BaseModel):
    """A value over ``n`` items; against a reference, the paired change too. ``None`` = not defined."""

    model: float | None = Field(description="the run's value (the model's, in a comparison)")
    reference: float | None = None
    delta: float | None = None
    ci_low: float | None = Field(None, description="95% interval of delta (comparisons)")
    ci_high: float | None = None
    p_value: float | None = Field(None, description="two-sided test of delta = 0")
    p_holm: float | None = Field(None, description="p_value Holm-adjusted over its family (see Profile.correction)")
    mde: float | None = Field(None, description="minimum detectable |delta| (alpha 0.05, power 0.8)")
    n: int = Field(0, description="items (paired items in a comparison)")
    method: str = ""
    stderr: float | None = Field(None, description="standard error of model (a run's own value)")
    low: float | None = Field(None, description="95% interval of model (a run's own value)")
    high: float | None = None

    @property
    def ok(self) -> bool:
        """The value is defined (something was scored)."""
        return self.model is not None and math.isfinite(self.model)

    def is_significant(self, alpha: float = 0.05) -> bool:
        """Significant after the family-wise correction where one applies, else unadjusted."""
        p = self.p_holm if self.p_holm is not None else self.p_value
        return p is not None and p < alpha

    @property
    def significant(self) -> bool:
        return self.is_significant()
