"""The vault: the only holder of key material in the running application.

Sealing and opening require a Grant. Grants are minted by the access layer alone (it takes the
vault's one minter at start-up), after the policy decision and its audit entry. A grant names
the rows it covers; the vault refuses any other row and any grant it did not mint.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
import weakref
from dataclasses import dataclass, field

from ..domain.labels import Label
from .envelope import Binding, IntegrityError, open_fields, seal, seal_fields
from .keys import KeyProblem, KeyProvider

LEVELS = ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")


class GrantRefused(Exception):
    """A seal or open was attempted without a valid grant for that row."""


@dataclass(frozen=True, eq=False)
class Grant:
    grant_id: str
    actor_id: str
    purpose: str  # "read" or "write"
    rows: frozenset[tuple[str, str]]  # (table, row id)
    # the audit entry that recorded the decision behind this grant (its reference while it is
    # queued in the same transaction: shareplatform/audit/log.py)
    audit_seq: int
    tag: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SealedField:
    """Everything needed to open one stored ciphertext."""

    binding: Binding
    level: str
    kek_version: int
    wrapped_key: bytes | None  # None: crypto-shredded
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class SealedRow:
    """Everything needed to open the sealed fields of one row, which share its data key."""

    table: str
    row_id: str
    label: str  # Label.canonical()
    key_id: str
    level: str
    kek_version: int
    wrapped_key: bytes | None  # None: crypto-shredded
    fields: tuple[tuple[str, bytes], ...]  # (column, ciphertext)


@dataclass(frozen=True, slots=True)
class NewDataKey:
    key_id: uuid.UUID
    level: str
    kek_version: int
    wrapped: bytes
    dek: bytes = field(repr=False)


class GrantMinter:
    """Held by the access layer only."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def mint(
        self, actor_id: str, purpose: str, rows: frozenset[tuple[str, str]], audit_seq: int
    ) -> Grant:
        grant_id = uuid.uuid4().hex
        tag = self._vault._tag(grant_id, actor_id, purpose, rows, audit_seq)
        grant = Grant(grant_id, actor_id, purpose, rows, audit_seq, tag)
        self._vault._issued[grant_id] = grant
        return grant


class Vault:
    def __init__(self, provider: KeyProvider) -> None:
        self.provider = provider
        self._mint_key = os.urandom(32)
        self._minter_taken = False
        self._issued: weakref.WeakValueDictionary[str, Grant] = weakref.WeakValueDictionary()
        self.blocked_levels: set[str] = set()  # levels this deployment refuses to serve

    def take_minter(self) -> GrantMinter:
        if self._minter_taken:
            raise GrantRefused("the grant minter has already been taken by the access layer")
        self._minter_taken = True
        return GrantMinter(self)

    def _tag(
        self, grant_id: str, actor: str, purpose: str, rows: frozenset[tuple[str, str]], seq: int
    ) -> bytes:
        canon = "\n".join(sorted(f"{t}:{r}" for t, r in rows))
        msg = f"{grant_id}|{actor}|{purpose}|{seq}|{canon}".encode()
        return hmac.new(self._mint_key, msg, hashlib.sha256).digest()

    def _check(self, grant: Grant, purpose: str, table: str, row_id: str) -> None:
        if not isinstance(grant, Grant) or self._issued.get(grant.grant_id) is not grant:
            raise GrantRefused("not a grant issued by the access layer")
        if grant.purpose != purpose or (table, row_id) not in grant.rows:
            raise GrantRefused(f"grant does not cover {purpose} of {table} {row_id}")

    # -- data keys --------------------------------------------------------------------------
    def new_data_key(self, label: Label, version: int) -> NewDataKey:
        """A fresh data key for `label`, wrapped under `version`: the level's current KEK version
        as the writing transaction read it (shareplatform/crypto/keyring.py, version_for_write)."""
        level = label.classification.marking
        if level in self.blocked_levels:
            raise KeyProblem(f"{level} material is not written under this key provider")
        dek = os.urandom(32)
        return NewDataKey(
            uuid.uuid4(), level, version, self.provider.wrap(level, version, dek), dek
        )

    def seal(self, grant: Grant, key: NewDataKey, binding: Binding, plaintext: str) -> bytes:
        self._check(grant, "write", binding.table, binding.row_id)
        if binding.key_id != str(key.key_id):
            raise GrantRefused("binding names another data key")
        return seal(key.dek, binding, plaintext)

    def seal_row(
        self,
        grant: Grant,
        key: NewDataKey,
        table: str,
        row_id: str,
        label: str,
        values: dict[str, str],
    ) -> dict[str, bytes]:
        """Seal several fields of one row under its new data key, each bound to its column."""
        self._check(grant, "write", table, row_id)
        return seal_fields(key.dek, table, row_id, label, str(key.key_id), values)

    def open(self, grant: Grant, item: SealedField) -> str:
        return self.open_row(grant, [item])[0]

    def open_row(self, grant: Grant, items: list[SealedField]) -> list[str]:
        """Open several fields of one row that share a data key: one unwrap for all of them."""
        first = items[0]
        b = first.binding
        for item in items:
            self._check(grant, "read", item.binding.table, item.binding.row_id)
            if (item.wrapped_key, item.level, item.kek_version) != (
                first.wrapped_key,
                first.level,
                first.kek_version,
            ) or (item.binding.row_id, item.binding.label, item.binding.key_id) != (
                b.row_id,
                b.label,
                b.key_id,
            ):
                raise IntegrityError("open_row takes fields of one row under one data key")
        row = SealedRow(
            b.table,
            b.row_id,
            b.label,
            b.key_id,
            first.level,
            first.kek_version,
            first.wrapped_key,
            tuple((item.binding.column, item.ciphertext) for item in items),
        )
        return self.open_sealed_row(grant, row)

    def open_sealed_row(self, grant: Grant, row: SealedRow) -> list[str]:
        """Open every sealed field of one row: one grant check, one unwrap, one AES context."""
        self._check(grant, "read", row.table, row.row_id)
        if row.level in self.blocked_levels:
            raise GrantRefused(f"{row.level} material is not served from this key provider")
        if row.wrapped_key is None:
            raise IntegrityError(f"{row.table} row {row.row_id} has been shredded")
        if row.level != row.label.split("|", 1)[0]:
            # the data key was wrapped for another level than the row's label claims
            raise IntegrityError(f"label and key level disagree for row {row.row_id}")
        try:
            dek = self.provider.unwrap(row.level, row.kek_version, row.wrapped_key)
        except Exception as exc:  # InvalidUnwrap or a provider error: never plaintext
            raise IntegrityError(f"data key unwrap failed for row {row.row_id}") from exc
        return open_fields(dek, row.table, row.row_id, row.label, row.key_id, row.fields)
