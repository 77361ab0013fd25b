"""Finding people: partial, sound-alike, date-of-birth and identifier search over blind indexes.

Every term is a keyed HMAC (`BlindIndexer`), never plaintext. The exact index (`NominalIndex`:
full name, family name, aliases, identifiers) is kept; `NominalToken` adds, per name part of the
given name, family name and aliases: the part itself, its prefixes of PREFIX_MIN..PREFIX_MAX
characters, its Metaphone code (PyPI `jellyfish`), and the date of birth. What these tokens let a
database reader without keys learn is in docs/architecture.md, "Search tokens".

Results come only from cases the user may see (`visible_case_ids_clause`), and the nominals are
opened through the access layer. Emergency access resolves references and identifiers itself
(`case_for_emergency`) under its own rules.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import jellyfish
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..audit.log import Event
from ..crypto.blind_index import BlindIndexer, normalise
from ..crypto.models import DataKey
from ..domain.labels import Classification
from .models import Case, Nominal, NominalIndex, NominalToken

PREFIX_MIN, PREFIX_MAX = 3, 6  # shorter prefixes match too many people to be worth their leakage
# identifiers that find a case (search and emergency access); CRO and ViSOR stay exact-only too
CASE_IDENTIFIERS = ("pnc", "nomis", "crn")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y")

# how strongly a kind of match ranks a result (an exact name or identifier first)
EXACT, PART, PREFIX, PHONETIC = 4, 3, 2, 1
_STRENGTH = {"part": PART, "prefix": PREFIX, "phonetic": PHONETIC}


def name_parts(text: str) -> list[str]:
    """Upper-case ASCII words of a name, as the exact index normalises names."""
    return normalise("name", text).split()


def phonetic(part: str) -> str:
    """The Metaphone code of one name part ('' when it has no consonant sound to code)."""
    return str(jellyfish.metaphone(part)).replace(" ", "")


def part_terms(part: str) -> set[tuple[str, str]]:
    """A stored name part's tokens: itself, its bounded prefixes, its phonetic code."""
    terms = {("part", part)}
    terms |= {("prefix", part[:n]) for n in range(PREFIX_MIN, min(PREFIX_MAX, len(part) - 1) + 1)}
    code = phonetic(part)
    if code:
        terms.add(("phonetic", code))
    return terms


def token_terms(
    given: str, family: str, aliases: Iterable[str], dob: date | str | None
) -> set[tuple[str, str]]:
    """Every (kind, value) token of one nominal."""
    terms: set[tuple[str, str]] = set()
    for name in (given, family, *aliases):
        for part in name_parts(name or ""):
            terms |= part_terms(part)
    if dob:
        terms.add(("dob", dob.isoformat() if isinstance(dob, date) else str(dob)))
    return terms


def add_tokens(
    session: Session,
    indexer: BlindIndexer,
    nominal_id: uuid.UUID,
    given: str,
    family: str,
    aliases: Iterable[str],
    dob: date | str | None,
) -> None:
    """Store a nominal's search tokens (called where the nominal is created, same transaction)."""
    session.add_all(
        NominalToken(nominal_id=nominal_id, kind=kind, digest=indexer.digest(kind, value))
        for kind, value in sorted(token_terms(given, family, aliases, dob))
    )


def replace_tokens(
    session: Session,
    indexer: BlindIndexer,
    nominal_id: uuid.UUID,
    given: str,
    family: str,
    aliases: Iterable[str],
    dob: date | str | None,
) -> None:
    """Rebuild one nominal's tokens (back-fill, or after its identity is corrected)."""
    for old in session.scalars(select(NominalToken).where(NominalToken.nominal_id == nominal_id)):
        session.delete(old)
    session.flush()
    add_tokens(session, indexer, nominal_id, given, family, aliases, dob)


# -- back-filling nominals created before tokens (migration 0014) -------------------------------
BACKFILL_EVENT = "nominal.tokens.backfill"
Plain = dict[str, str | None]  # an opened row's fields, as the access layer gives them


@runtime_checkable
class SystemReader(Protocol):
    """Opens sealed rows as the system, auditing before anything is opened (shareplatform/access/
    system.py): the command line holds it, a service never does."""

    def open_many(
        self, session: Session, rows: Sequence[Nominal], event: Event
    ) -> list[Plain | None]: ...


@dataclass(frozen=True)
class Backfill:
    tokened: int  # nominals given tokens
    unreadable: int  # nominals left without: content that does not open (tampered)


def untokened(session: Session, after: uuid.UUID | None, limit: int) -> list[Nominal]:
    """The next `limit` nominals by id after `after` that have no token and can still be opened
    (a shredded nominal's key is gone: it has nothing to index)."""
    no_token = ~exists().where(NominalToken.nominal_id == Nominal.id)
    stmt = (
        select(Nominal)
        .join(DataKey, DataKey.id == Nominal.data_key_id)
        .where(no_token, DataKey.wrapped.is_not(None))
        .order_by(Nominal.id)
        .limit(limit)
    )
    return list(session.scalars(stmt if after is None else stmt.where(Nominal.id > after)))


