"""The PKCS#11 key provider against a real SoftHSM2 token: KEKs never leave the token, the wrap
format matches the file provider's, and a whole platform runs, rotates and refuses on it.

SoftHSM reads SOFTHSM2_CONF and scans its token folder once, when the module is first loaded in
the process, so every token these tests use is initialised up front in one temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy import select

from shareplatform.access import policy_files, store
from shareplatform.cases.models import Case
from shareplatform.cases.services import search_nominals
from shareplatform.config import Config
from shareplatform.crypto import keyring
from shareplatform.crypto.keys import KeyProblem
from shareplatform.crypto.vault import GrantRefused
from shareplatform.migrate import upgrade
from shareplatform.platform import Platform, provider_for
from shareplatform.records.services import RecordView, timeline
from tests.factories import DEMO_PASSWORD, DEMO_TOTP, SeededCopy, ctx_for, make_config
from tests.security.demo_support import secret_items

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
)
PIN = "246810"
SO_PIN = "13579113"
TOKENS = (
    "main",
    "threads",
    "platform",
    "rotate",
    "other",
    "empty",
    "compat",
    "prod",
    "env",
    "forget",
)


def _module() -> str | None:
    return next((m for m in MODULE_CANDIDATES if Path(m).exists()), None)


@dataclass
class Hsm:
    module: str
    tokendir: Path

    def provider(self, token: str, cache: float = 30.0):  # type: ignore[no-untyped-def]
        from shareplatform.crypto.pkcs11 import Pkcs11KeyProvider

        return Pkcs11KeyProvider(self.module, f"sp-{token}", PIN, dek_cache_seconds=cache)


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    module = _module()
    missing = [
        what
        for what, ok in (
            ("softhsm2-util", shutil.which("softhsm2-util")),
            ("libsofthsm2.so", module),
        )
        if not ok
    ]
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        missing.append("python-pkcs11")
    if missing:
        if os.environ.get("SHAREPLATFORM_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SoftHSM2 is required under make test but {', '.join(missing)} is missing")
        pytest.skip(f"SoftHSM2 not available here: {', '.join(missing)}")
    assert module is not None
    from shareplatform.crypto import pkcs11 as provider_module

    if module in provider_module._libs:
        pytest.fail("the SoftHSM module was loaded before this test module set SOFTHSM2_CONF")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in TOKENS:
        subprocess.run(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                f"sp-{label}",
                "--pin",
                PIN,
                "--so-pin",
                SO_PIN,
            ],
            check=True,
            capture_output=True,
            env=env,
        )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by SoftHSM when the module is first loaded
    try:
        yield Hsm(module, root / "tokens")
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def _hsm_platform(db_url: str, keys_dir: Path, provider, **config: object) -> Platform:  # type: ignore[no-untyped-def]
    cfg = make_config(db_url, keys_dir)
    for name, value in config.items():
        setattr(cfg, name, value)
    return Platform(cfg, provider=provider)


def _seed_over_hsm(hsm: Hsm, token: str, root: Path) -> tuple[Platform, str]:
    from shareplatform.demo.seed import seed

    url = f"sqlite:///{root / 'db.sqlite'}"
    upgrade(url)
    platform = _hsm_platform(url, root / "no-keys", hsm.provider(token))
    platform.bind()
    with platform.transaction() as session:
        store.replace_rules(session, policy_files.read())
    seed(platform, password=DEMO_PASSWORD, totp_secret=DEMO_TOTP)
    return platform, url


def _secret_views(platform: Platform, username: str, reference: str) -> list[RecordView]:
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, username)
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        assert case_id is not None
        items = timeline(ctx, case_id).items
    return [i for i in items if isinstance(i, RecordView) and i.classification == "SECRET"]


def _secret_markers(platform: Platform, username: str, reference: str) -> set[str]:
    """The demo's SECRET minutes this user reads on the case, found by label and id and named
    "<reference>-0" (the closed session note) or "-1" (the ORCON briefing); each decrypted body
    must be the text the seed wrote."""
    views = _secret_views(platform, username, reference)
    items = {i.id: i for i in secret_items(platform) if i.kind == "record"}
    names = set()
    for v in views:
        item = items[v.id]
        assert v.body == item.text
        names.add(f"{item.case_reference}-{0 if 'Closed session' in item.text else 1}")
    return names


@pytest.fixture(scope="module")
def seeded_hsm(
    hsm: Hsm, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Platform, str]]:
    """The demo data set sealed under KEKs in the 'platform' token (read-only use)."""
    root = tmp_path_factory.mktemp("hsm-platform")
    platform, url = _seed_over_hsm(hsm, "platform", root)
    yield platform, url
    platform.db.dispose()
    platform.provider.close()  # type: ignore[attr-defined]


# -- the provider on its own ----------------------------------------------------------------------
def test_provider_round_trip_keeps_keks_in_the_token(hsm: Hsm) -> None:
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    provider = hsm.provider("main", cache=0)
    try:
        assert provider.kek_versions("SECRET") == []
        provider.create_kek("SECRET", 1)
        provider.create_kek("SECRET", 2)
        provider.create_kek("OFFICIAL-SENSITIVE", 1)
        assert provider.kek_versions("SECRET") == [1, 2]
        assert provider.kek_versions("OFFICIAL-SENSITIVE") == [1]
        assert provider.kek_versions("OFFICIAL") == []
        with pytest.raises(KeyProblem, match="already exists"):
            provider.create_kek("SECRET", 1)

        dek = os.urandom(32)
        wrapped = provider.wrap("SECRET", 1, dek)
        assert len(wrapped) == 40 and dek not in wrapped
        assert provider.unwrap("SECRET", 1, wrapped) == dek
        assert provider.wrap("SECRET", 1, dek) == wrapped  # AES key wrap is deterministic
        assert provider.wrap("SECRET", 2, dek) != wrapped
        with pytest.raises(Exception):  # noqa: B017 - the token reports a failed integrity check
            provider.unwrap("SECRET", 2, wrapped)

        kcv = provider.check_value("SECRET", 1)
        assert kcv == provider.check_value("SECRET", 1)
        assert kcv != provider.check_value("SECRET", 2)
        assert len(kcv) == 16

        # the KEK object: sensitive, never extractable, wrap/unwrap only; its value cannot be read
        with provider._session() as pooled:
            kek = provider._find_kek(pooled, "SECRET", 1)
            assert kek[Attribute.SENSITIVE] and not kek[Attribute.EXTRACTABLE]
            assert (
                kek[Attribute.NEVER_EXTRACTABLE] and kek[Attribute.TOKEN] and kek[Attribute.PRIVATE]
            )
            assert kek[Attribute.WRAP] and kek[Attribute.UNWRAP]
            assert (
                not kek[Attribute.ENCRYPT]
                and not kek[Attribute.DECRYPT]
                and not kek[Attribute.SIGN]
            )
            assert kek.label == "shareplatform-kek-SECRET-v1" and kek.key_length == 256
            with pytest.raises(AttributeSensitive):
                kek[Attribute.VALUE]

        assert provider.secret("index") is None
        index = provider.create_secret("index")
        assert len(index) == 32 and provider.secret("index") == index
        with pytest.raises(KeyProblem, match="already exists"):
            provider.create_secret("index")

        provider.destroy_kek("SECRET", 1)
        assert provider.kek_versions("SECRET") == [2]
        with pytest.raises(KeyProblem, match="KEK SECRET v1 is missing"):
            provider.unwrap("SECRET", 1, wrapped)
    finally:
        provider.close()
    with pytest.raises(KeyProblem, match="closed"):
        provider.wrap("SECRET", 2, dek)


def test_unwrapped_data_keys_are_cached_briefly_and_dropped_with_their_kek(hsm: Hsm) -> None:
    provider = hsm.provider("main", cache=3600)
    try:
        provider.create_kek("OFFICIAL", 7)
        dek = os.urandom(32)
        wrapped = provider.wrap("OFFICIAL", 7, dek)
        assert provider.unwrap("OFFICIAL", 7, wrapped) == dek
        assert provider._deks.get(("OFFICIAL", 7, wrapped)) == dek
        assert provider.unwrap("OFFICIAL", 7, wrapped) == dek
        provider.destroy_kek("OFFICIAL", 7)  # destroying the KEK also forgets what it unwrapped
        assert provider._deks.get(("OFFICIAL", 7, wrapped)) is None
        with pytest.raises(KeyProblem, match="KEK OFFICIAL v7 is missing"):
            provider.unwrap("OFFICIAL", 7, wrapped)
    finally:
        provider.close()


def test_forget_drops_a_retired_kek_and_what_it_unwrapped(hsm: Hsm) -> None:
    """What a worker does when another process retires a version (see crypto/keywatch.py)."""
    provider = hsm.provider("forget", cache=3600)
    try:
        provider.create_kek("SECRET", 3)
        dek = os.urandom(32)
        wrapped = provider.wrap("SECRET", 3, dek)
        assert provider.unwrap("SECRET", 3, wrapped) == dek
        provider.forget("SECRET", 3)
        assert provider._deks.get(("SECRET", 3, wrapped)) is None
        with provider._session() as held:
            assert ("SECRET", 3) not in held.keks
        provider.destroy_kek("SECRET", 3)
        provider.destroy_kek("SECRET", 3)  # idempotent: a re-run after a crash completes
        with pytest.raises(KeyProblem, match="KEK SECRET v3 is missing"):
            provider.unwrap("SECRET", 3, wrapped)
    finally:
        provider.close()


def test_concurrent_threads_are_serialised_safely(hsm: Hsm) -> None:
    """SoftHSM runs lock-free under python-pkcs11's C_Initialize(NULL): unserialised, this fails."""
    provider = hsm.provider("threads", cache=0)  # every call goes to the token
    second = hsm.provider("threads", cache=0)  # another provider: shares the module's lock
    errors: list[BaseException] = []
    try:
        provider.create_kek("OFFICIAL", 1)

        def work() -> None:
            try:
                for _ in range(150):
                    dek = os.urandom(32)
                    assert provider.unwrap("OFFICIAL", 1, provider.wrap("OFFICIAL", 1, dek)) == dek
                    assert second.unwrap("OFFICIAL", 1, provider.wrap("OFFICIAL", 1, dek)) == dek
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    finally:
        provider.close()
        second.close()


