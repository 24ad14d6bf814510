"""notifications: turns dossier events into alerts, apology drafts and deliveries."""
