"""Key families of ``gateway.store.keys`` that hold nothing about one subscriber, and why."""

from __future__ import annotations

NOT_PERSONAL: dict[str, str] = {
    "session": "a live USSD session, keyed by the aggregator's session id; gone 3 minutes after "
    "its last hop (JUMBE_SESSION_TTL)",
    "meta": "this Redis's data epoch and key check value",
    "meta_log": "acknowledged data losses (operators' audit)",
    "sms_due": "message ids by due time (the records hold the subscriber)",
    "sms_queue": "message ids ready to send",
    "sms_dead": "dead-lettered message ids and reasons",
    "sms_dlr_stash": "an early delivery report: the aggregator's message id and status",
    "sms_rate": "a per-sender counter",
    "sms_stats": "counts per hour",
    "sms_inbound_seen": "an inbound message id already handled",
    "funnel_hops": "counts per menu screen",
    "funnel_drops": "counts per menu screen",
    "jobs_queue": "job ids (and a pseudonym) of work in flight; the work's record is the data",
    "jobs_due": "job ids (and a pseudonym) of work waiting for its time",
    "jobs_dead": "job ids (and a pseudonym) of work given up on, with the reason",
    "rewards_budget": "the global daily airtime budget spent",
    "rewards_breaker": "why the daily budget breaker tripped",
    "rewards_vouchers": "voucher codes of an item given out, by redemption id",
    "rewards_voucher_of": "the voucher code of a redemption id",
    "ad_campaign": "a campaign's served count, spend and pacing",
    "ad_stats": "a campaign's report counts per day and network",
    "ad_reach": "a HyperLogLog sketch of a campaign's reach: no subscriber can be read back",
    "ad_days": "the days and networks a campaign has counts for",
    "ad_conversion": "a conversion id already counted (the brand's id)",
    "ads_served": "campaign ids that ever served",
    "survey_reply_lease": "a random token held for a few seconds while one SMS survey reply is "
    "applied",
    "audit": "the audit trail of data-subject requests (pseudonyms only, kept on purpose)",
}
