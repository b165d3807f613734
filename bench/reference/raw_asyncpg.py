"""FastAPI + raw asyncpg, as commonly written: the pool opened in the lifespan, SQL in the routes.

BENCH_DATABASE_URL names the database (the project's schema, already migrated).
"""

import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

COLUMNS = "id, username, email, first_name, last_name, created_at, updated_at, version"
INSERT = (
    "INSERT INTO users (id, username, email, first_name, last_name, username_key, email_key, search_text,"
    " created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> Any:
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=2, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


class UserIn(BaseModel):
    username: str
    email: str
    first_name: str | None = None
    last_name: str | None = None


def values(user: UserIn, now: datetime) -> tuple[Any, ...]:
    keys = (user.username.lower(), user.email.lower())
    text = "\n".join([*keys, *(name.lower() for name in (user.first_name, user.last_name) if name)])
    return (uuid4(), user.username, user.email, user.first_name, user.last_name, *keys, text, now)


@app.get("/api/v1/users/{user_id}")
async def get_user(user_id: UUID, request: Request) -> dict[str, Any]:
    row = await request.app.state.pool.fetchrow(f"SELECT {COLUMNS} FROM users WHERE id = $1", user_id)
    if row is None:
        raise HTTPException(404)
    return dict(row)


@app.get("/api/v1/users")
async def list_users(
    request: Request,
    limit: int = 50,
    offset: int = 0,
    after_created_at: datetime | None = None,
    after_id: UUID | None = None,
) -> dict[str, Any]:
    pool = request.app.state.pool
    if after_id is not None:
        rows = await pool.fetch(
            f"SELECT {COLUMNS} FROM users WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3",
            after_created_at,
            after_id,
            limit,
        )
    else:
        rows = await pool.fetch(
            f"SELECT {COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2", limit, offset
        )
    return {"items": [dict(row) for row in rows]}


@app.post("/api/v1/users", status_code=201)
async def create_user(user: UserIn, request: Request) -> dict[str, Any]:
    try:
        row = await request.app.state.pool.fetchrow(
            f"{INSERT} RETURNING {COLUMNS}", *values(user, datetime.now(UTC))
        )
    except asyncpg.UniqueViolationError:
        raise HTTPException(409) from None
    return dict(row)


@app.post("/api/v1/users/bulk", status_code=201)
async def create_users(users: list[UserIn], request: Request) -> dict[str, Any]:
    now = datetime.now(UTC)
    rows = [values(user, now) for user in users]
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        try:
            await connection.executemany(INSERT, rows)
        except asyncpg.UniqueViolationError:
            raise HTTPException(409) from None
    return {
        "items": [
            {**user.model_dump(), "id": row[0], "created_at": now}
            for user, row in zip(users, rows, strict=True)
        ]
    }