def test_wrap_format_matches_cryptography(hsm: Hsm) -> None:
    """Test-only set-up: a known KEK imported as a readable key, to compare bytes with software."""
    from pkcs11 import Attribute, KeyType, ObjectClass

    from shareplatform.crypto.pkcs11 import kek_label

    known, other = os.urandom(32), os.urandom(32)
    provider = hsm.provider("compat", cache=0)
    try:
        with provider._session() as pooled:
            pooled.session.create_object(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.AES,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.LABEL: kek_label("OFFICIAL", 1),
                    Attribute.VALUE: known,
                    Attribute.WRAP: True,
                    Attribute.UNWRAP: True,
                    Attribute.SENSITIVE: False,
                    Attribute.EXTRACTABLE: True,
                }
            )
        assert provider.kek_versions("OFFICIAL") == [1]
        for dek in (os.urandom(32), bytes(32), b"\xff" * 32):
            from_hsm = provider.wrap("OFFICIAL", 1, dek)
            assert from_hsm == aes_key_wrap(known, dek)
            assert aes_key_unwrap(known, from_hsm) == dek
            with pytest.raises(InvalidUnwrap):
                aes_key_unwrap(other, from_hsm)
            assert provider.unwrap("OFFICIAL", 1, aes_key_wrap(known, dek)) == dek
        with pytest.raises(Exception):  # noqa: B017 - software-wrapped under another key
            provider.unwrap("OFFICIAL", 1, aes_key_wrap(other, os.urandom(32)))
        # the documented check value: a hash of a fixed all-zero key wrapped by the KEK
        import hashlib

        expected = hashlib.sha256(
            b"shareplatform-kcv|" + aes_key_wrap(known, bytes(32))
        ).hexdigest()[:16]
        assert provider.check_value("OFFICIAL", 1) == expected
    finally:
        provider.close()


