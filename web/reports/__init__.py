"""Reports per agency and SOP: requests by state, on-time rate against the SLA, median lead
time and the IKM index, as charts, tables and CSV."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/laporan")
