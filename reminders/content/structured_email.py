"""An email written once, as structured text, and the two parts made from it.

Admins write the email like a note: paragraphs, "- " lists, "1. " lists, [words](link),
**bold** and *italics* (a small Markdown subset, read by markdown-it-py with raw HTML off, so
what they type is always shown as text). From that one text the app makes the email's HTML
part, in the clinic's email layout with the styles email programs need inline, and its plain
text part; both are saved with the version, so a published email never changes afterwards.

Placeholders ({{ first_name }}) and tags ({% if clinic_closed %}) pass through untouched: they
are swapped for plain letters before Markdown reads the text and put back after, so
[the check-in page]({{ checkin_url }}) is a link, and a link variable standing alone
({{ unsubscribe_url }}) becomes a link to itself in the HTML part.
"""

from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token

JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
LINK_VARIABLE = re.compile(r"\{\{\s*\w+_url\s*\}\}")  # a variable that holds an address

# Styles inline: many email programs drop <style> blocks. The same look as the default emails.
LINK_STYLE = "color:#0b5cad;text-decoration:underline;"
STYLES = {
    "p": "margin:0 0 12px 0;",
    "ul": "margin:0 0 12px 0;padding-left:24px;",
    "ol": "margin:0 0 12px 0;padding-left:24px;",
    "li": "margin:0 0 4px 0;",
    "a": LINK_STYLE,
}

LAYOUT = """<!DOCTYPE html>
<html lang="@LANG@">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>@TITLE@</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border-radius:6px;">
<tr><td style="padding:28px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2937;">
<p style="margin:0 0 16px 0;font-size:15px;font-weight:bold;color:#4b5563;">{{ clinic_name }}</p>
@BODY@
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>"""

_markdown = MarkdownIt("zero", {"breaks": True, "html": False}).enable(
    ["list", "link", "emphasis", "newline", "escape", "autolink"]
)


def email_parts(body: str, *, subject: str, locale: str) -> tuple[str, str]:
    """The plain text part and the HTML part (both template sources) made from `body`."""
    protected, tags = _protect(body)
    tokens = _markdown.parse(protected)
    text = _restore(_plain_text(tokens, tags), tags)
    for token in [*tokens, *(child for t in tokens for child in t.children or [])]:
        if token.nesting == 1 and token.tag in STYLES:
            token.attrSet("style", STYLES[token.tag])
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    html = _restore(_unwrap_statements(html.strip(), tags), tags)
    # The subject's words, without its placeholders: a problem in the subject is said once,
    # of the subject, not again of the HTML part (few email programs show the title anyway)
    title = " ".join(JINJA_TAG.sub(" ", subject).split())
    page = (
        LAYOUT.replace("@LANG@", escape(locale))
        .replace("@TITLE@", escape(title))
        .replace("@BODY@", html)
    )
    return text, page


# --- placeholders and tags ------------------------------------------------------------------


def _protect(source: str) -> tuple[str, dict[str, str]]:
    """`source` with each template tag replaced by letters and digits that Markdown leaves
    alone, and what each stands for. A link variable standing alone becomes a link."""
    marker = "zjz"
    while marker in source:
        marker += "j"
    tags: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        token = f"{marker}{len(tags)}{marker}"
        tags[token] = match.group(0)
        return token

    swapped = JINJA_TAG.sub(swap, source)
    for token, tag in tags.items():
        if LINK_VARIABLE.fullmatch(tag):
            # Not when it already is a link's address or words: ](x) or [x]
            swapped = re.sub(rf"(?<![(\[]){token}(?![\])])", f"[{token}]({token})", swapped)
    return swapped, tags


def _restore(text: str, tags: dict[str, str]) -> str:
    for token in sorted(tags, key=len, reverse=True):
        text = text.replace(token, tags[token])
    return text


def _statements(tags: dict[str, str]) -> str:
    """A pattern for one or more {% %} or {# #} tags in a row (they print nothing)."""
    found = [re.escape(t) for t, tag in tags.items() if not tag.startswith("{{")]
    return f"(?:{'|'.join(found)})+" if found else r"(?!x)x"


def _unwrap_statements(html: str, tags: dict[str, str]) -> str:
    """A {% if %} on a line or paragraph of its own adds no empty paragraph or line break."""
    statements = _statements(tags)
    html = re.sub(rf"<p[^>]*>({statements})</p>", r"\1", html)
    html = re.sub(rf"<br>\n({statements})(?=</p>|</li>|<br>)", r"\1", html)
    return re.sub(rf"(^|>|\n)({statements})<br>\n", r"\1\2", html)


# --- the plain text part --------------------------------------------------------------------


def _plain_text(tokens: list[Token], tags: dict[str, str]) -> str:
    """Paragraphs apart by a blank line, lists as "- " or "1. ", links as words (address)."""
    statement = re.compile(_statements(tags))
    blocks: list[str] = []
    items: list[str] = []  # lines of the list being written
    numbers: list[int | None] = []  # per open list: the next number, None for bullets
    prefix = ""
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start") if token.type == "ordered_list_open" else None
            numbers.append(None if token.type == "bullet_list_open" else int(start or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
            if not numbers:
                blocks.append("\n".join(items))
                items = []
        elif token.type == "list_item_open":
            number = numbers[-1]
            prefix = "  " * (len(numbers) - 1) + ("- " if number is None else f"{number}. ")
            if number is not None:
                numbers[-1] = number + 1
        elif token.type == "inline":
            text = _inline_text(token.children or [], statement)
            if numbers:
                items.append(prefix + text.replace("\n", "\n" + " " * len(prefix)))
                prefix = " " * len(prefix)  # a second paragraph of the same item
            else:
                blocks.append(text)
    joined = ""
    for i, block in enumerate(blocks):
        # A paragraph that is only {% ... %} prints nothing: no blank lines of its own
        between = "" if i == 0 or statement.fullmatch(blocks[i - 1]) else "\n\n"
        joined += between + block
    return joined


def _inline_text(children: list[Token], statement: re.Pattern[str]) -> str:
    out: list[str] = []
    href, start = "", 0
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "link_open":
            href, start = str(child.attrGet("href") or ""), len(out)
        elif child.type == "link_close" and href and "".join(out[start:]).strip() != href:
            out.append(f" ({href})")
    lines = "".join(out).split("\n")
    # A line that is only {% ... %} takes no line of its own
    text = ""
    for i, line in enumerate(lines):
        text += line if i == 0 or statement.fullmatch(lines[i - 1]) else "\n" + line
    return text
