"""Consent: the purposes and modes (here, dependency-free) and the ledger (``consent.ledger``)."""

from gateway.consent.purposes import MODES, PURPOSES, ConsentMode, Purpose

__all__ = ["MODES", "PURPOSES", "ConsentMode", "Purpose"]
