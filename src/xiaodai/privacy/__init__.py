"""Personal data: consent, purpose limits, sharing with agencies (PIPL)."""
