"""The job queue per topic: what waits, since when the oldest, and when a worker last asked.

An external topic nobody works shows as jobs piling up with an old oldest job and no (or an
old) last fetch; a worker that fetches but fails shows a recent fetch and incidents instead.
Built-in topics are listed too (their jobs are worked in-process), marked as such."""

from __future__ import annotations

from datetime import timedelta

from flask import g, render_template

from engine.topic_queue import topic_queues

from ..i18n import add_translations, gettext
from . import bp
from .common import admin_required, engine

EN = {
    "Antrean per topic": "Queue per topic",
    "Pekerjaan yang menunggu worker, per topic. Topic tanpa handler bawaan dikerjakan oleh "
    "worker eksternal (REST fetchAndLock); bila tidak ada yang mengambil, pekerjaannya "
    "menumpuk di sini.": (
        "Jobs waiting for a worker, per topic. Topics without a built-in handler are worked by "
        "external workers (REST fetchAndLock); when nobody fetches them, their jobs pile up here."
    ),
    "Topic": "Topic",
    "Dikerjakan oleh": "Worked by",
    "handler bawaan": "built-in handler",
    "worker eksternal": "external worker",
    "Menunggu": "Waiting",
    "Sedang dikerjakan": "Locked",
    "Tertua menunggu": "Oldest waiting",
    "Terakhir diambil worker": "Last fetched by a worker",
    "belum pernah": "never",
    "%(age)s lalu": "%(age)s ago",
    "Tidak ada pekerjaan dalam antrean.": "No jobs in the queue.",
    "%(n)s hari": "%(n)s d",
    "%(n)s jam": "%(n)s h",
    "%(n)s menit": "%(n)s min",
    "%(n)s detik": "%(n)s s",
    "Peringatan": "Warnings",
    "antrean": "queue",
    "Topic '%(topic)s': tidak ada handler bawaan: pekerjaan menunggu worker eksternal": (
        "Topic '%(topic)s': no built-in handler: jobs wait for an external worker"
    ),
}
add_translations(EN)


def age(value: timedelta | None) -> str:
    """The two largest units ("2 jam 5 menit"): enough to see that something is stuck."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    parts: list[str] = []
    for size, text in ((86400, "%(n)s hari"), (3600, "%(n)s jam"), (60, "%(n)s menit")):
        if seconds >= size or parts:
            parts.append(gettext(text, n=seconds // size))
            seconds %= size
        if len(parts) == 2:
            break
    if len(parts) < 2 and (not parts or seconds):
        parts.append(gettext("%(n)s detik", n=seconds))
    return " ".join(parts[:2])


@bp.get("/antrean", endpoint="topic_queues")
@admin_required
def topic_queues_view() -> str:
    return render_template("admin/queues.html", queues=topic_queues(engine(), g.actor), age=age)
