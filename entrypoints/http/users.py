"""The /api/v1/users routes: parse, call one use case, shape the answer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import WithJsonSchema
from starlette.routing import Match
from starlette.types import Scope

from domain.access import Caller
from domain.idempotency import KEY_MAX, KEY_PATTERN, Once
from domain.listing import FILTER_MAX, Sort, UserFilter
from domain.model import PRINTABLE_PATTERN
from domain.use_cases import (
    ChangeUser,
    GetCaller,
    GetUser,
    ListUsers,
    RegisterUser,
    RegisterUsers,
    RemoveUser,
)
from entrypoints.http.auth import AUTHENTICATED, CALLER_IF_ANY
from entrypoints.http.dependencies import provided
from entrypoints.http.headers import etag, expected_versions, next_link, not_modified, require_media_type
from entrypoints.http.openapi import header, operation_id, problem, problems
from entrypoints.http.render import json_response, page_fields, user_json, user_response
from entrypoints.http.schemas import EntityTags, UserCreate, UserList, UserOut, UserPage, UserPatch
from entrypoints.http.stored import created, created_all, stored_response

PREFIX = "/api/v1/users"
BULK_MAX = 1000
LIMIT_MAX, LIMIT_DEFAULT = 200, 50
OFFSET_MAX = 10_000_000
CURSOR_MAX = 2048

USER_PATH = "/{user_id}"  # any segment but `bulk` and `me` (see _UsersRoute); not a UUID: 422


class _UsersRoute(APIRoute):
    """`/{user_id}` never matches `/bulk` or `/me`, so that PATCH on /bulk or /me is a 405 (Allow:
    POST, or GET) and not an attempt to read "bulk" as a user id."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and child["path_params"].get("user_id") in _NOT_IDS:
            return Match.NONE, {}
        return match, child


_NOT_IDS = frozenset({"bulk", "me"})


router = APIRouter(
    prefix=PREFIX,
    tags=["users"],
    responses=problems(401, 422, 500, 503),
    generate_unique_id_function=operation_id,
    route_class=_UsersRoute,
)
# Where a new user leads: the links that clients (and stateful fuzzing) follow.
CREATED_LINKS = {
    name: {"operationId": operation, "parameters": {"user_id": "$response.body#/id"}}
    for name, operation in (
        ("GetUser", "get_user"),
        ("ChangeUser", "change_user"),
        ("RemoveUser", "remove_user"),
    )
}

JSON = Depends(require_media_type("application/json"))
MERGE_PATCH = Depends(require_media_type("application/merge-patch+json", "application/json"))
ETAG = {"ETag": header("The user's version, for If-Match and If-None-Match")}
IfMatch = Annotated[
    EntityTags,
    Header(
        description='`*` or entity tags (`"3"`, `W/"3"`, comma-separated); when none is current, 412'
        " and nothing changes; another shape is a 422",
    ),
]
IfNoneMatch = Annotated[
    EntityTags,
    Header(
        description="`*` or entity tags, compared weakly; when one is current, 304; another shape is a 422",
    ),
]
Filter = Annotated[str | None, Query(min_length=1, max_length=FILTER_MAX, pattern=PRINTABLE_PATTERN)]
# Checked by the domain (a 422 naming `idempotency-key`); the schema publishes the rule.
IdempotencyKey = Annotated[
    str | None,
    Header(
        description="Makes retries safe: a repeat of this request with this key within 24 hours gets"
        " the first answer again (status, body, ETag, Location) and writes nothing; with another body,"
        " 422 `idempotency_key_reused`; while the first still runs, 409 `idempotency_in_progress`."
        " Keys are the caller's own (the token's user; without a token, shared by anyone: make"
        " them unguessable, a UUID for instance)",
    ),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": KEY_PATTERN}),
]
# What a keyed create can answer beyond the others.
KEYED: dict[int | str, dict[str, Any]] = {
    409: problem(
        "Username or email taken (`user_conflict`), or a request with this Idempotency-Key still"
        " running (`idempotency_in_progress`, see Retry-After)"
    ),
    422: problem(
        "Invalid input, or an Idempotency-Key that came with another request (`idempotency_key_reused`)"
    ),
}
CREATED = created(lambda user: f"{PREFIX}/{user.id}")  # how a keyed create's answer is told


