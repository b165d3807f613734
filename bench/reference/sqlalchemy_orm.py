"""FastAPI + SQLAlchemy ORM with a session per request, as commonly written, on the project's table.

BENCH_DATABASE_URL names the database (postgresql://...; the asyncpg dialect is added here).
"""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from adapters.schema.tables import users


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __table__ = users


engine = create_async_engine(
    os.environ["BENCH_DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=10
)
Session = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def session() -> AsyncIterator[AsyncSession]:
    async with Session() as db:
        yield db


Db = Annotated[AsyncSession, Depends(session)]


class UserIn(BaseModel):
    username: str
    email: str
    first_name: str | None = None
    last_name: str | None = None


class UserOut(UserIn):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    created_at: datetime
    updated_at: datetime
    version: int


@app.get("/api/v1/users/{user_id}", response_model=UserOut)
async def get_user(user_id: UUID, db: Db) -> UserRow:
    user = await db.get(UserRow, user_id)
    if user is None:
        raise HTTPException(404)
    return user


@app.get("/api/v1/users")
async def list_users(db: Db, limit: int = 50, offset: int = 0) -> dict[str, list[UserOut]]:
    rows = await db.scalars(
        select(UserRow).order_by(users.c.created_at, users.c.id).limit(limit).offset(offset)
    )
    return {"items": [UserOut.model_validate(row) for row in rows]}


@app.post("/api/v1/users", status_code=201, response_model=UserOut)
async def create_user(user: UserIn, db: Db) -> UserRow:
    now = datetime.now(UTC)
    keys = (user.username.lower(), user.email.lower())
    row = UserRow(
        id=uuid4(),
        **user.model_dump(),
        username_key=keys[0],
        email_key=keys[1],
        search_text="\n".join(keys),
        created_at=now,
        updated_at=now,
        version=1,
    )
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:
        raise HTTPException(409) from None
    return row
