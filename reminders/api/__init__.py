"""The JSON API (/api/...): one router per resource; bearer tokens for scripts."""
