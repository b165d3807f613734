"""Ten people whose order in every sort is worked out by hand, not by the code under test.

The rule: usernames and emails sort by their canonical key (NFKC, case-folded) compared by code
point; created_at sorts by time; the id always breaks the last tie. The people are stored in an
order that follows neither their time nor their id, so a sort that falls back on storage order shows.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

T0 = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    email: str
    second: int  # created at T0 + this many seconds: three groups of people share a time
    rank: int  # the order of this person's id among everyone's

    @property
    def id(self) -> UUID:
        return UUID(f"01936f0e-7a5c-7000-8000-{self.rank:012x}")

    @property
    def created_at(self) -> datetime:
        return T0 + timedelta(seconds=self.second)

    @property
    def draft(self) -> dict[str, str | None]:
        return {"username": self.username, "email": self.email}


PEOPLE = (  # in the order they are stored
    Person("mallory", "Mallory@example.com", 2, 6),
    Person("Bob", "BOB@example.com", 0, 3),
    Person("alice", "Émile@example.com", 1, 10),  # key "émile@...": é sorts after every ASCII letter
    Person("a_z", "émile2@example.com", 0, 1),  # "2" sorts before "@": émile2@ comes before émile@
    Person("aBc", "Zoë@example.com", 1, 2),
    Person("Zed", "straße@example.com", 2, 4),  # key "strasse@...": before "strassen@" ("@" < "n")
    Person("yan", "strassen@example.com", 1, 7),
    Person("carol", "carol@example.com", 0, 8),
    Person("Dave", "dave@example.com", 2, 5),
    Person("Ann-2", "E\u0301mile3@example.com", 1, 9),  # E + combining acute: NFKC makes it "émile3@..."
)

# Raw code-point order would put capitals first (Bob, Dave, Zed, Zoë, Émile) and "aBc" before "a_z".
EXPECTED = {
    "created_at": ["a_z", "Bob", "carol", "aBc", "yan", "Ann-2", "alice", "Zed", "Dave", "mallory"],
    "-created_at": ["mallory", "Dave", "Zed", "alice", "Ann-2", "yan", "aBc", "carol", "Bob", "a_z"],
    "username": ["a_z", "aBc", "alice", "Ann-2", "Bob", "carol", "Dave", "mallory", "yan", "Zed"],
    "-username": ["Zed", "yan", "mallory", "Dave", "carol", "Bob", "Ann-2", "alice", "aBc", "a_z"],
    "email": ["Bob", "carol", "Dave", "mallory", "Zed", "yan", "aBc", "a_z", "Ann-2", "alice"],
    "-email": ["alice", "Ann-2", "a_z", "aBc", "yan", "Zed", "mallory", "Dave", "carol", "Bob"],
}


class ScriptedIds:
    """An id source that hands out the people's ids in the order they are stored."""

    def __init__(self) -> None:
        self._ids = iter([person.id for person in PEOPLE])

    def __call__(self) -> UUID:
        return next(self._ids)
