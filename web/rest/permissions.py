"""What each REST endpoint needs, checked before its view runs (and by the fast path).

This is a gate only: the permission of engine/access.py that the endpoint's kind of work needs.
Which rows the caller may then read or change is the engine's decision on every call
(``instance_filter``, ``task_filter``, ``may_work``, the worker topics), so an endpoint never
decides by itself. ``None`` marks the public paths. Every route must be listed: an unlisted
endpoint is refused, and tests/rest/test_permission_matrix.py fails on it. The table is published in
the OpenAPI document (``x-sopflow-permission``) and in docs/rest-permissions.md.
"""

from __future__ import annotations

from engine import access
from engine.access import Permission
from engine.actors import Actor

P = Permission

# endpoint names as web/rest/*.routes() register them (the blueprint prefix stripped)
ENDPOINTS: dict[str, Permission | None] = {
    "version": None,
    "openapi": None,
    # deployments and definitions: the agency's diagrams
    "deployment_list": P.READ_DEFINITIONS,
    "deployment_count": P.READ_DEFINITIONS,
    "deployment_get": P.READ_DEFINITIONS,
    "deployment_resources": P.READ_DEFINITIONS,
    "deployment_create": P.DEPLOY,
    "pd_list": P.READ_DEFINITIONS,
    "pd_count": P.READ_DEFINITIONS,
    "pd_get": P.READ_DEFINITIONS,
    "pd_xml": P.READ_DEFINITIONS,
    "pd_formvars": P.READ_DEFINITIONS,
    "pd_key": P.READ_DEFINITIONS,
    "pd_key_t": P.READ_DEFINITIONS,
    "pd_key_xml": P.READ_DEFINITIONS,
    "pd_key_xml_t": P.READ_DEFINITIONS,
    "pd_key_formvars": P.READ_DEFINITIONS,
    "pd_key_formvars_t": P.READ_DEFINITIONS,
    "pd_start": P.START,
    "pd_submit": P.START,
    "pd_key_start": P.START,
    "pd_key_start_t": P.START,
    "pd_key_submit": P.START,
    "pd_key_submit_t": P.START,
    # requests: filtered to those the caller may read
    "pi_list": P.READ_REQUESTS,
    "pi_count": P.READ_REQUESTS,
    "pi_get": P.READ_REQUESTS,
    "pi_activities": P.READ_REQUESTS,
    "pi_vars": P.READ_REQUESTS,
    "pi_var": P.READ_REQUESTS,
    "pi_var_data": P.READ_REQUESTS,
    "pi_delete": P.READ_REQUESTS,  # then: an administrator or the one who filed it
    "pi_vars_modify": P.WORK_TASKS,  # then: who may complete one of its open tasks now
    "pi_var_put": P.WORK_TASKS,
    "pi_var_upload": P.WORK_TASKS,
    "pi_var_delete": P.WORK_TASKS,
    "var_list": P.READ_REQUESTS,
    "var_data": P.READ_REQUESTS,
    "hpi_list": P.READ_REQUESTS,
    "hpi_count": P.READ_REQUESTS,
    "hpi_get": P.READ_REQUESTS,
    "htask_list": P.READ_REQUESTS,
    "hvar_list": P.READ_REQUESTS,
    "hvar_data": P.READ_REQUESTS,
    "message": P.CORRELATE,
    # human tasks: filtered to those the caller may see, worked as may_work says
    **{
        name: P.WORK_TASKS
        for name in (
            "task_list",
            "task_count",
            "task_get",
            "task_claim",
            "task_unclaim",
            "task_assignee",
            "task_complete",
            "task_submit",
            "task_form",
            "task_formvars",
            "task_links",
            "task_vars",
            "task_var",
            "task_var_data",
            "task_var_put",
            "task_var_upload",
            "task_var_delete",
            "task_vars_modify",
            "task_lvars",
            "task_lvar",
            "task_lvar_data",
            "task_lvar_put",
            "task_lvar_upload",
            "task_lvar_delete",
            "task_lvars_modify",
        )
    },
    # the job queue: workers on the topics no built-in handler works
    "et_fetch": P.WORK_JOBS,
    "et_complete": P.WORK_JOBS,
    "et_failure": P.WORK_JOBS,
    "et_bpmn_error": P.WORK_JOBS,
    "et_extend": P.WORK_JOBS,
    "et_unlock": P.READ_JOBS,  # then: the worker on its topics, or an administrator
    "et_list": P.READ_JOBS,
    "et_count": P.READ_JOBS,
    "et_get": P.READ_JOBS,
    "et_details": P.READ_JOBS,
    "et_retries": P.MANAGE_JOBS,
    "job_list": P.MANAGE_JOBS,
    "job_retries": P.MANAGE_JOBS,
    "incident_list": P.MANAGE_JOBS,
    "user_list": P.READ_SELF,  # then: every user for an administrator, oneself for others
}


def needed(endpoint: str | None) -> Permission | None:
    """The permission of an endpoint (``engine_rest.pi_get`` or ``pi_get``); an endpoint not in
    the table needs one only an administrator has."""
    name = (endpoint or "").rsplit(".", 1)[-1]
    return ENDPOINTS.get(name, P.ADMINISTER)


def check(actor: Actor, endpoint: str | None) -> None:
    permission = needed(endpoint)
    if permission is not None:
        access.require(actor, permission)


def markdown(rules: list[tuple[str, str, str]]) -> str:
    """docs/rest-permissions.md from ``(endpoint, methods, path)`` rows (tests keep it current)."""
    lines = [
        "# REST endpoints and the permission each needs",
        "",
        "Generated from `web/rest/permissions.py` (the gate before each view); which rows a",
        "caller then reads or changes is decided by `engine/access.py` (see README.md, *Who may",
        "do what*). The same table holds under `/rest`. `public`: no credentials.",
        "",
        "| method | path | permission |",
        "|---|---|---|",
    ]
    for endpoint, methods, path in sorted(rules, key=lambda r: (r[2], r[1])):
        permission = needed(endpoint)
        lines.append(f"| {methods} | `{path}` | {permission.value if permission else 'public'} |")
    lines += ["", "## Who has each permission", "", "| permission | roles |", "|---|---|"]
    for permission in Permission:
        roles = [r for r, granted in access.GRANTS.items() if permission in granted]
        if permission in access.OFFICER_GRANTS:
            roles.append("officer groups")
        lines.append(f"| {permission.value} | {', '.join(roles)} |")
    return "\n".join(lines) + "\n"
