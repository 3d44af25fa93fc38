"""System check: warn administrators when the working-day calendar does not cover a year."""
