"""Aggregator adapters: one package per aggregator; nothing outside knows their field names."""
