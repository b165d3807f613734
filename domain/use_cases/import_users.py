from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from domain.access import Caller
from domain.errors import InvalidInput, UserConflict
from domain.model import Draft, Profile, User
from domain.ports import Clock, IdSource, PasswordHasher, UserRepository

Row = tuple[int, Draft | str]
"""A line number and what it holds: fields, or why they could not be read."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str | None
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    errors: list[RowError] = field(default_factory=list)


class _Refused(Exception):
    """An atomic import met a bad row: nothing may be written."""


class ImportUsers:
    """Registers users from numbered rows, in batches through the bulk path, checking every row by
    the domain's rules; admins only (Forbidden). A row may bring a `password_hash` from another
    system (a PHC string the hasher recognizes): the user logs in with the same password, and the
    hash is upgraded then. Bad rows are reported by line; the good ones are stored, or, when
    `atomic`, nothing is stored unless every row is good. Reads the rows once, a batch at a time."""

    def __init__(
        self,
        users: UserRepository,
        clock: Clock,
        new_id: IdSource,
        hasher: PasswordHasher,
        batch_size: int = 5000,
    ) -> None:
        self._users, self._clock, self._new_id, self._hasher = users, clock, new_id, hasher
        self._batch_size = batch_size

    async def __call__(
        self,
        caller: Caller,
        rows: Iterable[Row],
        *,
        atomic: bool = False,
        progress: Callable[[int], None] = lambda rows: None,
    ) -> ImportReport:
        caller.must_be_admin()
        report = ImportReport()
        batches = self._batches(iter(rows), report, progress)
        if not atomic:
            for batch in batches:
                await self._store(batch, report)
            return report
        lines: list[int] = []

        async def users() -> AsyncIterator[list[User]]:
            for batch in batches:
                if not report.errors:
                    lines.extend(line for line, _ in batch)
                    yield [user for _, user in batch]
            if report.errors:
                raise _Refused  # after reading every row, so that all bad rows are reported

        try:
            report.stored = await self._users.add_all(users())
        except _Refused:
            pass
        except UserConflict as conflict:
            report.errors += [_taken(lines[item.index or 0], item.field) for item in conflict.conflicts]
        return report

    def _batches(
        self, rows: Iterator[Row], report: ImportReport, progress: Callable[[int], None]
    ) -> Iterator[list[tuple[int, User]]]:
        """The valid rows as users, a batch at a time; the invalid ones go to the report."""
        while chunk := list(islice(rows, self._batch_size)):
            now, batch = self._clock(), []
            for line, draft in chunk:
                if isinstance(draft, str):
                    report.errors.append(RowError(line, None, draft))
                    continue
                try:
                    profile = Profile.parse(draft)
                except InvalidInput as invalid:
                    report.errors += [RowError(line, error.field, error.message) for error in invalid.errors]
                    continue
                password_hash = draft.get("password_hash") or None
                if password_hash is not None and not self._hasher.recognizes(password_hash):
                    report.errors.append(RowError(line, "password_hash", _UNKNOWN_HASH))
                    continue
                batch.append((line, User(self._new_id(), profile, now, now, password_hash=password_hash)))
            report.rows += len(chunk)
            yield batch
            progress(report.rows)

    async def _store(self, batch: list[tuple[int, User]], report: ImportReport) -> None:
        """Stores the batch; rows whose username or email is taken are reported and left out."""
        while batch:
            try:
                await self._users.add_many([user for _, user in batch])
            except UserConflict as conflict:
                taken = {item.index for item in conflict.conflicts}
                report.errors += [
                    _taken(batch[item.index or 0][0], item.field) for item in conflict.conflicts
                ]
                batch = [row for index, row in enumerate(batch) if index not in taken]
            else:
                report.stored += len(batch)
                return


_UNKNOWN_HASH = "must be a PHC string of a supported algorithm (argon2id, bcrypt)"


def _taken(line: int, field: str) -> RowError:
    return RowError(line, field, "is taken (by a stored user or an earlier row)")
