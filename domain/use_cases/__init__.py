"""One class per thing a client can do with users."""

from domain.use_cases.change_user import ChangeUser
from domain.use_cases.get_user import GetUser
from domain.use_cases.import_users import ImportReport, ImportUsers, Row, RowError
from domain.use_cases.list_users import ListUsers, Page
from domain.use_cases.register_users import RegisterUser, RegisterUsers
from domain.use_cases.remove_user import RemoveUser

__all__ = [
    "ChangeUser",
    "GetUser",
    "ImportReport",
    "ImportUsers",
    "ListUsers",
    "Page",
    "RegisterUser",
    "RegisterUsers",
    "RemoveUser",
    "Row",
    "RowError",
]
