"""The one path out of storage, checked on the source: nothing outside the kernel can decrypt.

The vault (keys and decryption) is reachable only from `shareplatform/access/` (which holds it)
and `shareplatform/crypto/` (which implements it); `platform.py` only assembles them. No other
module may import the vault or the envelope, touch the access layer's private vault or minter, or
read a sealed `*_ct` column except the model that declares it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "shareplatform"
KERNEL = ("access", "crypto")
FORBIDDEN_MODULES = ("crypto.vault", "crypto.envelope")
PRIVATE = ("_vault", "_minter")


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(PACKAGE.rglob("*.py"))]


def _outside_kernel(path: Path) -> bool:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] not in KERNEL and rel != ("platform.py",)


def test_only_the_kernel_imports_the_vault_or_the_envelope() -> None:
    offenders = []
    for path, tree in _modules():
        if not _outside_kernel(path):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if any(node.module.endswith(m) for m in FORBIDDEN_MODULES):
                    offenders.append(f"{path.relative_to(PACKAGE)}: from {node.module}")
                if node.module.endswith("crypto") and any(
                    a.name in ("vault", "envelope") for a in node.names
                ):
                    offenders.append(f"{path.relative_to(PACKAGE)}: {node.module} vault/envelope")
    assert offenders == []


def test_nothing_outside_the_access_layer_touches_its_vault_or_minter() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path, tree in _modules()
        if path.relative_to(PACKAGE).parts[0] not in KERNEL
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE
    ]
    assert offenders == []


def test_sealed_columns_are_read_only_by_their_models_and_the_kernel() -> None:
    offenders = []
    for path, tree in _modules():
        rel = path.relative_to(PACKAGE)
        if not _outside_kernel(path) or rel.name == "models.py" or rel.name == "sealed.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.endswith("_ct"):
                offenders.append(f"{rel}:{node.lineno} .{node.attr}")
    assert offenders == []


# -- keys, providers and raw cryptography ---------------------------------------------------------
COMPOSITION_ROOT = ("platform.py",)
KEY_MODULES = ("crypto.keyring", "crypto.pkcs11", "crypto.keywatch")
WHOLE_KERNEL = ("access", "crypto", "audit", "domain")
RAW_CRYPTO = ("cryptography.hazmat.primitives.ciphers", "cryptography.hazmat.primitives.keywrap")
KEY_ATTRIBUTES = ("provider", "_provider", "create_secret", "_key")
# Capabilities that write as the system or administer keys: only these modules may reach them.
CAPABILITY_HOLDERS = ("cli.py", "importer", "demo.py", "demo", "api/cli.py", "platform.py")
CAPABILITIES = ("system_writer", "key_admin")


def _rel(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_keys_and_providers_are_reached_only_by_the_kernel_and_the_composition_root() -> None:
    offenders = []
    for path, tree in _modules():
        rel = path.relative_to(PACKAGE)
        inside = rel.parts[0] in WHOLE_KERNEL or str(rel) in COMPOSITION_ROOT
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not inside:
                names = {a.name for a in node.names}
                if any(node.module.endswith(m) for m in KEY_MODULES):
                    offenders.append(f"{rel}:{node.lineno} from {node.module}")
                if node.module.endswith("crypto") and names & {"keyring", "pkcs11", "keywatch"}:
                    offenders.append(f"{rel}:{node.lineno} {node.module} {sorted(names)}")
                if node.module.endswith("crypto.keys") and names - {"KeyProblem"}:
                    offenders.append(f"{rel}:{node.lineno} {node.module} {sorted(names)}")
            if isinstance(node, ast.Attribute) and not inside and node.attr in KEY_ATTRIBUTES:
                offenders.append(f"{rel}:{node.lineno} .{node.attr}")
    assert offenders == []


def test_raw_ciphers_are_used_only_in_crypto() -> None:
    offenders = []
    for path, tree in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "crypto":
            continue
        for node in ast.walk(tree):
            module = ""
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
            elif isinstance(node, ast.Import):
                module = ",".join(a.name for a in node.names)
            if any(m in module for m in RAW_CRYPTO):
                offenders.append(f"{rel}:{node.lineno} {module}")
    assert offenders == []


def test_system_writing_and_key_administration_stay_with_their_holders() -> None:
    """Services get the access layer through their context and never a capability to write as
    the system or administer keys: only the command line, the importer, demo seeding and the
    composition root reach them (a system-only service function may take one as an argument)."""
    offenders = []
    for path, tree in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "access" or any(
            str(rel) == h or rel.parts[0] == h for h in CAPABILITY_HOLDERS
        ):
            continue
        offenders += [
            f"{_rel(path)}:{node.lineno} .{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in CAPABILITIES
        ]
    assert offenders == []


def test_the_access_layer_offers_no_way_to_write_as_the_system() -> None:
    from shareplatform.access.kernel import AccessLayer
    from shareplatform.context import Ctx

    public = {n for n in dir(AccessLayer) if not n.startswith("_")}
    assert not {n for n in public if "system" in n or "seal" in n or "key" in n}
    assert {f for f in Ctx.__dataclass_fields__} == {
        "session",
        "access",
        "subject",
        "indexer",
        "today",
        "settings",
    }
