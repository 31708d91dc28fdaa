"""Lifecycle stages (loyal, active, idle, lapsing, inactive, new) from activity the gateway
already sees: ``stages`` computes (pure), ``recorder.ActivityRecorder`` records and counts."""
