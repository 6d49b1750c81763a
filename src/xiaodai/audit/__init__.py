"""Tamper-evident audit trail: a pure hash chain (``chain.py``) beside the shell that writes and checks it
(``trail.py``)."""
