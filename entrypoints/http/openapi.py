"""What the OpenAPI schema declares beyond what FastAPI infers: problem responses and headers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from entrypoints.http.problems import MEDIA_TYPE
from entrypoints.http.schemas import Problem

_DESCRIPTIONS = {
    400: "A bad cursor, or a cursor with an offset (`invalid_cursor`)",
    401: "No valid bearer token (see WWW-Authenticate)",
    403: "The caller's role does not allow this",
    404: "No such user",
    409: "Username or email taken, or the last admin",
    412: "If-Match does not match the current version",
    413: "Body over 1 MiB (1,048,576 bytes), whatever the method",
    415: "Content-Type not accepted",
    422: "Invalid input",
    429: "Too many failed logins; see Retry-After",
    500: "Internal error",
    503: "Storage unavailable; see Retry-After",
}
_REF = "#/components/schemas/{model}"
# What the middleware can answer on any operation, before its route or around it.
_ANY_OPERATION = {
    400: "The Host header names no host this service serves (`invalid_host`), or the request could"
    " not be read (`bad_request`)",
    413: _DESCRIPTIONS[413],
    500: _DESCRIPTIONS[500],
    503: "The server holds as many connections and requests as it takes (`over_capacity`); see Retry-After",
}
# What the middleware can answer on any operation that reads a body.
_BODY_READ = {408: "The body did not arrive within the time allowed (`request_timeout`)"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declares these statuses as application/problem+json responses of an operation."""
    return {status: problem(_DESCRIPTIONS[status]) for status in statuses}


def problem(description: str) -> dict[str, Any]:
    """An application/problem+json response, described."""
    return {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}},
    }


def operation_id(route: APIRoute) -> str:
    """The route function's name: `get_user`, not FastAPI's `get_user_api_v1_users__user_id__get`."""
    return route.name


def header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


REQUEST_ID = header(
    "The client's own request id when sane, else a new one", pattern=r"^[A-Za-z0-9._-]{1,64}$"
)


def openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        problem = Problem.model_json_schema(ref_template=_REF)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem.pop("$defs", {}), Problem=problem)
        for operations in schema["paths"].values():
            for operation in operations.values():
                _declare_any_operation_problems(operation)
                _declare_headers(operation)
        app.openapi_schema = schema
    return app.openapi_schema


def _declare_any_operation_problems(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    answered = _ANY_OPERATION | (_BODY_READ if "requestBody" in operation else {})
    for status, description in answered.items():
        declared = responses.get(str(status))
        if declared is None:
            responses[str(status)] = problem(description)
        elif declared["description"] != description:
            declared["description"] += f"; or {description[0].lower()}{description[1:]}"
    operation["responses"] = dict(sorted(responses.items()))


def _declare_headers(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    parameters.append(
        {
            "name": "X-Request-ID",
            "in": "header",
            "required": False,
            "description": "Kept when it is 1 to 64 of A-Z a-z 0-9 . _ -; any other is replaced by a new one",
            "schema": {"type": "string"},
        }
    )
    for status, response in operation["responses"].items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = REQUEST_ID
        keyed = any(parameter["name"] == "idempotency-key" for parameter in parameters)
        if status in ("429", "503") or (status == "409" and keyed):
            headers["Retry-After"] = header("Seconds to wait before retrying", pattern=r"^[0-9]+$")
        if status == "401":
            headers["WWW-Authenticate"] = header('`Bearer`, with `error="invalid_token"` when one was sent')
