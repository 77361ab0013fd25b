"""Merkle tree hashing, compact ranges and proofs as RFC 9162 (Certificate Transparency 2.0,
section 2.1) defines them. Pure functions over 32-byte hashes: no database, no keys.

Leaves are indexed from 0; the audit entry with sequence number `seq` is leaf `seq - 1`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import methodcaller

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# -- compact range (the frontier): one hash per perfect subtree, largest first --------------------
def frontier_append(frontier: list[bytes], size: int, leaf: bytes) -> None:
    """Add one leaf hash to the frontier of a tree of `size` leaves, in place."""
    node = leaf
    while size & 1:  # each trailing one bit is a perfect subtree the new leaf completes
        node = node_hash(frontier.pop(), node)
        size >>= 1
    frontier.append(node)


# -- many leaves at once: the same hashes, computed a level at a time with the loops in C ---------
_sha256 = hashlib.sha256
_digest = methodcaller("digest")
_LEAF = b"\x00".__add__
_NODE = b"\x01".__add__


def leaf_hashes(bodies: Sequence[bytes]) -> list[bytes]:
    """leaf_hash of every body, in order."""
    return list(map(_digest, map(_sha256, map(_LEAF, bodies))))


def _level_up(nodes: list[bytes]) -> list[bytes]:
    """The parents of consecutive pairs (an even number of nodes)."""
    return list(map(_digest, map(_sha256, map(_NODE, map(bytes.__add__, nodes[::2], nodes[1::2])))))


def frontier_extend(frontier: list[bytes], size: int, leaves: Sequence[bytes]) -> int:
    """frontier_append of every leaf in turn, in place; returns the new size. Leaves go in as
    perfect subtrees aligned on their size, each hashed a whole level at a time."""
    done, n = 0, len(leaves)
    while done < n:
        aligned = (size & -size).bit_length() - 1 if size else n.bit_length()
        height = min(aligned, (n - done).bit_length() - 1)
        nodes = list(leaves[done : done + (1 << height)])
        for _ in range(height):
            nodes = _level_up(nodes)
        node, above = nodes[0], size >> height
        while above & 1:  # as frontier_append, one level up per trailing one bit
            node = node_hash(frontier.pop(), node)
            above >>= 1
        frontier.append(node)
        size += 1 << height
        done += 1 << height
    return size


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for node in reversed(frontier[:-1]):
        root = node_hash(node, root)
    return root


def frontier_fits(frontier: Sequence[bytes], size: int) -> bool:
    """A frontier of a tree of `size` leaves holds exactly one hash per one bit of `size`."""
    return len(frontier) == bin(size).count("1")


def pack(frontier: Sequence[bytes]) -> bytes:
    return b"".join(frontier)


def unpack(packed: bytes) -> list[bytes]:
    if len(packed) % HASH_SIZE:
        raise ValueError("a packed frontier is a whole number of 32-byte hashes")
    return [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]


# -- trees over a list of leaf hashes --------------------------------------------------------------
def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, iteratively through the frontier (no recursion depth)."""
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        frontier_append(frontier, size, leaf)
    return frontier_root(frontier)


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 2.1.3.1): the audit path of leaf `index`, nearest sibling first."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo : lo + k]))
            lo += k
    return path[::-1]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 2.1.4.1) that the first `old_size` leaves are a prefix."""
    n = len(leaves)
    if not 0 < old_size <= n:
        raise ValueError(f"no consistency proof from {old_size} to {n}")
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root(leaves[:k])]


# -- verification (RFC 9162 2.1.3.2 and 2.1.4.2) -------------------------------------------------
def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that `path` proves `leaf` at `index` into, or None if the path cannot fit."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> bool:
    return root_from_inclusion(index, size, leaf, path) == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
