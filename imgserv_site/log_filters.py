"""Logging filters named in settings.LOGGING. Kept apart from the rest of the site so that
configuring logging, which happens before the apps load, imports nothing else."""

from __future__ import annotations

import logging

# Django logs each request it refuses for the client's fault (a Host not in ALLOWED_HOSTS,
# too many fields, a tampered session, a bad redirect) at `django.security.<exception>`, as
# an error with the exception's traceback. That traceback runs through Django's own code only
# and says nothing the one line does not, while anyone can trigger it with one request.
CLIENT_FAULTS = (
    "DisallowedHost",
    "DisallowedRedirect",
    "InvalidSessionKey",
    "RequestDataTooBig",
    "SuspiciousFileOperation",
    "SuspiciousMultipartForm",
    "SuspiciousOperation",
    "SuspiciousSession",
    "TooManyFieldsSent",
    "TooManyFilesSent",
)
CLIENT_FAULT_LOGGERS = tuple(f"django.security.{name}" for name in CLIENT_FAULTS)


class WithoutTraceback(logging.Filter):
    """Logs the record's message alone: one line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
