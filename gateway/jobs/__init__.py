"""A durable job queue on Redis Streams, spread over several hash tags (shards).

``JobQueue`` enqueues (now, or at a due time), ``JobWorker`` runs a handler on each job with the
SMS worker's guarantees: a job stays in its consumer's pending list from XREADGROUP until the
script settling it acknowledges it, so a crash leaves it pending — a restart under the same
name re-reads its own pending jobs at once, another worker takes them over (XAUTOCLAIM) after
``claim_idle``. Delivery is at least once: a handler makes its own effects idempotent (the
rewards fulfilment keeps state on the redemption and resends only with the same key).
"""
