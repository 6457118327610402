"""The shared vocabulary of the five SOPs (../shared/CATALOGUE.md): agencies and roles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    name: str
    parent_domain: str
    timezone: str


AGENCIES: tuple[AgencyInfo, ...] = (
    AgencyInfo("pekalongan", "Diskominfo Kota Pekalongan", "pekalongankota.go.id", "Asia/Jakarta"),
    AgencyInfo(
        "kalbar", "Diskominfo Provinsi Kalimantan Barat", "kalbarprov.go.id", "Asia/Pontianak"
    ),
    AgencyInfo("sulut", "DKIPS Provinsi Sulawesi Utara", "sulutprov.go.id", "Asia/Makassar"),
    AgencyInfo("tapin", "Diskominfo Kabupaten Tapin", "tapinkab.go.id", "Asia/Makassar"),
    AgencyInfo("kudus", "Diskominfo Kabupaten Kudus", "kuduskab.go.id", "Asia/Jakarta"),
)

ROLES: tuple[str, ...] = (
    "applicant",
    "head_of_office",
    "head_of_division",
    "head_of_section",
    "technical_officer",
    "programmer",
    "complaint_officer",
    "analyst",
    "admin",
)

# Process keys are file stems of bpmn/*.bpmn; complaint.bpmn serves every agency.
SHARED_PROCESSES = ("complaint",)

# Service-task topics of the catalogue. A topic without a built-in handler is still a known
# topic: its jobs wait in the queue for an external worker (Camunda external-task REST).
TOPICS: tuple[str, ...] = (
    "subdomain.check",
    "subdomain.reserve",
    "dns.create",
    "dns.change",
    "dns.delete",
    "hosting.create",
    "website.verify",
    "mail.send",
    "letter.generate",
    "credentials.issue",
)
