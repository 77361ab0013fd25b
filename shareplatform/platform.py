"""The platform's security kernel, assembled from configuration. No Flask here.

One Platform per application: the database, the key provider, the vault, the audit log and the
access layer. The vault is handed to the access layer and to nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from .access.kernel import AccessLayer
from .access.keys import KeyAdmin
from .access.sealing import Sealer
from .access.system import SystemWriter
from .audit.log import AuditLog, Signer
from .audit.witness import witness_for
from .config import Config
from .crypto import keyring
from .crypto.attested import INFO_KEY as ATTESTOR
from .crypto.attested import Attestor
from .crypto.blind_index import BlindIndexer
from .crypto.keys import FileKeyProvider, KeyProblem, KeyProvider
from .crypto.keywatch import KeyWatch
from .crypto.service_secrets import ServiceSecrets
from .crypto.vault import Vault
from .db import Database
from .subjects import load_subject

log = logging.getLogger(__name__)


class NotMigrated(RuntimeError):
    pass


def provider_for(config: Config) -> KeyProvider:
    """The key provider the configuration selects (SHAREPLATFORM_KEY_PROVIDER)."""
    if config.KEY_PROVIDER == "file":
        return FileKeyProvider(config.KEYS_DIR)
    if config.KEY_PROVIDER == "pkcs11":
        from .crypto.pkcs11 import Pkcs11KeyProvider  # needs python-pkcs11 and the HSM module

        return Pkcs11KeyProvider(
            config.PKCS11_MODULE,
            config.PKCS11_TOKEN,
            config.PKCS11_PIN,
            dek_cache_seconds=config.PKCS11_DEK_CACHE_SECONDS,
        )
    raise KeyProblem(f"unknown key provider {config.KEY_PROVIDER!r}: use 'file' or 'pkcs11'")


class Platform:
    def __init__(self, config: Config, provider: KeyProvider | None = None) -> None:
        self.config = config
        self.db = Database(config.DATABASE_URL, config.connection_limits())
        # management information may read from a standby (shareplatform/reports/source.py)
        self.reports_db = (
            Database(config.REPORTS_DATABASE_URL, config.connection_limits())
            if config.REPORTS_DATABASE_URL
            else self.db
        )
        self.provider: KeyProvider = provider or provider_for(config)
        self._bound = False
        self._lock = threading.Lock()
        self._access: AccessLayer | None = None
        self._key_admin: KeyAdmin | None = None
        self._system_writer: SystemWriter | None = None
        self._service_secrets: ServiceSecrets | None = None
        self._indexer: BlindIndexer | None = None
        self._attestor: Attestor | None = None
        # every session made here (the standby's for reports too) can stamp and check
        # authorisation facts
        self.db.sessions.configure(info={ATTESTOR: self.attestor})
        if self.reports_db is not self.db:
            self.reports_db.sessions.configure(info={ATTESTOR: self.attestor})
        self.key_watch = KeyWatch(
            self.db.transaction,
            self.provider,
            interval=config.KEY_WATCH_SECONDS,
            ttl=config.KEY_WATCH_TTL_SECONDS,
        )

    # The kernel is bound lazily: the database may not be migrated when the app object is built.
    def bind(self) -> None:
        if self._bound:
            return
        with self._lock:
            if self._bound:
                return
            if not inspect(self.db.engine).has_table("kek_versions"):
                raise NotMigrated("the database is not set up: run `flask --app wsgi db upgrade`")
            vault = Vault(self.provider)
            with self.db.transaction() as session:
                keyring.bind(session, self.provider)
            if (
                self.config.PRODUCTION
                and isinstance(self.provider, FileKeyProvider)
                and not self.config.ALLOW_FILE_KEYS_FOR_SECRET
            ):
                vault.blocked_levels.add("SECRET")  # no SECRET written or served under file keys
            seed = self.provider.secret("signing")
            if seed is None:
                raise KeyProblem("signing key missing")
            signer = Signer(seed)
            audit = AuditLog(
                signer,
                self.config.AUDIT_CHECKPOINT_EVERY,
                self.config.AUDIT_CHECKPOINT_SECONDS,
                witness_for(self.config.AUDIT_WITNESS),
            )
            sealer = Sealer(vault)  # the vault's one grant minter, shared by the two below
            self._access = AccessLayer(sealer, audit, load_subject)
            self._system_writer = SystemWriter(sealer, audit)
            self._key_admin = KeyAdmin(self.db.transaction, self.provider, audit)
            self._indexer = keyring.indexer(self.provider)
            self._bound = True

    @property
    def access(self) -> AccessLayer:
        self.bind()
        assert self._access is not None
        return self._access

    @property
    def key_admin(self) -> KeyAdmin:
        """Key operations, for the command line only (shareplatform/access/keys.py)."""
        self.bind()
        assert self._key_admin is not None
        return self._key_admin

    @property
    def system_writer(self) -> SystemWriter:
        """Writing as the system, for the command line, importer and demo seeding only."""
        self.bind()
        assert self._system_writer is not None
        return self._system_writer

    @property
    def indexer(self) -> BlindIndexer:
        self.bind()
        assert self._indexer is not None
        return self._indexer

    def attestor(self) -> Attestor:
        """The fact-stamping key (shareplatform/crypto/attested.py), derived from the signing
        secret; read from the provider without touching the database."""
        if self._attestor is None:
            seed = self.provider.secret("signing")
            if seed is None:
                raise KeyProblem("signing key missing")
            self._attestor = Attestor.from_signing_seed(seed)
        return self._attestor

    @property
    def signer(self) -> Signer:
        return self.access.audit.signer

    @property
    def service_secrets(self) -> ServiceSecrets:
        """Second-factor sealing and the cookie-signing key; the raw service key stays inside."""
        self.bind()
        if self._service_secrets is None:
            key = self.provider.secret("service")
            if key is None:
                raise KeyProblem("service key missing")
            self._service_secrets = ServiceSecrets(key)
        return self._service_secrets

    def keys_ready(self, session: Session) -> bool:
        """Does the key provider still hold the current KEK version of every level the database
        names? (/readyz: a lost HSM session or device answers unready.)"""
        try:
            current = keyring.current_versions(session)
            return all(
                version in self.provider.kek_versions(level) for level, version in current.items()
            )
        except Exception:  # a provider error is an unready answer, named in the log
            log.exception("the key provider did not answer")
            return False

    def close(self) -> None:
        """Stop the key watch (withdrawing this process's report) and close the database."""
        self.key_watch.stop()
        self.db.dispose()
        if self.reports_db is not self.db:
            self.reports_db.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.db.transaction() as session:
            yield session
