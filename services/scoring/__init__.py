"""The scoring service: folds dossier events into indicator counters, scores and ranks units."""
