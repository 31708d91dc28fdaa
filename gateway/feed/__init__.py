"""The event feed for brand CRMs: opt-outs, survey completions, redemption outcomes and ad
conversions POSTed as signed JSON to ``JUMBE_EVENT_FEED_URL`` (DESIGN §4).

- ``EventFeed.publish`` (any engine): keeps the event in the subscriber's pending list and puts
  a delivery job on the durable job queue (``gateway.jobs``, queue ``feed``).
- ``deliver`` (the job's handler): POSTs the subscriber's pending events oldest first, each
  removed only after a 2xx, so events reach the CRM in order per subscriber and at least once
  (the same ``id`` on every try), across restarts; a failing endpoint is retried with backoff
  and holds back only that subscriber's later events.
"""
