"""Text sizing for USSD screens and SMS.

- `gsm`: GSM 03.38 vs UCS-2 detection, lengths in septets / UTF-16 units,
  and SMS segment counts (`sms_info`).
- `budget`: `Budget`, the per-screen limit picked by encoding.
- `paging`: `paginate`, splitting a menu screen into More/Back pages that
  each fit the budget; `ItemTooLong` when an option can fit nowhere.
"""

from gateway.text.budget import Budget
from gateway.text.gsm import (
    Encoding,
    SmsInfo,
    encoding_of,
    is_gsm7,
    length,
    non_gsm_characters,
    sms_info,
    units,
)
from gateway.text.paging import ItemTooLong, paginate

__all__ = [
    "Budget",
    "Encoding",
    "ItemTooLong",
    "SmsInfo",
    "encoding_of",
    "is_gsm7",
    "length",
    "non_gsm_characters",
    "paginate",
    "sms_info",
    "units",
]
