"""Pure scoring rules: schemes, per-dossier contributions, counters, formulas, rankings.

Stdlib only; time is passed in. See docs/scoring.md for the counting rules.
"""
