"""For local use and demos: "sending" prints the message, and appends it to a file if set."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from reminders.transports.base import GoAhead, Outgoing

_lock = threading.Lock()


class ConsoleTransport:
    can_look_up = False  # a print cannot be asked about; a second one harms nobody

    def __init__(self, channel: str, outbox: Path | None = None) -> None:
        self.name = f"console-{channel}"
        self.outbox = outbox
        self.console = Console(stderr=False, highlight=False)

    def send(self, outgoing: Outgoing, *, go_ahead: GoAhead | None = None) -> str:
        if go_ahead is not None:
            go_ahead()
        provider_id = f"console-{outgoing.channel}-{outgoing.message_id}"
        title = f"{outgoing.channel.upper()} #{outgoing.message_id}"
        if outgoing.subject:
            title += f": {outgoing.subject}"
        with _lock:
            self.console.print(Panel(outgoing.text, title=title, expand=False))
            if self.outbox is not None:
                with self.outbox.open("a", encoding="utf-8") as out:
                    out.write(f"--- {title}\n{outgoing.text}\n")
        return provider_id

    def find_sent(self, outgoing: Outgoing, since: datetime) -> str | None:
        return None
