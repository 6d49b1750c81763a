"""Scheduled jobs on our own tables: definitions as data, one claim per job and business date, every run
recorded (``schedule`` pure, ``runner`` and ``handlers`` the shell)."""
