"""Reports: what staff read back: a patient's timeline, the outcomes, and the daily digest."""
