"""Consent ledger: who agreed to what marketing, from where, and the full history."""

from gateway.consent.ledger import PURPOSES, ConsentLedger, ConsentState, Purpose

__all__ = ["PURPOSES", "ConsentLedger", "ConsentState", "Purpose"]
