"""The time zones the feed tests draw from: every ASEAN member's, and partners' with DST."""

from __future__ import annotations

#: Every zone of an ASEAN member state, Asia/Yangon (UTC+06:30) and Asia/Dili included.
ASEAN_ZONES = (
    "Asia/Brunei",
    "Asia/Phnom_Penh",
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Asia/Vientiane",
    "Asia/Kuala_Lumpur",
    "Asia/Yangon",
    "Asia/Manila",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Dili",
)
#: Where ASEAN meets its partners: zones with daylight saving time.
PARTNER_ZONES = ("Europe/Brussels", "Australia/Sydney", "America/New_York")
