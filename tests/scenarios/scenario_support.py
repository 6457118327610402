"""What every SOP's scenarios share, importable by name: the worker's answer for a free name and
the form of the applicant's "choose another name" task, which all five SOPs give the same shape."""

from __future__ import annotations

NAME_OK = {"name_available": True, "name_reason": "", "name_suggestions": ""}

# (field ids in order, read-only ones, required ones) of the "choose another name" task
RENAME_FORM = (
    ["name_reason", "name_suggestions", "subdomain"],
    ["name_reason", "name_suggestions"],
    ["subdomain"],
)
