# ruff: noqa: E501  (a table of sentences: one key, one line)
"""What editors show when hovering a key: one line per key of the files, by schema definition.

The shapes come from the models; these words are the reference's (docs/bindings.md,
docs/environments.md) in short, with the anchor to read more.
"""

from __future__ import annotations

from typing import Any

_B = "docs/bindings.md"
_E = "docs/environments.md"

BINDINGS: dict[str, dict[str, str]] = {
    "": {
        "version": "The format's version: 1.",
        "defaults": f"Values every action gets unless it gives its own. {_B}#defaults",
        "tasks": f"What each task does, by element id or unique name. {_B}#tasks-and-events",
        "events": f"What each end event checks, by element id or unique name. {_B}#tasks-and-events",
        "flows": f"The data that makes the SUT take each sequence flow. {_B}#flows",
        "scenarios": f"Rules: scenarios reaching an element wait for others. {_B}#scenarios-dependson-between-scenarios",
        "barriers": f"Shared barriers: scenarios waiting for each other mid-way. {_B}#barriers",
        "cleanup": f"Actions every scenario (or those reaching an element) runs once it ends, whatever the outcome. {_B}#cleanup",
    },
    "StepBinding": {
        "action": f"The request the step sends (HTTP unless `protocol` says). {_B}#actions",
        "checks": f"What the answer must satisfy; without a status check, status < 400. {_B}#checks",
        "eventually": f"Send again until the checks hold: {{timeout, interval, poll}}. {_B}#eventually",
        "save": f"name: $.jsonpath or template, kept in `vars` for later steps. {_B}#save-and-exportas",
        "exportAs": f"name: $.jsonpath or template, written to the suite run's context (`suite`). {_B}#save-and-exportas",
        "cancelsTransaction": f"A task's action cancels the transaction it lies in (default false). {_B}#cancelstransaction",
        "undo": f"The action undoing what the task created, run once the scenario ends if the SUT answered the task. {_B}#cleanup",
    },
    "CleanupAction": {
        "action": "The request that cleans up (required).",
        "checks": "What its answer must satisfy; without a status check, status < 400.",
        "eventually": "Send again until the checks hold: {timeout, interval, poll}.",
        "strict": "true: a failure fails a run that passed (default false: only reported).",
    },
    "ScenarioCleanup": {
        "name": "How reports name it (default: cleanup N).",
        "reaching": "Only for the scenarios whose path goes through this element (id or unique name).",
        "action": "The request that cleans up (required).",
        "checks": "What its answer must satisfy; without a status check, status < 400.",
        "eventually": "Send again until the checks hold: {timeout, interval, poll}.",
        "strict": "true: a failure fails a run that passed (default false: only reported).",
    },
    "HttpAction": {
        "protocol": "The protocol carrying the action: http (the default) or a plug-in's name.",
        "service": "The environment's service the request goes to (default: defaults.service, else the only one).",
        "timeout": "Seconds for one request (default: the service's, else the environment's).",
        "retries": "Older form of `retry`: transport errors only, 0-10 times.",
        "retry": f"Transient failures sent again: {{on, attempts, backoff, jitter}}. {_B}#retry",
        "replay": f"Statuses also accepted when the step is a re-send after a crash: {{status}}. {_B}#replay",
        "method": "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.",
        "path": "Relative to the service's base_url (an absolute URL is used as it is); not encoded.",
        "headers": "Laid over the environment's, the service's and defaults.headers.",
        "query": "Query parameters, percent-encoded; a list repeats the name; null is left out.",
        "json": "A JSON body; a lone '{{ expr }}' keeps its type.",
        "form": "A form body (application/x-www-form-urlencoded).",
        "body": "A raw text body.",
        "follow_redirects": "Follow 3xx answers (default true); false keeps the 3xx as the answer.",
    },
    "RetryPolicy": {
        "on": "What is transient: connect, tls, timeout, HTTP statuses (default [connect, 502, 503, 504]).",
        "attempts": "Requests in all, the first included (default 3, at most 10).",
        "backoff": "exponential (the wait doubles) or constant.",
        "delay": "Seconds before the second attempt (default 0.5).",
        "max_delay": "The longest wait, in seconds (default 30). Retry-After wins, up to the step's deadline.",
        "jitter": "Wait a random half-to-all of the computed time (default true).",
    },
    "ReplayPolicy": {
        "status": "HTTP statuses the SUT may answer a re-sent request with (only for a re-send).",
    },
    "Eventually": {
        "timeout": "Seconds to keep polling (required, at most a week).",
        "interval": "Seconds between polls (default 1, at least 0.01).",
        "poll": f"Send the action once (a command), then poll this request until the checks hold (not in defaults). {_B}#polling-another-request",
    },
    "FlowBinding": {"data": "Laid over the data row for the steps of scenarios taking this flow."},
    "Defaults": {
        "service": "For actions without `service`.",
        "headers": "For every action with headers (the action's own win).",
        "timeout": "For actions without `timeout`, in seconds.",
        "retries": "For actions with neither `retry` nor `retries` (older form).",
        "retry": "For actions with neither `retry` nor `retries`.",
        "eventually": "For steps with an action and no `eventually`.",
    },
    "ScenarioRule": {
        "reaching": "The scenarios whose path goes through this element (id or unique name) wait...",
        "dependsOn": "...for the other scenarios reaching each of these.",
    },
    "ScenarioDependency": {
        "reaching": "An element (id or unique name) on the awaited scenarios' paths.",
        "outcome": "The outcome they must end with (default PASSED); otherwise the waiting run is SKIPPED.",
    },
    "BarrierRule": {
        "name": "Unique in the file; no '@'.",
        "before": "The task or event the barrier goes before (or give `after`).",
        "after": "The task or event the barrier goes after (or give `before`).",
        "parties": "How many runs must arrive (default: every scenario it lands in).",
        "timeout": "Seconds from the first arrival (default 300); a run still waiting then FAILS.",
    },
}

