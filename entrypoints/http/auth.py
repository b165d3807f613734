"""Who is calling: the bearer token on every /api/v1 call, and the token endpoint that issues it
(the OAuth 2.0 password grant, RFC 6749 4.3, which Swagger UI's Authorize button speaks)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer

from domain.access import Caller
from domain.errors import Unauthenticated
from domain.use_cases import IssueToken
from entrypoints.http.dependencies import Services, provided
from entrypoints.http.headers import require_media_type
from entrypoints.http.openapi import operation_id, problem, problems
from entrypoints.http.problems import OAuthError
from entrypoints.http.schemas import TokenOut

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)
FORM = "application/x-www-form-urlencoded"
LOGIN_MAX = 254  # the longest email
PASSWORD_MAX = 1024  # longer than any password can be; no point hashing megabytes


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (the scheme in any case), or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def caller_of(authorization: str | None, services: Services, *, required: bool) -> Caller | None:
    """Whom a request's Authorization header stands for: None without a bearer token (unless one
    is required: 401); a bad token is a 401 all the same."""
    token = bearer_token(authorization)
    if token is None:
        if required:
            raise Unauthenticated("no bearer token")
        return None
    return await services.authenticate()(token)


class _Bearer(OAuth2PasswordBearer):
    """The caller, as one dependency (one step for FastAPI to solve per request), declared in the
    schema as the OAuth 2.0 password flow, whose token endpoint Swagger UI's Authorize button uses."""

    def __init__(self, *, required: bool) -> None:
        super().__init__(tokenUrl=TOKEN_PATH, auto_error=False, scheme_name="OAuth2PasswordBearer")
        self.required = required

    async def __call__(self, request: Request) -> Caller | None:  # type: ignore[override]
        services: Services = request.app.state.services
        return await caller_of(request.headers.get("authorization"), services, required=self.required)


AUTHENTICATED = Depends(_Bearer(required=True))
CALLER_IF_ANY = Depends(_Bearer(required=False))

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], generate_unique_id_function=operation_id)


# The form, as the schema tells it (the route reads it itself, to answer as OAuth 2.0 asks).
TOKEN_REQUEST = {
    "required": True,
    "content": {
        FORM: {
            "schema": {
                "type": "object",
                "required": ["grant_type", "username", "password"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["password"]},
                    "username": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": LOGIN_MAX,
                        "description": "a username or an email, without regard to case",
                    },
                    "password": {"type": "string", "maxLength": PASSWORD_MAX, "format": "password"},
                },
            }
        }
    },
}


@router.post(
    "/token",
    dependencies=[Depends(require_media_type(FORM))],
    response_model=TokenOut,
    responses={
        400: problem(
            "A wrong username or password (`invalid_grant`: one answer for all), or no password grant"
            " (`invalid_request`, `unsupported_grant_type`); `error` holds the OAuth 2.0 code"
        ),
        **problems(415, 429, 503),
    },
    openapi_extra={"requestBody": TOKEN_REQUEST},
)
async def issue_token(
    request: Request, issue: IssueToken = provided(lambda services: services.issue_token)
) -> JSONResponse:
    """A bearer token for a username (or email) and password: the OAuth 2.0 password grant."""
    form = await request.form()
    grant_type, username, password = (form.get(name) for name in ("grant_type", "username", "password"))
    if grant_type != "password":
        raise OAuthError("unsupported_grant_type" if grant_type else "invalid_request")
    if not isinstance(username, str) or not isinstance(password, str):
        raise OAuthError("invalid_request")
    if not username or len(username) > LOGIN_MAX or len(password) > PASSWORD_MAX:
        raise OAuthError("invalid_request")
    token = await issue(username, password)
    body = TokenOut(access_token=token.value, token_type="Bearer", expires_in=token.expires_in)  # noqa: S106
    # RFC 6749, 5.1: an answer carrying a token is never cached.
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
