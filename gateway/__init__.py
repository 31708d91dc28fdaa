"""Jumbe: a USSD/SMS session gateway for feature phones."""

__version__ = "0.1.0"
