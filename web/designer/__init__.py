"""Analysts: the web modeler (bpmn-js with the properties panel and the Camunda moddle),
drafts, validation located on the diagram, uploads from Camunda Modeler; administrators
publish a draft as a new version."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/desain")
