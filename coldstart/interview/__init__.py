"""Fitting the onboarding interview: which movies to ask a new person about, and how far
their answers move the demographic ranking (served by answers.Interview through
scoring.InterviewScorer). One module per concern: the factor model (factors), the held-out
NDCG that every tuning measures (measure), the question list (questions), the two blends
(blends), the prefix regressions (prefix), the volunteered regression (volunteered), and
``fit_interview``, which runs them in order (fit), all of them unless ``Parts`` (parts)
switches one off.
"""

from coldstart.interview.fit import fit_interview
from coldstart.interview.parts import ALL_PARTS, Parts

__all__ = ["ALL_PARTS", "Parts", "fit_interview"]
