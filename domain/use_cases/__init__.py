"""One class per thing a client can do with users."""

from domain.use_cases.change_user import ChangeUser
from domain.use_cases.get_user import GetUser
from domain.use_cases.list_users import ListUsers, Page
from domain.use_cases.register_users import RegisterUser, RegisterUsers
from domain.use_cases.remove_user import RemoveUser

__all__ = ["ChangeUser", "GetUser", "ListUsers", "Page", "RegisterUser", "RegisterUsers", "RemoveUser"]