# -- a whole platform on the token ----------------------------------------------------------------
def test_platform_seeds_and_reads_through_the_access_layer(
    seeded_hsm: tuple[Platform, str],
) -> None:
    platform, _ = seeded_hsm
    provider = platform.provider
    for level in ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"):
        assert provider.kek_versions(level) == [1]
    assert not Path(platform.config.KEYS_DIR).exists()  # no key file anywhere

    assert _secret_markers(platform, "honsu.hughes", "SP-1001") == {"SP-1001-0"}
    with platform.transaction() as session:  # OFFICIAL-SENSITIVE content opens too
        ctx = ctx_for(platform, session, "com.cole")
        case_id = session.scalar(select(Case.id).where(Case.reference == "SP-1001"))
        assert case_id is not None
        views = [i for i in timeline(ctx, case_id).items if isinstance(i, RecordView)]
    assert any(v.classification == "OFFICIAL-SENSITIVE" and "(SP-1001)" in v.title for v in views)
    assert _secret_markers(platform, "lro.lewis", "SP-1001") == {"SP-1001-0", "SP-1001-1"}
    assert _secret_markers(platform, "com.evans", "SP-1002") == set()  # BPSS: SECRET withheld

    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "com.cole")
        found = search_nominals(ctx, "X300000")  # the blind index key comes from the token
        assert [c.reference for c, _ in found] == ["SP-1001"]


