"""civicbot: answers residents' questions about Baltimore's immigration order from cited sources."""

__version__ = "0.1.0"