ENVIRONMENT: dict[str, dict[str, str]] = {
    "": {
        "name": "What `orchestra run --env NAME` names.",
        "services": f"Where each service is: {{base_url, headers, auth, timeout, tls}}. {_E}#every-key",
        "headers": "Sent to every service.",
        "auth": f"Credentials for every service without its own. {_E}#every-key",
        "verify_tls": "false: accept any server certificate (default true).",
        "tls": f"Extra CAs, a client certificate, a host name to verify, a minimum version. {_E}#tls",
        "timeout": "Seconds per request (default 30).",
        "variables": "Plain values for templates: {{ env.NAME }}; shown in reports.",
        "secrets": f"Secret values for templates ({{{{ secrets.NAME }}}}): ${{VARIABLE}} references, masked. {_E}#variables-and-secrets",
    },
    "Service": {
        "base_url": "http(s)://... or a plug-in protocol's scheme; ${VAR} is shown, ${secret:VAR} masked.",
        "headers": "Sent to this service, over the environment's.",
        "auth": "This service's own credentials.",
        "verify_tls": "Overrides the environment's.",
        "tls": "Over the environment's tls, field by field.",
        "timeout": "Seconds per request for this service.",
    },
    "Auth": {
        "type": "bearer, basic, api_key or oauth2_client_credentials.",
        "token": "bearer: a ${VARIABLE} reference.",
        "username": "basic.",
        "password": "basic: a ${VARIABLE} reference.",
        "header": "api_key: the header carrying the key (default X-API-Key).",
        "value": "api_key: a ${VARIABLE} reference.",
        "token_url": "oauth2_client_credentials: the token endpoint.",
        "client_id": "oauth2_client_credentials.",
        "client_secret": "oauth2_client_credentials: a ${VARIABLE} reference.",
        "scope": "oauth2_client_credentials, optional.",
        "audience": "oauth2_client_credentials, optional.",
    },
}


def describe(schema: dict[str, Any], words: dict[str, dict[str, str]]) -> dict[str, Any]:
    """`schema` with a description on each key `words` has one for ("" is the top level)."""
    for definition, properties in words.items():
        target = schema if not definition else schema["$defs"].get(definition)
        if target is None:
            continue
        for name, text in properties.items():
            if name in target.get("properties", {}):
                target["properties"][name]["description"] = text
    return schema
