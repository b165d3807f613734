"""The floor: FastAPI answering users from a dict in memory, and a constant JSON answer.

The dict holds the users of BENCH_DATABASE_URL, read once at start.
"""

import os
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException

USERS: dict[str, dict[str, Any]] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> Any:
    connection = await asyncpg.connect(os.environ["BENCH_DATABASE_URL"])
    rows = await connection.fetch(
        "SELECT id, username, email, first_name, last_name, created_at, updated_at, version FROM users"
    )
    await connection.close()
    USERS.update(
        (
            str(row["id"]),
            {
                **row,
                "id": str(row["id"]),
                "created_at": row["created_at"].isoformat(),
                "updated_at": row["updated_at"].isoformat(),
            },
        )
        for row in rows
    )
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/api/v1/users/{user_id}")
async def get_user(user_id: str) -> dict[str, Any]:
    user = USERS.get(user_id)
    if user is None:
        raise HTTPException(404)
    return user


@app.get("/constant")
async def constant() -> dict[str, str]:
    return {"status": "ok"}
