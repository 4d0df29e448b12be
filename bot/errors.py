"""The exception hierarchy; each error names the stage that failed."""


class CivicbotError(Exception):
    """Base class for every error civicbot raises on purpose."""


class CorpusError(CivicbotError):
    """A corpus document is missing, unreadable or has an invalid header."""


class IndexUnavailable(CivicbotError):
    """The passage index cannot be opened, read or written."""


class BadQuestion(CivicbotError):
    """A question that cannot be answered as given (empty, too long, not text)."""

    def __init__(self, text: str, key: str = "") -> None:
        super().__init__(text)
        self.key = key  # which of civicbot's messages this is ("empty", "not_text"), so a UI can say it in its language
