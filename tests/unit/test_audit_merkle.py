"""RFC 9162 Merkle hashing, compact ranges and proofs, against the RFC's recursive definitions
(section 2.1), for every tree size up to 33 (powers of two and not)."""

from __future__ import annotations

import hashlib

import pytest

from shareplatform.audit import merkle

SIZES = range(1, 34)


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


# the RFC's definitions, written as directly as possible
def _mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return d[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return _path(m, d[:k]) + [_mth(d[k:])]
    return _path(m - k, d[k:]) + [_mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return _subproof(m, d[:k], b) + [_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [_mth(d[:k])]


def test_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root([]) == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", SIZES)
def test_root_and_frontier_match_the_rfc(n: int) -> None:
    leaves = _leaves(n)
    assert merkle.root(leaves) == _mth(leaves)
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        merkle.frontier_append(frontier, size, leaf)
        assert merkle.frontier_fits(frontier, size + 1)
        assert merkle.frontier_root(frontier) == _mth(leaves[: size + 1])
    assert merkle.unpack(merkle.pack(frontier)) == frontier


@pytest.mark.parametrize("n", SIZES)
def test_inclusion_paths_match_the_rfc_and_verify(n: int) -> None:
    leaves = _leaves(n)
    root = _mth(leaves)
    for m in range(n):
        path = merkle.inclusion_path(m, leaves)
        assert path == _path(m, leaves)
        assert merkle.verify_inclusion(m, n, leaves[m], path, root)
        # another leaf, another index, a shorter or longer path, a changed sibling: all refused
        assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"forged"), path, root)
        if n > 1:
            assert not merkle.verify_inclusion((m + 1) % n, n, leaves[m], path, root)
        if path:
            assert not merkle.verify_inclusion(m, n, leaves[m], path[:-1], root)
            bent = [*path[:-1], merkle.node_hash(path[-1], path[-1])]
            assert not merkle.verify_inclusion(m, n, leaves[m], bent, root)
        assert not merkle.verify_inclusion(m, n, leaves[m], [*path, root], root)


@pytest.mark.parametrize("n", SIZES)
def test_consistency_proofs_match_the_rfc_and_verify(n: int) -> None:
    leaves = _leaves(n)
    new_root = _mth(leaves)
    for m in range(1, n + 1):
        proof = merkle.consistency_proof(m, leaves)
        assert proof == _subproof(m, leaves, True)
        old_root = _mth(leaves[:m])
        assert merkle.verify_consistency(m, n, old_root, new_root, proof)
        if m < n:
            # a rewritten old tree, or a new tree that does not extend it, is refused
            other = _mth([merkle.leaf_hash(b"forged"), *leaves[1:m]])
            assert not merkle.verify_consistency(m, n, other, new_root, proof)
            assert not merkle.verify_consistency(m, n, old_root, merkle.leaf_hash(b"x"), proof)
            assert not merkle.verify_consistency(m, n, old_root, new_root, proof[:-1])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_path(3, _leaves(3))
    with pytest.raises(ValueError):
        merkle.consistency_proof(0, _leaves(3))
    with pytest.raises(ValueError):
        merkle.unpack(b"\x00" * 33)
    assert merkle.root_from_inclusion(5, 5, b"\x00" * 32, []) is None