def test_rotation_rewraps_every_data_key_under_the_new_token_kek(hsm: Hsm, tmp_path: Path) -> None:
    platform, _ = _seed_over_hsm(hsm, "rotate", tmp_path)
    provider = platform.provider
    try:
        rotation = platform.key_admin.rotate("SECRET", batch=7)  # as the keys CLI does
        version, count = rotation.version, rotation.rewrapped
        assert (
            version == 2 and count >= 60
        )  # two SECRET records on each of 30 cases, plus the demo decision log
        assert provider.kek_versions("SECRET") == [1, 2]
        with platform.transaction() as session:
            status = {(s.level, s.version): s for s in keyring.status(session)}
        assert status[("SECRET", 1)].data_keys == 0 and status[("SECRET", 2)].data_keys == count
        assert status[("SECRET", 2)].current

        platform.key_admin.retire("SECRET", 1)  # destroys the KEK in the token
        assert provider.kek_versions("SECRET") == [2]
        assert _secret_markers(platform, "honsu.hughes", "SP-1005") == {"SP-1005-0"}

        # a restart against the same token binds cleanly to the rotated key set
        again = _hsm_platform(str(platform.db.engine.url), tmp_path / "no-keys", provider)
        again.bind()
        with again.transaction() as session:
            assert keyring.current_versions(session)["SECRET"] == 2
        again.db.dispose()
    finally:
        platform.db.dispose()
        provider.close()  # type: ignore[attr-defined]


def test_a_wrong_token_is_refused_at_bind(
    hsm: Hsm, seeded_hsm: tuple[Platform, str], tmp_path: Path
) -> None:
    _, url = seeded_hsm
    # a token with its own, different keys
    other = hsm.provider("other")
    for level in ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"):
        other.create_kek(level, 1)
    for name in ("index", "signing", "service"):
        other.create_secret(name)
    wrong = _hsm_platform(url, tmp_path / "no-keys", other)
    with pytest.raises(
        KeyProblem, match=r"secret 'index' in PKCS#11 token 'sp-other' .* is not the one"
    ):
        wrong.bind()
    wrong.db.dispose()
    other.close()

    # a blank token: refused, and nothing is created on it for the existing data
    empty = hsm.provider("empty")
    blank = _hsm_platform(url, tmp_path / "no-keys", empty)
    with pytest.raises(
        KeyProblem, match=r"secret 'index' is missing from PKCS#11 token 'sp-empty'"
    ):
        blank.bind()
    assert empty.secret("index") is None and empty.kek_versions("SECRET") == []
    blank.db.dispose()
    empty.close()

    # no such token, no such module: named
    from shareplatform.crypto.pkcs11 import Pkcs11KeyProvider

    with pytest.raises(KeyProblem, match="no PKCS#11 token labelled 'sp-nowhere'"):
        Pkcs11KeyProvider(hsm.module, "sp-nowhere", PIN)
    with pytest.raises(KeyProblem, match="cannot load the PKCS#11 module"):
        Pkcs11KeyProvider(str(tmp_path / "libnothing.so"), "sp-other", PIN)


