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
