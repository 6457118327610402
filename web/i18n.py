"""Indonesian is the source language, English is a catalogue away, served by Flask-Babel.

Templates call ``_("Teks Indonesia")``; with English selected the catalogue's translation is
shown (the Indonesian text when none exists). The choice lives in the session (``lang``);
without one, Indonesian. Flask-Babel selects the locale and gives dates and numbers their
local form; the English catalogue itself is a Python dict each feature extends next to its own
code (:func:`add_translations`) rather than a compiled ``.mo`` file, so a checkout runs without
a message-compilation step and a feature cannot ship a page whose English is missing from the
build. Engine errors carry both languages and are shown with :func:`error_text`.
"""

from __future__ import annotations

from typing import Any

from babel import support
from flask import Flask, session
from flask_babel import Babel, Domain, get_locale
from flask_babel import gettext as babel_gettext

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT = "id"

EN: dict[str, str] = {
    "Masuk": "Log in",
    "Keluar": "Log out",
    "Nama pengguna": "Username",
    "Kata sandi": "Password",
    "Nama pengguna atau kata sandi salah.": "Wrong username or password.",
    "Terlalu banyak percobaan gagal. Coba lagi dalam %(minutes)s menit.": (
        "Too many failed attempts. Try again in %(minutes)s minutes."
    ),
    "Sesi Anda telah berakhir. Silakan masuk kembali.": (
        "Your session has expired. Please log in again."
    ),
    "Silakan masuk untuk melanjutkan.": "Please log in to continue.",
    "Anda telah keluar.": "You have logged out.",
    "Bahasa": "Language",
    "Ganti": "Change",
    "Layanan": "Services",
    "Katalog layanan": "Service catalogue",
    "Permohonan saya": "My requests",
    "Kotak tugas": "Inbox",
    "Ajukan permohonan": "File a request",
    "Ajukan": "Submit",
    "Versi": "Version",
    "Belum ada layanan yang tersedia.": "No services are available yet.",
    "Belum ada permohonan.": "No requests yet.",
    "Nomor permohonan": "Request number",
    "Layanan / SOP": "Service / SOP",
    "Status": "Status",
    "Langkah saat ini": "Current step",
    "Batas waktu": "Deadline",
    "Diajukan": "Filed",
    "Terlambat": "Overdue",
    "Tepat waktu": "On time",
    "Jatuh tempo": "Due",
    "berjalan": "running",
    "selesai": "completed",
    "dibatalkan": "cancelled",
    "Riwayat": "Timeline",
    "Data permohonan": "Request data",
    "Lampiran": "Attachments",
    "Unduh": "Download",
    "Tidak ada tugas.": "No tasks.",
    "Hanya yang terlambat": "Overdue only",
    "Semua": "All",
    "Tugas": "Task",
    "Ambil": "Claim",
    "Lepas": "Release",
    "Dipegang oleh": "Claimed by",
    "Belum diambil": "Unclaimed",
    "Selesaikan tugas": "Complete task",
    "Data yang diajukan pemohon": "What the applicant submitted",
    "Periksa kembali isian yang ditandai.": "Please check the marked fields.",
    "Tugas diselesaikan.": "Task completed.",
    "Tugas diambil.": "Task claimed.",
    "Tugas dilepas.": "Task released.",
    "Permohonan %(key)s telah diajukan.": "Request %(key)s has been filed.",
    "Ya": "Yes",
    "Tidak": "No",
    "Pilih...": "Choose...",
    "wajib": "required",
    "Berkas terlalu besar (maksimal %(size)s).": "The file is too large (at most %(size)s).",
    "Jenis berkas tidak diizinkan (%(found)s); yang diterima: %(accept)s.": (
        "File type not allowed (%(found)s); accepted: %(accept)s."
    ),
    "Halaman tidak ditemukan": "Page not found",
    "Halaman atau data yang Anda cari tidak ada.": (
        "The page or record you asked for does not exist."
    ),
    "Akses ditolak": "Access denied",
    "Anda tidak berhak melakukan tindakan ini.": "You are not allowed to do this.",
    "Permintaan tidak sah": "Bad request",
    "Permintaan tidak dapat diproses. Muat ulang halaman lalu coba lagi.": (
        "The request could not be processed. Reload the page and try again."
    ),
    "Berkas terlalu besar": "File too large",
    "Kiriman melebihi batas ukuran. Perkecil berkas lalu coba lagi.": (
        "The upload exceeds the size limit. Make the file smaller and try again."
    ),
    "Kembali ke beranda": "Back to the home page",
    "Beranda": "Home",
    "Selamat datang, %(name)s": "Welcome, %(name)s",
    "Instansi": "Agency",
    "Grup": "Groups",
    "Waktu": "Time",
    "Kejadian": "Event",
    "Oleh": "By",
    "Langkah": "Step",
    "Permohonan diajukan": "Request filed",
    "Tugas dibuat": "Task created",
    "Tugas diselesaikan": "Task completed",
    "Tugas diambil": "Task claimed",
    "Tugas dilepas": "Task released",
    "Langkah otomatis dimulai": "Automatic step started",
    "Langkah otomatis selesai": "Automatic step finished",
    "Langkah otomatis gagal": "Automatic step failed",
    "Permohonan selesai": "Request completed",
    "Permohonan dibatalkan": "Request cancelled",
    "Batas waktu terlewati": "Deadline missed",
    "Pengingat waktu": "Timer fired",
    "Konflik": "Conflict",
    "Konten utama": "Main content",
    "Lihat permohonan": "View request",
    "Ukuran": "Size",
    "Nama berkas": "File name",
    "Variabel proses": "Process variables",
    "Tugas terbuka": "Open tasks",
    "Sisa %(n)s hari kerja": "%(n)s working days left",
    "Laporan": "Reports",
    "Dipegang": "Claimed",
    "Diambil oleh saya": "Claimed by me",
    "Saring": "Filter",
    "Desain": "Design",
    "Admin": "Admin",
}


def add_translations(entries: dict[str, str]) -> None:
    """Each feature keeps its own English next to its code and adds it at import time, so
    features can grow without editing one shared dictionary."""
    EN.update(entries)


def current_language() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


class _Catalogue(support.Translations):
    """A gettext catalogue over a live dict: later :func:`add_translations` calls show up."""

    def __init__(self, catalog: dict[str, str]) -> None:
        super().__init__()
        self._catalog = catalog  # type: ignore[assignment]
        self.plural = lambda n: int(n != 1)


class CatalogueDomain(Domain):
    _english = _Catalogue(EN)
    _source = support.NullTranslations()

    def get_translations(self) -> support.NullTranslations:
        locale = get_locale()
        return self._english if locale is not None and locale.language == "en" else self._source


class SopflowBabel(Babel):
    _domain = CatalogueDomain()

    @property
    def domain_instance(self) -> Domain:
        return self._domain


def init_app(app: Flask) -> None:
    SopflowBabel(
        app,
        default_locale=DEFAULT,
        default_timezone="Asia/Jakarta",
        locale_selector=current_language,
    )


def gettext(text: str, **params: Any) -> str:
    return str(babel_gettext(text, **params))


def error_text(err: Any) -> str:
    """One language of an engine error (``SopflowError``) or ``FieldError``."""
    if current_language() == "en":
        return str(getattr(err, "message_en", err))
    return str(getattr(err, "message_id", err))
