"""One class per thing a client can do with users."""

from domain.use_cases.authenticate import Authenticate, RecentVersions
from domain.use_cases.change_user import ChangeUser
from domain.use_cases.first_admin import CreateFirstAdmin
from domain.use_cases.get_caller import GetCaller
from domain.use_cases.get_user import GetUser
from domain.use_cases.import_users import ImportReport, ImportUsers, Row, RowError
from domain.use_cases.issue_token import IssueToken
from domain.use_cases.list_users import ListUsers, Page
from domain.use_cases.password_check import PasswordCheck
from domain.use_cases.register_users import RegisterUser, RegisterUsers
from domain.use_cases.remove_user import RemoveUser

__all__ = [
    "Authenticate",
    "ChangeUser",
    "CreateFirstAdmin",
    "GetCaller",
    "GetUser",
    "ImportReport",
    "ImportUsers",
    "IssueToken",
    "ListUsers",
    "Page",
    "PasswordCheck",
    "RecentVersions",
    "RegisterUser",
    "RegisterUsers",
    "RemoveUser",
    "Row",
    "RowError",
]
