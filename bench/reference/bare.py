"""The floor: FastAPI over a dict, as a hand-written app without storage would be, and a constant
JSON answer. It serves the users of BENCH_DATABASE_URL, read once at start: one by id, a page of a
list sorted once per sort at start (`after` is a position in it, the cheapest cursor there is), and
a create that checks the two unique keys in dicts.
"""

import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

USERS: dict[str, dict[str, Any]] = {}
KEYS: dict[str, set[str]] = {"username": set(), "email": set()}
SORTED: dict[str, list[dict[str, Any]]] = {}
SORTS = {"created_at": "created_at", "username": "username", "email": "email"}


@asynccontextmanager
async def lifespan(app: FastAPI) -> Any:
    connection = await asyncpg.connect(os.environ["BENCH_DATABASE_URL"])
    rows = await connection.fetch(
        "SELECT id, username, email, first_name, last_name, created_at, updated_at, version FROM users"
    )
    await connection.close()
    for row in rows:
        user = {
            **row,
            "id": str(row["id"]),
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
        }
        USERS[user["id"]] = user
        KEYS["username"].add(user["username"].lower())
        KEYS["email"].add(user["email"].lower())
    for name, field in SORTS.items():
        ordered = sorted(USERS.values(), key=lambda user: (str(user[field]).lower(), user["id"]))
        SORTED[name], SORTED[f"-{name}"] = ordered, ordered[::-1]
    yield


app = FastAPI(lifespan=lifespan)


class UserIn(BaseModel):
    username: str
    email: str
    first_name: str | None = None
    last_name: str | None = None


@app.get("/api/v1/users/{user_id}")
async def get_user(user_id: str) -> dict[str, Any]:
    user = USERS.get(user_id)
    if user is None:
        raise HTTPException(404)
    return user


@app.get("/api/v1/users")
async def list_users(limit: int = 50, sort: str = "created_at", after: int = 0) -> dict[str, Any]:
    return {"items": SORTED[sort][after : after + limit]}


@app.post("/api/v1/users", status_code=201)
async def create_user(user: UserIn) -> dict[str, Any]:
    username, email = user.username.lower(), user.email.lower()
    if username in KEYS["username"] or email in KEYS["email"]:
        raise HTTPException(409)
    KEYS["username"].add(username)
    KEYS["email"].add(email)
    now = datetime.now(UTC).isoformat()
    created = {**user.model_dump(), "id": str(uuid4()), "created_at": now, "updated_at": now, "version": 1}
    USERS[created["id"]] = created
    return created


@app.get("/constant")
async def constant() -> dict[str, str]:
    return {"status": "ok"}
