"""Planning: when each message of a plan goes (time zones, quiet hours, caps), the plans themselves and the clinic's opening hours."""