def test_a_wrong_pin_is_refused(hsm: Hsm) -> None:
    from shareplatform.crypto.pkcs11 import Pkcs11KeyProvider

    with pytest.raises(KeyProblem, match="PIN for PKCS#11 token 'sp-empty' is wrong"):
        Pkcs11KeyProvider(hsm.module, "sp-empty", "000000")
    held = hsm.provider("env")  # logged in: a second provider must still present the right PIN
    try:
        with pytest.raises(KeyProblem, match="PIN for PKCS#11 token 'sp-env' is wrong"):
            Pkcs11KeyProvider(hsm.module, "sp-env", "000000")
    finally:
        held.close()


def test_configuration_selects_the_pkcs11_provider(
    hsm: Hsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shareplatform.crypto.pkcs11 import Pkcs11KeyProvider

    monkeypatch.setenv("SHAREPLATFORM_KEY_PROVIDER", "pkcs11")
    monkeypatch.setenv("SHAREPLATFORM_PKCS11_MODULE", hsm.module)
    monkeypatch.setenv("SHAREPLATFORM_PKCS11_TOKEN", "sp-env")
    monkeypatch.setenv("SHAREPLATFORM_PKCS11_PIN", PIN)
    config = Config.from_env()
    assert PIN not in repr(config) and "PKCS11_PIN" not in config.as_flask()
    provider = provider_for(config)
    assert isinstance(provider, Pkcs11KeyProvider)
    try:
        assert provider.token_label == "sp-env" and provider._deks.seconds == 30
    finally:
        provider.close()
    config.KEY_PROVIDER = "vault9000"
    with pytest.raises(KeyProblem, match="unknown key provider"):
        provider_for(config)
    config.KEY_PROVIDER, config.PKCS11_PIN = "pkcs11", ""
    with pytest.raises(KeyProblem, match="SHAREPLATFORM_PKCS11_PIN"):
        provider_for(config)


# -- production mode ------------------------------------------------------------------------------
def test_production_serves_secret_from_the_hsm_but_not_from_file_keys(
    hsm: Hsm, seeded_template: SeededCopy, tmp_path: Path
) -> None:
    # file keys, production: SECRET is refused (the same data reads fine outside production)
    url, keys = seeded_template.copy(tmp_path / "seeded")
    for in_production in (False, True):
        files = _hsm_platform(url, keys, None, PRODUCTION=in_production)
        if in_production:
            with pytest.raises(GrantRefused, match="SECRET material is not served"):
                _secret_views(files, "honsu.hughes", "SP-1001")
            assert "SECRET" in files.access._sealer._vault.blocked_levels
        else:
            assert _secret_markers(files, "honsu.hughes", "SP-1001") == {"SP-1001-0"}
        files.db.dispose()
    allowed = _hsm_platform(url, keys, None, PRODUCTION=True, ALLOW_FILE_KEYS_FOR_SECRET=True)
    assert _secret_markers(allowed, "honsu.hughes", "SP-1001") == {"SP-1001-0"}
    allowed.db.dispose()

    # the PKCS#11 provider, production: SECRET is written and served
    prod_root = tmp_path / "prod"
    prod_root.mkdir()
    platform, prod_url = _seed_over_hsm(hsm, "prod", prod_root)
    platform.db.dispose()
    production = _hsm_platform(prod_url, prod_root / "no-keys", platform.provider, PRODUCTION=True)
    try:
        assert _secret_markers(production, "honsu.hughes", "SP-1001") == {"SP-1001-0"}
        assert not production.access._sealer._vault.blocked_levels
    finally:
        production.db.dispose()
        platform.provider.close()  # type: ignore[attr-defined]
