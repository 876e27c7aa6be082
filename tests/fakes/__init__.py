"""Fake providers for tests: real servers on 127.0.0.1 that record what they receive."""

from .smtp_server import FakeSmtp, ReceivedEmail
from .twilio_api import FakeTwilio, RecordedMessage, RecordedRequest

__all__ = ["FakeSmtp", "FakeTwilio", "ReceivedEmail", "RecordedMessage", "RecordedRequest"]
