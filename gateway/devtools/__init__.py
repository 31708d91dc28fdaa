"""Development tools: a local fake Africa's Talking for tests and demos."""
