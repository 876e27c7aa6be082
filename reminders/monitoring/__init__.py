"""What an operator watches: the scheduler's heartbeat, the backlog, `/metrics` and `/healthz`.

Everything is read from the database and Redis when asked, so any number of web, worker and
scheduler processes give one answer, with no per-process state to gather.
"""
