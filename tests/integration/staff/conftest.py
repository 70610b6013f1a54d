"""Staff accounts for the tests: one per role, made through the service like `user add`."""

from __future__ import annotations

from dataclasses import dataclass

from kontingent.app import Services
from kontingent.staff.audit import Actor, Channel, Entry
from kontingent.staff.model import Role
from tests.support import BIELEFELD

PASSWORD = "richtig langes Passwort"
BY_CLI = Entry(Actor("cli:test"), "", Channel.cli)


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: Role
    password: str = PASSWORD


ACCOUNTS = {
    Role.agent: Account("agent.anna", Role.agent),
    Role.centre_staff: Account("centre.carl", Role.centre_staff),
    Role.admin: Account("admin.ada", Role.admin),
}


async def add_accounts(services: Services) -> dict[Role, Account]:
    for account in ACCOUNTS.values():
        centres = [BIELEFELD] if account.role is Role.centre_staff else []
        await services.staff.add_user(
            account.username, account.role, account.password, centres, BY_CLI
        )
    return ACCOUNTS
