"""Pages reached from letters and mail: the satisfaction survey (IKM) after a request
completes and the one-time reveal of hosting credentials."""

from __future__ import annotations

from flask import Blueprint

from ..i18n import add_translations
from .questions import EN as QUESTIONS_EN

bp = Blueprint("survey", __name__)

EN: dict[str, str] = {
    "Survei kepuasan masyarakat": "Community satisfaction survey",
    "Isi survei kepuasan": "Fill in the satisfaction survey",
    "Permohonan": "Request",
    (
        "Pilih satu jawaban untuk setiap unsur pelayanan. Jawaban Anda membantu kami "
        "memperbaiki layanan dan tidak memengaruhi permohonan Anda."
    ): (
        "Choose one answer for each element of the service. Your answers help us improve the "
        "service and do not affect your request."
    ),
    "Saran atau masukan (opsional)": "Suggestions or input (optional)",
    "Kirim survei": "Send survey",
    "Pilih salah satu jawaban.": "Choose one of the answers.",
    "Saran terlalu panjang (maksimal %(n)s karakter).": (
        "The suggestion is too long (at most %(n)s characters)."
    ),
    "Terima kasih, survei Anda telah kami terima.": "Thank you, we have received your survey.",
    "Anda sudah mengisi survei untuk permohonan ini. Terima kasih.": (
        "You have already answered the survey for this request. Thank you."
    ),
    "Survei dapat diisi setelah permohonan selesai.": (
        "The survey can be filled in once the request is completed."
    ),
    "Hanya pemohon yang mengajukan permohonan ini yang dapat mengisi survei.": (
        "Only the applicant who filed this request can answer the survey."
    ),
    "Kembali ke permohonan": "Back to the request",
    "Dikirim": "Sent",
    # credentials
    "Akun admin website": "Website administrator account",
    (
        "Halaman ini menampilkan username dan kata sandi administrator website Anda. Kata sandi "
        "hanya dapat ditampilkan SATU KALI: siapkan tempat aman untuk mencatatnya sebelum "
        "menekan tombol."
    ): (
        "This page shows the username and password of your website's administrator account. "
        "The password can be shown only ONCE: have a safe place ready to write it down before "
        "you press the button."
    ),
    "Kata sandi masih tersedia dan belum pernah ditampilkan.": (
        "The password is still available and has not been shown yet."
    ),
    "Berlaku sampai": "Valid until",
    "Tampilkan kata sandi sekarang": "Show the password now",
    "Alamat website": "Website address",
    "Username": "Username",
    "Kata sandi": "Password",
    (
        "Catat kata sandi ini sekarang. Halaman ini tidak dapat dibuka lagi; segera ganti kata "
        "sandi setelah masuk pertama kali."
    ): (
        "Write this password down now. This page cannot be opened again; change the password "
        "after you first log in."
    ),
    "Tautan ini tidak sah.": "This link is not valid.",
    "Kata sandi ini sudah pernah ditampilkan. Minta kata sandi baru kepada petugas.": (
        "This password has already been shown once. Ask the officer for a new one."
    ),
    "Tautan ini sudah kedaluwarsa. Minta kata sandi baru kepada petugas.": (
        "This link has expired. Ask the officer for a new password."
    ),
    "Hanya pemohon yang mengajukan permohonan ini yang dapat melihat kata sandinya.": (
        "Only the applicant who filed this request can see its password."
    ),
}
add_translations(QUESTIONS_EN)
add_translations(EN)

from . import credentials, views  # noqa: E402,F401 - routes register on bp
