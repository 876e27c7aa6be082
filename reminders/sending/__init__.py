"""Sending: the dispatcher's claim, one delivery, the state moves, the claim on a send, the send rate, and what providers report after."""
