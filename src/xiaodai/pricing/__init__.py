"""Pricing core (pure): schedules, fees, annualised rates in three conventions, rate caps, quotes."""
