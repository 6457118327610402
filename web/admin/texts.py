"""The admin pages' English, and the words for what a version diff can say changed."""

from __future__ import annotations

# engine.versions attribute -> the Indonesian label shown (translated through EN)
ATTRIBUTE_LABELS = {
    "name": "Nama",
    "type": "Jenis",
    "candidateGroups": "Grup kandidat",
    "candidateUsers": "Pengguna kandidat",
    "assignee": "Penerima tugas",
    "topic": "Topik",
    "implementation": "Implementasi",
    "attachedToRef": "Menempel pada",
    "cancelActivity": "Membatalkan aktivitas",
    "default": "Nilai bawaan",
    "calledElement": "Proses yang dipanggil",
    "sourceRef": "Dari",
    "targetRef": "Ke",
    "condition": "Kondisi",
    "incoming": "Alur masuk",
    "outgoing": "Alur keluar",
    "timer": "Timer",
    "event": "Jenis kejadian",
    "script": "Skrip",
    "label": "Label",
    "required": "Wajib",
    "validation": "Validasi",
    "options": "Pilihan",
    "properties": "Properti",
}

EN = {
    # overview and navigation
    "Administrasi": "Administration",
    "Versi proses": "Process versions",
    "Versi setiap proses, perbedaannya, dan versi yang aktif.": (
        "Every process's versions, what changed between them, and which one is active."
    ),
    "permohonan berjalan": "running requests",
    "Insiden": "Incidents",
    "Langkah otomatis yang gagal dan menunggu tindakan.": (
        "Automatic steps that failed and wait for action."
    ),
    "insiden terbuka": "open incidents",
    "Pengguna dan grup": "Users and groups",
    "Akun instansi, grupnya, dan status aktif.": (
        "The agency's accounts, their groups and whether they are active."
    ),
    "Hari libur": "Holidays",
    "Hari kerja dan hari libur khusus instansi untuk perhitungan batas waktu.": (
        "The agency's own working days and days off that deadlines are counted on."
    ),
    "Rekaman DNS": "DNS records",
    "Rekaman DNS yang dikelola sopflow dan riwayat perubahannya.": (
        "The DNS records sopflow manages and their history."
    ),
    # versions
    "Kunci": "Key",
    "Nama": "Name",
    "Jumlah versi": "Versions",
    "Versi aktif": "Active version",
    "Berjalan": "Running",
    "ditangguhkan": "suspended",
    "aktif": "active",
    "nonaktif": "inactive",
    "Belum ada proses yang di-deploy.": "No process has been deployed yet.",
    "Versi proses %(key)s": "Versions of process %(key)s",
    "Permohonan baru memakai versi aktif. Permohonan yang sedang berjalan tetap pada versi "
    "tempat ia dimulai.": (
        "New requests start on the active version. Running requests stay on the version "
        "they started on."
    ),
    "Deploy": "Deployed",
    "Catatan deployment": "Deployment note",
    "Perubahan dari versi sebelumnya": "Changes from the previous version",
    "Aktifkan versi %(n)s": "Activate version %(n)s",
    "Bandingkan dua versi": "Compare two versions",
    "Dari versi": "From version",
    "Ke versi": "To version",
    "Bandingkan": "Compare",
    "Versi %(version)s dari %(key)s sekarang aktif: permohonan baru memakai versi ini, "
    "permohonan yang sedang berjalan tetap pada versinya.": (
        "Version %(version)s of %(key)s is now active: new requests start on it, running "
        "requests keep their version."
    ),
    "Permohonan pada %(key)s versi %(n)s": "Requests on %(key)s version %(n)s",
    "Semua versi %(key)s": "All versions of %(key)s",
    "%(n)s berjalan": "%(n)s running",
    "Belum ada permohonan pada versi ini.": "No request has started on this version.",
    # version diff
    "Perbandingan versi": "Version comparison",
    "Perbandingan versi %(key)s": "Comparing versions of %(key)s",
    "Versi %(n)s adalah versi pertama; tidak ada versi sebelumnya untuk dibandingkan.": (
        "Version %(n)s is the first version; there is no earlier one to compare with."
    ),
    "Versi %(a)s → versi %(b)s": "Version %(a)s → version %(b)s",
    "Tidak ada perbedaan elemen BPMN maupun isian formulir.": (
        "No difference in BPMN elements or form fields."
    ),
    "Elemen BPMN": "BPMN elements",
    "Isian formulir": "Form fields",
    "Ditambahkan": "Added",
    "Dihapus": "Removed",
    "Diubah": "Changed",
    "Tidak ada perubahan elemen.": "No element changed.",
    "Tidak ada perubahan isian formulir.": "No form field changed.",
    "Id": "Id",
    "Jenis": "Type",
    "Perubahan": "Changes",
    "Formulir": "Form",
    "Isian": "Field",
    "Label": "Label",
    "Grup kandidat": "Candidate groups",
    "Pengguna kandidat": "Candidate users",
    "Penerima tugas": "Assignee",
    "Topik": "Topic",
    "Implementasi": "Implementation",
    "Menempel pada": "Attached to",
    "Membatalkan aktivitas": "Interrupting",
    "Nilai bawaan": "Default",
    "Proses yang dipanggil": "Called process",
    "Dari": "Source",
    "Ke": "Target",
    "Kondisi": "Condition",
    "Alur masuk": "Incoming flows",
    "Alur keluar": "Outgoing flows",
    "Timer": "Timer",
    "Jenis kejadian": "Event kind",
    "Skrip": "Script",
    "Wajib": "Required",
    "Validasi": "Validation",
    "Pilihan": "Options",
    "Properti": "Properties",
    # incidents
    "Insiden terbuka": "Open incidents",
    "Insiden yang sudah ditangani": "Resolved incidents",
    "Pesan kesalahan": "Error message",
    "Rincian": "Details",
    "Ulangi": "Retry",
    "Ditangani": "Resolved",
    "Tidak ada insiden terbuka.": "No open incidents.",
    "Belum ada.": "None yet.",
    "Insiden diulang: langkah tersebut kembali ke antrean pekerjaan.": (
        "Incident retried: the step is back in the job queue."
    ),
    # users
    "Anda": "you",
    "Nama tampilan": "Display name",
    "E-mail": "E-mail",
    "Nonaktifkan": "Deactivate",
    "Aktifkan kembali": "Reactivate",
    "Pengguna baru": "New user",
    "Kata sandi awal": "Initial password",
    "Kosongkan untuk membuat kata sandi acak yang ditampilkan sekali.": (
        "Leave empty to generate a random password that is shown once."
    ),
    "Buat pengguna": "Create user",
    "Kata sandi awal (hanya ditampilkan sekali, sampaikan kepada pengguna):": (
        "Initial password (shown only once; pass it on to the user):"
    ),
    "Ubah pengguna %(username)s": "Edit user %(username)s",
    "Semua pengguna": "All users",
    "Simpan": "Save",
    "Alamat e-mail tidak sah.": "Not a valid e-mail address.",
    "Pilih minimal satu grup.": "Choose at least one group.",
    "Nama pengguna harus 2-64 huruf kecil, angka, atau . _ @ -": (
        "A username is 2-64 lower-case letters, digits, or . _ @ -"
    ),
    "Nama pengguna %(username)s sudah dipakai. Pilih nama lain.": (
        "The username %(username)s is already taken. Choose another one."
    ),
    "Pengguna belum dibuat. Periksa kembali isian yang ditandai.": (
        "The user was not created. Please check the marked fields."
    ),
    "Pengguna %(username)s dibuat.": "User %(username)s created.",
    "Perubahan belum disimpan. Periksa kembali isian yang ditandai.": (
        "The changes were not saved. Please check the marked fields."
    ),
    "Anda tidak dapat menghapus grup admin dari akun Anda sendiri.": (
        "You cannot remove the admin group from your own account."
    ),
    "Pengguna %(username)s disimpan.": "User %(username)s saved.",
    "Anda tidak dapat menonaktifkan akun Anda sendiri.": "You cannot deactivate your own account.",
    "Pengguna %(username)s diaktifkan kembali.": "User %(username)s reactivated.",
    "Pengguna %(username)s dinonaktifkan.": "User %(username)s deactivated.",
    "Kata sandi %(username)s diganti.": "The password of %(username)s was replaced.",
    "Kata sandi baru (hanya ditampilkan sekali, sampaikan kepada pengguna):": (
        "New password (shown only once; pass it on to the user):"
    ),
    "Buat kata sandi acak baru untuk pengguna yang lupa kata sandinya; kata sandi lama tidak "
    "berlaku lagi.": (
        "Generate a new random password for a user who forgot theirs; the old one stops working."
    ),
    "Buat kata sandi baru": "Generate a new password",
    # holidays
    "Hari libur nasional dan cuti bersama mengikuti kalender pemerintah. Penyesuaian instansi "
    "menang atas kalender nasional; batas waktu yang sudah ditetapkan tidak berubah.": (
        "National holidays and joint leave follow the government calendar. The agency's "
        "overrides win over it; deadlines already set do not change."
    ),
    "Tetapkan hari": "Set a day",
    "Tanggal": "Date",
    "Jenis hari": "Kind of day",
    "Hari libur (mis. cuti bersama tambahan)": "Day off (e.g. additional joint leave)",
    "Hari kerja": "Working day",
    "Ikuti kalender nasional (hapus penyesuaian)": "Follow the national calendar (remove override)",
    "Keterangan": "Note",
    "Penyesuaian instansi": "Agency overrides",
    "Hapus": "Remove",
    "Belum ada penyesuaian.": "No overrides yet.",
    "%(n)s hari ke depan": "The next %(n)s days",
    "hari kerja": "working day",
    "libur": "day off",
    "Libur nasional": "National holiday",
    "Senin": "Monday",
    "Selasa": "Tuesday",
    "Rabu": "Wednesday",
    "Kamis": "Thursday",
    "Jumat": "Friday",
    "Sabtu": "Saturday",
    "Minggu": "Sunday",
    "Tanggal tidak sah (gunakan TTTT-BB-HH).": "Not a valid date (use YYYY-MM-DD).",
    "Pilih jenis hari.": "Choose the kind of day.",
    "%(day)s kembali mengikuti kalender nasional.": "%(day)s follows the national calendar again.",
    "%(day)s ditetapkan sebagai hari kerja.": "%(day)s is now a working day.",
    "%(day)s ditetapkan sebagai hari libur.": "%(day)s is now a day off.",
    # DNS
    "Rekaman yang dibuat, diubah, atau dihapus oleh langkah DNS dalam alur permohonan. "
    "Perubahan hanya melalui alur kerja.": (
        "Records created, changed or deleted by the DNS steps of the request workflows. "
        "They change only through the workflows."
    ),
    "Tipe": "Type",
    "Nilai": "Value",
    "Permohonan": "Request",
    "Perubahan terakhir": "Last change",
    "uji coba": "dry run",
    "tidak ada rekaman (dihapus)": "no records (deleted)",
    "belum pernah berhasil diterapkan": "never applied successfully",
    "Riwayat per nama": "History per name",
    "%(n)s perubahan": "%(n)s changes",
    "Tindakan": "Action",
    "Hasil": "Result",
    "Sebelum": "Before",
    "Sesudah": "After",
    "Belum ada rekaman DNS yang dikelola sopflow.": "sopflow manages no DNS records yet.",
    "Unit kerja": "Work units",
    "Permohonan milik unit kerja pemohon: anggotanya menjawab, unit lain tidak melihat.": (
        "A request belongs to its applicant's work unit: every member of the unit sees and "
        "answers it, other units do not."
    ),
    "Kode": "Code",
    "Anggota": "Members",
    "Belum ada unit kerja.": "No work units yet.",
    "Unit kerja baru": "New work unit",
    "Huruf kecil, angka, titik, garis bawah atau tanda hubung, misalnya disdik.": (
        "Lower-case letters, digits, dots, underscores or hyphens, e.g. disdik."
    ),
    "Tambah unit": "Add unit",
    "Impor dari CSV": "Import from CSV",
    "Berkas CSV (kolom: code,name)": "CSV file (columns: code,name)",
    "Impor": "Import",
    "Unit kerja %(name)s ditambahkan.": "Work unit %(name)s added.",
    "Pilih berkas CSV (paling besar 1 MiB).": "Choose a CSV file (at most 1 MiB).",
    "Berkas harus berupa teks UTF-8 (CSV).": "The file must be UTF-8 text (CSV).",
    "%(added)s unit ditambahkan, %(renamed)s diganti namanya, %(same)s tetap.": (
        "%(added)s units added, %(renamed)s renamed, %(same)s unchanged."
    ),
    "Tanpa unit kerja": "No work unit",
    "Unit kerja tidak dikenal.": "Unknown work unit.",
}
