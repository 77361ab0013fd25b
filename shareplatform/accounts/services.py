"""Creating and listing users. Sign-in flows live with the web journey."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto.service_secrets import ServiceSecrets
from ..domain.agencies import CT_UNITS, NSD_UNITS, Agency, Role
from ..domain.errors import InvalidValue
from ..domain.vetting import Vetting, VettingStatus
from . import secrets
from .models import User


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    role: str
    vetting: str
    vetting_expires: date | None
    agency: str | None = None
    nsd_unit: str | None = None
    ct_unit: str | None = None


def validate_user(data: NewUser) -> tuple[Role, Agency, Vetting]:
    username = data.username.strip()
    if (
        not username
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
        or len(username) > 64
    ):
        raise InvalidValue(
            "username", data.username, why="use letters, numbers, dots, hyphens or underscores"
        )
    if not data.display_name.strip():
        raise InvalidValue("name", data.display_name, why="enter the person's name")
    role = Role.parse(data.role)
    agency = Agency.parse(data.agency) if data.agency else role.info.agency
    if agency is not role.info.agency:
        raise InvalidValue(
            "agency", data.agency, why=f"a {role.title} belongs to {role.info.agency.value}"
        )
    vetting = Vetting.parse(data.vetting)
    if data.nsd_unit and data.nsd_unit not in NSD_UNITS:
        raise InvalidValue("NSD unit", data.nsd_unit, list(NSD_UNITS))
    if data.ct_unit and data.ct_unit not in CT_UNITS:
        raise InvalidValue("CT unit", data.ct_unit, list(CT_UNITS))
    return role, agency, vetting


def create_user(session: Session, data: NewUser, password: str | None = None) -> User:
    role, agency, vetting = validate_user(data)
    if session.scalar(select(User.id).where(User.username == data.username.strip())) is not None:
        raise InvalidValue("username", data.username, why="that username is already taken")
    user = User(
        id=uuid.uuid4(),
        username=data.username.strip(),
        display_name=data.display_name.strip(),
        agency=agency.value,
        role=role.value,
        vetting=vetting.value,
        vetting_expires=data.vetting_expires,
        nsd_unit=data.nsd_unit or None,
        ct_unit=data.ct_unit or None,
        password_hash=secrets.hash_password(password) if password else None,
        must_enrol=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def set_totp(session: Session, sealer: ServiceSecrets, user: User, secret: str) -> None:
    user.totp_secret_sealed = sealer.seal_totp(user.id, secret)
    user.totp_last_step = None
    user.must_enrol = False


def totp_secret(sealer: ServiceSecrets, user: User) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    return sealer.open_totp(user.id, user.totp_secret_sealed)


@dataclass(frozen=True)
class UserSummary:
    username: str
    display_name: str
    agency: str
    role: str
    vetting: str
    vetting_expires: str | None
    vetting_expired: bool
    in_corridor: bool
    nsd_unit: str | None
    ct_unit: str | None
    disabled: bool


def list_users(session: Session, today: date) -> list[UserSummary]:
    out = []
    for u in session.scalars(select(User).order_by(User.agency, User.role, User.username)):
        status = VettingStatus(Vetting.parse(u.vetting), u.vetting_expires)
        out.append(
            UserSummary(
                u.username,
                u.display_name,
                u.agency,
                u.role,
                u.vetting,
                u.vetting_expires.isoformat() if u.vetting_expires else None,
                status.expired(today),
                Role.parse(u.role).in_corridor,
                u.nsd_unit,
                u.ct_unit,
                u.disabled_at is not None,
            )
        )
    return out
