"""Maker-checker: sensitive operations wait for a second, authorised person."""
