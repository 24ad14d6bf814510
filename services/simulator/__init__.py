"""Traffic simulator: realistic dossier lifecycles for a province, streamed to the broker."""
