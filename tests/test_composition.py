"""The composition root gives the HTTP entrypoint everything it names, of the type it names."""

import inspect
import typing
from typing import Any

import pytest

from bootstrap import Settings, create_container
from entrypoints.http.dependencies import Services
from entrypoints.http.metrics import Metrics

NEEDED = {
    name: typing.get_args(typing.get_type_hints(member.fget, localns={"Metrics": Metrics})["return"])[1]
    for name, member in inspect.getmembers(Services)
    if isinstance(member, property)
}


def conforms(made: object, expected: Any) -> bool:
    if getattr(expected, "_is_protocol", False):  # a port: every method it declares is there
        return all(hasattr(made, name) for name in vars(expected) if not name.startswith("_"))
    return isinstance(made, typing.get_origin(expected) or expected)


def test_the_entrypoint_names_what_it_needs() -> None:
    assert {"get_user", "list_users", "repository", "metrics", "ready_timeout"} <= set(NEEDED)


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_the_container_provides_each_service_the_entrypoint_names(name: str) -> None:
    container = create_container(Settings(_env_file=None, database_url="memory://"))

    made = getattr(container, name)()

    assert conforms(made, NEEDED[name]), (name, type(made))
