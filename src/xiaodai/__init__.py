"""xiaodai (小贷): an open-source consumer-credit platform."""

__version__ = "0.1.0"
