"""The nine elements (unsur) of the community satisfaction survey, as Permenpan RB No. 14/2017
words them, with the four answers each element offers (1 = worst, 4 = best).

Reports read the same list, so a question and the NRR shown for it cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Element:
    code: str  # u1..u9: the column of survey_response
    title: str
    question: str
    answers: tuple[str, str, str, str]  # the labels of 1, 2, 3, 4


ELEMENTS: tuple[Element, ...] = (
    Element(
        "u1",
        "Persyaratan",
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis "
        "pelayanannya?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    Element(
        "u2",
        "Sistem, mekanisme, dan prosedur",
        "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
        ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
    ),
    Element(
        "u3",
        "Waktu penyelesaian",
        "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
        ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
    ),
    Element(
        "u4",
        "Biaya/tarif",
        "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
        ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
    ),
    Element(
        "u5",
        "Produk spesifikasi jenis pelayanan",
        "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang "
        "tercantum dalam standar pelayanan dengan hasil yang diberikan?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    Element(
        "u6",
        "Kompetensi pelaksana",
        "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
        ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
    ),
    Element(
        "u7",
        "Perilaku pelaksana",
        "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait "
        "kesopanan dan keramahan?",
        (
            "Tidak sopan dan ramah",
            "Kurang sopan dan ramah",
            "Sopan dan ramah",
            "Sangat sopan dan ramah",
        ),
    ),
    Element(
        "u8",
        "Penanganan pengaduan, saran, dan masukan",
        "Bagaimana pendapat Saudara tentang penanganan pengaduan, saran, dan masukan?",
        (
            "Tidak ada",
            "Ada tetapi tidak berfungsi",
            "Berfungsi kurang maksimal",
            "Dikelola dengan baik",
        ),
    ),
    Element(
        "u9",
        "Sarana dan prasarana",
        "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
        ("Buruk", "Cukup", "Baik", "Sangat baik"),
    ),
)

CODES: tuple[str, ...] = tuple(e.code for e in ELEMENTS)
SUGGESTION_MAX = 2000

EN: dict[str, str] = {
    "Persyaratan": "Requirements",
    "Sistem, mekanisme, dan prosedur": "System, mechanism and procedure",
    "Waktu penyelesaian": "Completion time",
    "Biaya/tarif": "Cost/fee",
    "Produk spesifikasi jenis pelayanan": "Service product specification",
    "Kompetensi pelaksana": "Staff competence",
    "Perilaku pelaksana": "Staff behaviour",
    "Penanganan pengaduan, saran, dan masukan": "Handling of complaints, suggestions and input",
    "Sarana dan prasarana": "Facilities and infrastructure",
    (
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis "
        "pelayanannya?"
    ): "How well do the service requirements fit the kind of service?",
    "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?": (
        "How easy is the service procedure of this unit?"
    ),
    "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?": (
        "How fast was the service delivered?"
    ),
    "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?": (
        "How fair is the cost/fee of the service?"
    ),
    (
        "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang "
        "tercantum dalam standar pelayanan dengan hasil yang diberikan?"
    ): "How well does what you received match the service standard?",
    "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?": (
        "How competent were the staff?"
    ),
    (
        "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait "
        "kesopanan dan keramahan?"
    ): "How polite and friendly were the staff?",
    "Bagaimana pendapat Saudara tentang penanganan pengaduan, saran, dan masukan?": (
        "How are complaints, suggestions and input handled?"
    ),
    "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?": (
        "How good are the facilities and infrastructure?"
    ),
    "Tidak sesuai": "Not appropriate",
    "Kurang sesuai": "Somewhat appropriate",
    "Sesuai": "Appropriate",
    "Sangat sesuai": "Very appropriate",
    "Tidak mudah": "Not easy",
    "Kurang mudah": "Somewhat easy",
    "Mudah": "Easy",
    "Sangat mudah": "Very easy",
    "Tidak cepat": "Not fast",
    "Kurang cepat": "Somewhat fast",
    "Cepat": "Fast",
    "Sangat cepat": "Very fast",
    "Sangat mahal": "Very expensive",
    "Cukup mahal": "Fairly expensive",
    "Murah": "Cheap",
    "Gratis": "Free",
    "Tidak kompeten": "Not competent",
    "Kurang kompeten": "Somewhat competent",
    "Kompeten": "Competent",
    "Sangat kompeten": "Very competent",
    "Tidak sopan dan ramah": "Not polite and friendly",
    "Kurang sopan dan ramah": "Somewhat polite and friendly",
    "Sopan dan ramah": "Polite and friendly",
    "Sangat sopan dan ramah": "Very polite and friendly",
    "Tidak ada": "None",
    "Ada tetapi tidak berfungsi": "Exists but does not work",
    "Berfungsi kurang maksimal": "Works, not fully",
    "Dikelola dengan baik": "Well managed",
    "Buruk": "Poor",
    "Cukup": "Fair",
    "Baik": "Good",
    "Sangat baik": "Very good",
}
