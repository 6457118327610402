"""Reports per agency and SOP: requests by state, on-time rate against the SLA, median lead
time and the IKM index, as charts, tables and CSV."""

from __future__ import annotations

from flask import Blueprint

from ..i18n import add_translations

bp = Blueprint("reports", __name__, url_prefix="/laporan")

EN: dict[str, str] = {
    "Laporan layanan": "Service report",
    "Periode": "Period",
    "Dari": "From",
    "Sampai": "To",
    "Tampilkan": "Show",
    "Tanggal tidak sah: %(value)s": "Invalid date: %(value)s",
    "Tanggal awal harus sebelum tanggal akhir.": "The start date must come before the end date.",
    "Permohonan menurut status": "Requests by state",
    "NRR per unsur": "NRR per element",
    "Indeks Kepuasan Masyarakat": "Community Satisfaction Index",
    "Jumlah permohonan": "Requests",
    "Ketepatan waktu": "On-time rate",
    "Median waktu penyelesaian": "Median lead time",
    "hari": "days",
    "hari kerja": "working days",
    "Responden": "Respondents",
    "Mutu pelayanan": "Service quality",
    "Per SOP": "Per SOP",
    "Total": "Total",
    "Tepat": "On time",
    "Terlambat (SLA)": "Late (SLA)",
    "IKM": "IKM",
    "Unsur": "Element",
    "Kode": "Code",
    "NRR tertimbang": "Weighted NRR",
    "Semua SOP": "All SOPs",
    "Unduh CSV": "Download CSV",
    "Ringkasan": "Summary",
    "IKM per unsur": "IKM per element",
    "Daftar permohonan": "List of requests",
    "Sangat Baik": "Very good",
    "Kurang Baik": "Poor",
    "Tidak Baik": "Bad",
    "Catatan perhitungan": "How the numbers are computed",
    (
        "Tepat waktu: pekerjaan ber-SLA berhenti tanpa melewati batas waktu. Terlambat: batas "
        "waktu terlewati, selesai atau belum. Permohonan tanpa batas waktu, yang masih berjalan "
        "dalam batas waktu, atau dibatalkan sebelum terlambat tidak dihitung."
    ): (
        "On time: the SLA-governed work stopped without missing the deadline. Late: the "
        "deadline was missed, finished or not. Requests without a deadline, still running "
        "within it, or cancelled before being late are not counted."
    ),
    (
        "Waktu penyelesaian: dari pengajuan sampai selesai, permohonan selesai saja. Periode "
        "memilih permohonan menurut tanggal pengajuan dan survei menurut tanggal pengisian."
    ): (
        "Lead time: from filing to completion, completed requests only. The period selects "
        "requests by filing date and survey answers by the date they were given."
    ),
    (
        "IKM (Permenpan RB No. 14/2017): NRR unsur = rata-rata jawaban (1-4); NRR tertimbang = "
        "NRR x 1/9; IKM = jumlah NRR tertimbang x 25. Mutu: A 88,31-100; B 76,61-88,30; "
        "C 65,00-76,60; D 25,00-64,99."
    ): (
        "IKM (Permenpan RB No. 14/2017): element NRR = mean answer (1-4); weighted NRR = "
        "NRR x 1/9; IKM = sum of weighted NRRs x 25. Grades: A 88.31-100; B 76.61-88.30; "
        "C 65.00-76.60; D 25.00-64.99."
    ),
    "Belum ada data pada periode ini.": "No data in this period.",
}
add_translations(EN)

from . import views  # noqa: E402,F401 - routes register on bp
