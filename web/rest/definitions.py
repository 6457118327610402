"""``/process-definition``: list, get (by id, key, key + tenant), XML, start, form variables."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy.orm import undefer

from engine import access
from engine.business_keys import BusinessKeyTaken, InvalidBusinessKey
from engine.errors import FormValidationError
from engine.forms import Form
from engine.models import ProcessDefinition

from .. import formview
from . import dto, forms
from .auth import actor, tenant
from .common import arg_bool, arg_list, engine, json_body, page
from .errors import bad_request, not_found


def _check_tenant(t: str | None) -> None:
    if t is not None and t != tenant():
        raise not_found(f"No matching process definition with key and tenant-id '{t}'")


def _by_key(key: str) -> ProcessDefinition:
    try:
        return engine().current_definition(actor(), key)
    except Exception:
        defs = engine().definitions(actor(), key)
        if not defs:
            raise not_found(f"No matching process definition with key: {key}") from None
        return defs[-1]


def list_() -> Any:
    defs = engine().definitions(actor(), request.args.get("key") or None)
    tenants = arg_list("tenantIdIn")
    if tenants is not None and tenant() not in tenants:
        defs = []
    if request.args.get("keyLike"):
        like = request.args["keyLike"].replace("%", "")
        defs = [d for d in defs if like in d.key]
    if request.args.get("name"):
        defs = [d for d in defs if d.name == request.args["name"]]
    if request.args.get("version"):
        defs = [d for d in defs if str(d.version) == request.args["version"]]
    if request.args.get("deploymentId"):
        defs = [d for d in defs if d.deployment_id == request.args["deploymentId"]]
    if arg_bool("latestVersion"):
        latest: dict[str, ProcessDefinition] = {}
        for d in defs:
            if d.key not in latest or d.version > latest[d.key].version:
                latest[d.key] = d
        defs = list(latest.values())
    sort = request.args.get("sortBy")
    if sort in ("version", "key", "name", "id", "deploymentId"):
        attr = {"deploymentId": "deployment_id"}.get(sort, sort)
        defs.sort(key=lambda d: (getattr(d, attr) is None, getattr(d, attr) or ""))
    if request.args.get("sortOrder") == "desc":
        defs.reverse()
    return jsonify([dto.definition(d, tenant()) for d in page(defs)])


def count() -> Any:
    return jsonify({"count": len(engine().definitions(actor(), request.args.get("key") or None))})


def get(definition_id: str) -> Any:
    return jsonify(dto.definition(engine().get_definition(actor(), definition_id), tenant()))


def get_key(key: str, tenant_id: str | None = None) -> Any:
    _check_tenant(tenant_id)
    return jsonify(dto.definition(_by_key(key), tenant()))


def _xml(definition_id: str) -> str:
    engine().get_definition(actor(), definition_id)  # agency check
    with engine().sessions() as s:
        d = s.get(ProcessDefinition, definition_id, options=[undefer(ProcessDefinition.xml)])
        assert d is not None
        return d.xml


def xml(definition_id: str) -> Any:
    engine().get_definition(actor(), definition_id)
    return jsonify({"id": definition_id, "bpmn20Xml": _xml(definition_id)})


def xml_key(key: str, tenant_id: str | None = None) -> Any:
    _check_tenant(tenant_id)
    d = _by_key(key)
    return jsonify({"id": d.id, "bpmn20Xml": _xml(d.id)})


def _start(definition: ProcessDefinition) -> Any:
    """``start`` and ``submit-form``: a person's variables answer the start form as the
    browser's form does (typed values converted, files stored as uploads, every refusal a 400
    naming the field); a trusted caller's are taken as given (web/rest/forms.py)."""
    body = json_body()
    who = actor()
    trusted = access.trusted_inputs(who)
    form = Form.from_dict(definition.start_form)
    sub = forms.read(form, body.get("variables"), trusted=trusted)
    forms.check(form, sub, {}, trusted=trusted)
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise bad_request("'businessKey' must be a string")
    ids = forms.save(engine(), who, sub)
    try:
        inst = engine().start(
            who,
            definition_id=definition.id,
            variables=sub.values,
            business_key=business_key or None,
        )
    except (InvalidBusinessKey, BusinessKeyTaken) as e:
        # the caller's own choice, refused: a 400 with both languages (the taken one says
        # only that this agency uses it)
        raise bad_request(str(e)) from None
    except FormValidationError as e:
        raise forms.refused(e) from None
    formview.link_uploads(engine(), ids, inst.id)
    return jsonify(dto.instance(inst, tenant(), bool(body.get("withVariablesInReturn"))))


def start(definition_id: str) -> Any:
    return _start(engine().get_definition(actor(), definition_id))


def start_key(key: str, tenant_id: str | None = None) -> Any:
    _check_tenant(tenant_id)
    return _start(engine().current_definition(actor(), key))


def form_variables_key(key: str, tenant_id: str | None = None) -> Any:
    _check_tenant(tenant_id)
    return _form_variables(_by_key(key))


def form_variables(definition_id: str) -> Any:
    return _form_variables(engine().get_definition(actor(), definition_id))


def _form_variables(d: ProcessDefinition) -> Any:
    out = forms.form_variables(d.start_form, {})
    names = arg_list("variableNames")
    if names is not None:
        out = {k: v for k, v in out.items() if k in names}
    return jsonify(out)


def routes(bp: Blueprint) -> None:
    add = bp.add_url_rule
    pd = "/process-definition"
    add(pd, "pd_list", list_, methods=["GET"])
    add(f"{pd}/count", "pd_count", count, methods=["GET"])
    add(f"{pd}/<definition_id>", "pd_get", get, methods=["GET"])
    add(f"{pd}/<definition_id>/xml", "pd_xml", xml, methods=["GET"])
    add(f"{pd}/<definition_id>/start", "pd_start", start, methods=["POST"])
    add(f"{pd}/<definition_id>/submit-form", "pd_submit", start, methods=["POST"])
    add(f"{pd}/<definition_id>/form-variables", "pd_formvars", form_variables, methods=["GET"])
    for suffix, t in (("", ""), ("/tenant-id/<tenant_id>", "_t")):
        base = f"{pd}/key/<key>{suffix}"
        add(base, f"pd_key{t}", get_key, methods=["GET"])
        add(f"{base}/xml", f"pd_key_xml{t}", xml_key, methods=["GET"])
        add(f"{base}/start", f"pd_key_start{t}", start_key, methods=["POST"])
        add(f"{base}/submit-form", f"pd_key_submit{t}", start_key, methods=["POST"])
        add(f"{base}/form-variables", f"pd_key_formvars{t}", form_variables_key, methods=["GET"])
