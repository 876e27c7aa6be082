"""The one page layout the public pages share (unsubscribe, check-in answers)."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ccc;text-align:left}}
button{{font-size:1rem;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status_code=status)
