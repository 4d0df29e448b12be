"""The exception hierarchy; each error names the stage that failed."""


class CivicbotError(Exception):
    """Base class for every error civicbot raises on purpose."""


class CorpusError(CivicbotError):
    """A corpus document is missing, unreadable or has an invalid header."""


class IndexUnavailable(CivicbotError):
    """The passage index cannot be opened, read or written."""


class BadQuestion(CivicbotError):
    """A question that cannot be answered as given (empty, too long, not text)."""
