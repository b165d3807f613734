"""The requests clients send most, answered without FastAPI's routing, dependency solving and
validation, which cost more than the answer itself: GET /api/v1/users/{id} (a canonical UUID, no
If-None-Match), a plain GET /api/v1/users (limit, cursor and sort at most, each in its canonical
form) and POST /api/v1/users with a JSON body that is valid as sent (with an Idempotency-Key or not).

The answers are the routes' own: the same use cases, rendering and problems. Anything else (another
spelling, another parameter, a body that does not validate) goes on to the FastAPI routes, which
remain the reference and the schema; tests/api/test_fast_path.py sends the same requests both ways
and requires the same answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import DomainError
from domain.idempotency import Once
from domain.listing import Sort
from entrypoints.http.auth import caller_of
from entrypoints.http.dependencies import Services
from entrypoints.http.headers import next_link
from entrypoints.http.problems import HTTP_KINDS, domain_error, problem
from entrypoints.http.render import page_fields, send_json, send_user
from entrypoints.http.schemas import UserCreate
from entrypoints.http.stored import send_stored
from entrypoints.http.users import CREATED, CURSOR_MAX, LIMIT_DEFAULT, LIMIT_MAX, PREFIX

_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_SORTS = {sort.value: sort for sort in Sort}
_READ = (b"authorization", b"content-type", b"if-none-match", b"idempotency-key")  # the headers read


class FastPath:
    """A middleware in front of `app`: it answers what it can, and hands `app` the rest."""

    def __init__(self, app: ASGIApp, services: Services, routes: Mapping[str, BaseRoute]) -> None:
        self.app, self.services = app, services
        # The routes whose requests are answered here: the metrics and the log name them.
        self.one, self.page, self.create = routes["get_user"], routes["list_users"], routes["register_user"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")  # a lifespan has none
        if scope["type"] == "http" and path.startswith(PREFIX):
            method = scope["method"]
            rest = path[len(PREFIX) :]
            headers = _headers(scope)
            if method == "GET" and not rest:
                query = _plain_page(scope["query_string"])
                if query is not None:
                    await self._page(scope, receive, send, headers, *query)
                    return
            elif method == "GET" and _ID.fullmatch(rest) and b"if-none-match" not in headers:
                await self._one(scope, receive, send, headers, UUID(rest[1:]))
                return
            elif method == "POST" and not rest and _media_type(headers) == b"application/json":
                await self._create(scope, receive, send, headers)
                return
        await self.app(scope, receive, send)

    async def _one(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, str], user_id: UUID
    ) -> None:
        scope["route"] = self.one
        try:
            caller = await caller_of(headers.get(b"authorization"), self.services, required=True)
            assert caller is not None
            user = await self.services.get_user()(caller, user_id)
        except DomainError as error:
            await _problem(scope, receive, send, error)
            return
        await send_user(send, user)

    async def _page(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, str],
        query: list[tuple[str, str]],
        limit: int,
        sort: Sort,
        cursor: str | None,
    ) -> None:
        scope["route"] = self.page
        try:
            caller = await caller_of(headers.get(b"authorization"), self.services, required=True)
            assert caller is not None
            page = await self.services.list_users()(caller, limit=limit, sort=sort, cursor=cursor)
        except DomainError as error:
            await _problem(scope, receive, send, error)
            return
        link = {} if page.next_cursor is None else {"Link": next_link(scope["path"], query, page.next_cursor)}
        await send_json(send, page_fields(page), headers=link)

    async def _create(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, str]) -> None:
        try:
            body = await _body(receive)
        except HTTPException as refused:  # over the limit, or too slow, as the edge counts it
            await problem(HTTP_KINDS[refused.status_code], headers=dict(refused.headers or {}))(
                scope, receive, send
            )
            return
        try:
            draft = UserCreate.model_validate(orjson.loads(body)).draft()
        except (orjson.JSONDecodeError, ValidationError):
            # The route reads the body again, and says what is wrong in its own words.
            await self.app(scope, _replay(body, receive), send)
            return
        scope["route"] = self.create
        key = headers.get(b"idempotency-key")
        try:
            caller = await caller_of(headers.get(b"authorization"), self.services, required=False)
            if key is not None:
                answer = await self.services.register_user()(caller, draft, Once(key, CREATED))
            else:
                user = await self.services.register_user()(caller, draft)
        except DomainError as error:
            await _problem(scope, receive, send, error)
            return
        if key is not None:
            await send_stored(send, answer)
        else:
            await send_user(send, user, 201, {"Location": f"{PREFIX}/{user.id}"})


def _headers(scope: Scope) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _READ and name not in found:  # the first of each, as Starlette reads them
            found[name] = value.decode("latin-1")
    return found


def _media_type(headers: dict[bytes, str]) -> bytes:
    return headers.get(b"content-type", "").split(";")[0].strip().lower().encode("latin-1")


def _plain_page(raw: bytes) -> tuple[list[tuple[str, str]], int, Sort, str | None] | None:
    """limit, sort and cursor, each at most once and in its canonical form (nothing escaped: none of
    their values needs it); None for anything else."""
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return None
    query = []
    for pair in text.split("&") if text else ():
        name, equals, value = pair.partition("=")
        if not equals:
            return None
        query.append((name, value))
    given = dict(query)
    if len(given) != len(query) or not given.keys() <= {"limit", "sort", "cursor"}:
        return None
    limit = given.get("limit", str(LIMIT_DEFAULT))
    sort, cursor = given.get("sort", Sort.CREATED_AT.value), given.get("cursor")
    if not _LIMIT.fullmatch(limit) or int(limit) > LIMIT_MAX or sort not in _SORTS:
        return None
    if cursor is not None and not 1 <= len(cursor) <= CURSOR_MAX:
        return None
    return query, int(limit), _SORTS[sort], cursor


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever comes next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _problem(scope: Scope, receive: Receive, send: Send, error: DomainError) -> None:
    response: Any = await domain_error(Request(scope, receive), error)
    await response(scope, receive, send)