@router.post(
    "",
    status_code=201,
    dependencies=[CALLER_IF_ANY, JSON],  # 401 before 415
    response_model=UserOut,
    responses={
        201: {"headers": {**ETAG, "Location": header("The new user's URL")}, "links": CREATED_LINKS},
        **problems(403, 413, 415),
        **KEYED,
    },
)
async def register_user(
    body: UserCreate,
    caller: Caller | None = CALLER_IF_ANY,
    register: RegisterUser = provided(lambda services: services.register_user),
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """An admin registers anyone; without a token, only when the operator opened registration."""
    if idempotency_key is not None:
        return stored_response(await register(caller, body.draft(), Once(idempotency_key, CREATED)))
    user = await register(caller, body.draft())
    return user_response(user, 201, {"Location": f"{PREFIX}/{user.id}"})


@router.post(
    "/bulk",
    status_code=201,
    dependencies=[AUTHENTICATED, JSON],
    response_model=UserList,
    responses={**problems(403, 413, 415), **KEYED},
)
async def register_users(
    body: Annotated[list[UserCreate], Body(min_length=1, max_length=BULK_MAX)],
    caller: Caller = AUTHENTICATED,
    register: RegisterUsers = provided(lambda services: services.register_users),
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """All or nothing: when any item fails, nothing is written and every failing item is named."""
    drafts = [item.draft() for item in body]
    if idempotency_key is not None:
        return stored_response(await register(caller, drafts, Once(idempotency_key, created_all)))
    users = await register(caller, drafts)
    return json_response({"items": [user_json(user) for user in users]}, 201)


@router.get("/me", response_model=UserOut, responses={200: {"headers": ETAG}})
async def get_me(
    caller: Caller = AUTHENTICATED, get: GetCaller = provided(lambda services: services.get_caller)
) -> Response:
    """The caller's own user."""
    return user_response(await get(caller))


@router.get(
    USER_PATH,
    response_model=UserOut,
    responses={
        200: {"headers": ETAG},
        304: {"description": "Not modified", "headers": ETAG},
        **problems(404),
    },
)
async def get_user(
    user_id: UUID,
    caller: Caller = AUTHENTICATED,
    get: GetUser = provided(lambda services: services.get_user),
    if_none_match: IfNoneMatch = None,
) -> Response:
    user = await get(caller, user_id)
    if not_modified(if_none_match, user):
        return Response(status_code=304, headers={"ETag": etag(user)})
    return user_response(user)


@router.get(
    "",
    response_model=UserPage,
    responses={200: {"headers": {"Link": header('The next page, rel="next"')}}, **problems(400, 403)},
)
async def list_users(
    request: Request,
    caller: Caller = AUTHENTICATED,
    list_users: ListUsers = provided(lambda services: services.list_users),
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
    cursor: Annotated[str | None, Query(min_length=1, max_length=CURSOR_MAX)] = None,
    offset: Annotated[int | None, Query(ge=0, le=OFFSET_MAX)] = None,
    sort: Sort = Sort.CREATED_AT,
    email: Filter = None,
    username: Filter = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1, max_length=FILTER_MAX, pattern=PRINTABLE_PATTERN, description="substring, any case"
        ),
    ] = None,
    include_total: bool = False,
) -> Response:
    found = UserFilter.parse(email=email, username=username, q=q)
    page = await list_users(
        caller,
        limit=limit,
        sort=sort,
        filter=found,
        cursor=cursor,
        offset=offset,
        include_total=include_total,
    )
    link = {}
    if page.next_cursor is not None:
        link["Link"] = next_link(request.url.path, request.query_params.multi_items(), page.next_cursor)
    return json_response(page_fields(page), headers=link)


@router.patch(
    USER_PATH,
    dependencies=[AUTHENTICATED, MERGE_PATCH],
    response_model=UserOut,
    responses={200: {"headers": ETAG}, **problems(403, 404, 409, 412, 413, 415, 429)},
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserPatch"}}}
        }
    },
)
async def change_user(
    user_id: UUID,
    body: Annotated[UserPatch, Body(media_type="application/merge-patch+json")],
    caller: Caller = AUTHENTICATED,
    change: ChangeUser = provided(lambda services: services.change_user),
    if_match: IfMatch = None,
) -> Response:
    """A member changes themselves only, never their role, and their password with
    `current_password`; an admin changes anyone. Setting a password or a role revokes the user's
    earlier tokens."""
    user = await change(caller, user_id, body.draft(), expected_versions(if_match))
    return user_response(user)


@router.delete(USER_PATH, status_code=204, responses=problems(404, 409, 412))
async def remove_user(
    user_id: UUID,
    caller: Caller = AUTHENTICATED,
    remove: RemoveUser = provided(lambda services: services.remove_user),
    if_match: IfMatch = None,
) -> Response:
    await remove(caller, user_id, expected_versions(if_match))
    return Response(status_code=204)