def backfill_batch(
    session: Session, reader: SystemReader, indexer: BlindIndexer, rows: Sequence[Nominal]
) -> int:
    """Open one batch's names through the system read path and store their tokens; returns how
    many nominals opened (a row that does not open is left as it is)."""
    event = Event(
        action=BACKFILL_EVENT,
        object_type="nominal",
        outcome="allow",
        label=Classification.OFFICIAL_SENSITIVE,
        reason="search tokens for nominals created before migration 0014",
    )
    done = 0
    for row, plain in zip(rows, reader.open_many(session, rows, event), strict=True):
        if plain is None:
            continue
        names = json.loads(plain["names"] or "{}")
        given, family = names.get("given", ""), names.get("family", "")
        replace_tokens(
            session, indexer, row.id, given, family, names.get("aliases", []), plain["dob"]
        )
        done += 1
    session.flush()
    return done


def backfill_tokens(
    transaction: Callable[[], AbstractContextManager[Session]],
    reader: SystemReader,
    indexer: BlindIndexer,
    batch: int = 500,
    progress: Callable[[int], None] = lambda _: None,
) -> Backfill:
    """Give every nominal without tokens its tokens, `batch` at a time, one transaction each (an
    interrupted run keeps what it did; a re-run finds only what is left, so it is idempotent)."""
    tokened = unreadable = 0
    after: uuid.UUID | None = None
    while True:
        with transaction() as session:
            rows = untokened(session, after, batch)
            if not rows:
                return Backfill(tokened, unreadable)
            opened = backfill_batch(session, reader, indexer, rows)
            after = rows[-1].id
        tokened += opened
        unreadable += len(rows) - opened
        progress(tokened)


# -- searching -------------------------------------------------------------------------------------
def parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def word_digests(indexer: BlindIndexer, word: str) -> dict[bytes, int]:
    """What one query word may match, digest -> strength: a whole part, a prefix, a sound."""
    out = {indexer.digest("part", word): PART}
    if PREFIX_MIN <= len(word) <= PREFIX_MAX:
        out[indexer.digest("prefix", word)] = PREFIX
    code = phonetic(word)
    if code and len(word) >= PREFIX_MIN:  # a sound-alike of one or two letters means nothing
        out.setdefault(indexer.digest("phonetic", code), PHONETIC)
    return out


def exact_digests(indexer: BlindIndexer, query: str) -> list[bytes]:
    """The whole query as an exact name, alias or identifier (the existing index)."""
    from .services import IDENTIFIERS

    return [indexer.digest(kind, query) for kind in ("name", *IDENTIFIERS)]


def match_nominals(
    session: Session, indexer: BlindIndexer, query: str, visible
) -> dict[uuid.UUID, int]:
    """Nominal id -> rank (higher first) of nominals on cases in `visible` (a clause on Case)
    matching the query: the whole query exactly (name, identifier, date of birth, case
    reference), or every word of it as a name part, prefix or sound-alike."""
    on_visible = select(Case.nominal_id).where(visible)
    ranks: dict[uuid.UUID, int] = {}
    exact = exact_digests(indexer, query)
    born = parse_date(query)
    for nid in session.scalars(
        select(NominalIndex.nominal_id).where(
            NominalIndex.digest.in_(exact), NominalIndex.nominal_id.in_(on_visible)
        )
    ):
        ranks[nid] = EXACT * 10
    if born is not None:
        for nid in session.scalars(
            select(NominalToken.nominal_id).where(
                NominalToken.digest == indexer.digest("dob", born.isoformat()),
                NominalToken.nominal_id.in_(on_visible),
            )
        ):
            ranks[nid] = EXACT * 10
    for nid in session.scalars(
        select(Case.nominal_id).where(visible, Case.reference == query.strip().upper())
    ):
        ranks[nid] = EXACT * 10
    words = [w for w in name_parts(query) if w]
    if words and born is None:
        for nid, rank in _word_matches(session, indexer, words, on_visible).items():
            ranks[nid] = max(ranks.get(nid, 0), rank)
    return ranks


def _word_matches(
    session: Session, indexer: BlindIndexer, words: list[str], on_visible
) -> dict[uuid.UUID, int]:
    per_word = [word_digests(indexer, w) for w in words]
    wanted = {d for digests in per_word for d in digests}
    best: dict[uuid.UUID, dict[int, int]] = defaultdict(dict)  # nominal -> word -> strength
    for nid, digest in session.execute(
        select(NominalToken.nominal_id, NominalToken.digest).where(
            NominalToken.digest.in_(wanted), NominalToken.nominal_id.in_(on_visible)
        )
    ):
        for i, digests in enumerate(per_word):
            strength = digests.get(digest)
            if strength is not None:
                best[nid][i] = max(best[nid].get(i, 0), strength)
    # every word of the query must match something of the person
    return {nid: sum(hits.values()) for nid, hits in best.items() if len(hits) == len(words)}


# -- emergency access ------------------------------------------------------------------------------
def case_for_emergency(session: Session, indexer: BlindIndexer, text: str) -> Case | None:
    """The one case a platform reference, PNC ID, NOMIS number or CRN names (None: no such case,
    or the identifier names more than one: the user then gives the case reference).
    Emergency access keeps its own rules, so this looks at every case, not only visible ones."""
    value = text.strip()
    case = session.scalar(select(Case).where(Case.reference == value.upper()))
    if case is not None or not value:
        return case
    digests = [indexer.digest(kind, value) for kind in CASE_IDENTIFIERS]
    ids = set(
        session.scalars(
            select(Case.id)
            .join(NominalIndex, NominalIndex.nominal_id == Case.nominal_id)
            .where(NominalIndex.kind.in_(CASE_IDENTIFIERS), NominalIndex.digest.in_(digests))
        )
    )
    return session.get(Case, ids.pop()) if len(ids) == 1 else None
