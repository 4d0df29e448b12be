"""civicbot: answers residents' questions about civic documents from cited sources, offline."""

__version__ = "0.1.0"
