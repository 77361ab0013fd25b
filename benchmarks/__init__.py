"""shareplatform benchmarks: ratios measured in one run, interleaved, on generated data.

Run with `make bench` (full sizes, < 15 minutes on 2 cores) or `make bench-quick`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .core import Result

MEASURES = (
    "read",
    "authz",
    "scale",
    "write",
    "audit",
    "rotate",
    "crypto",
    "generate",
    "server",
    "import",
    "import_load",
    "api",
    "statements",
)


@dataclass(frozen=True)
class Sizes:
    small_records: int
    large_records: int
    case_records: int
    page_rounds: int
    authz_page: int
    authz_rounds: int
    write_notes: int
    write_rounds: int
    audit_entries: int
    verify_rounds: int
    crypto_records: int
    crypto_rounds: int
    server_seconds: int
    server_clients: int
    verify_entries: int = 100_000  # the audit log's size when verify is measured
    import_load_rows: int = 10_000  # the import other users' latency is measured under

    @classmethod
    def full(cls) -> Sizes:
        sizes = cls(10_000, 1_000_000, 200, 21, 500, 20, 240, 3, 50_000, 3, 1000, 10, 30, 16)
        return replace(sizes, verify_entries=1_000_000, import_load_rows=100_000)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(2_000, 50_000, 200, 7, 500, 5, 48, 2, 5_000, 2, 200, 4, 4, 16)


def _say(message: str, started: float = time.perf_counter()) -> None:
    print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)


def run(root: Path, sizes: Sizes, only: list[str], seed: int) -> list[Result]:
    from . import env as E

    results: list[Result] = []
    envs: dict[str, E.Env] = {}

    def small() -> E.Env:
        if "small" not in envs:
            _say(f"building the small database ({sizes.small_records:,} records)")
            envs["small"] = E.build(
                root / "small",
                "small",
                nominals=max(1, sizes.small_records // 100),
                records=sizes.small_records,
                seed=seed,
                case_records=sizes.case_records,
            )
        return envs["small"]

    def large() -> E.Env:
        if "large" not in envs:
            _say(f"building the large database ({sizes.large_records:,} records, generated)")
            envs["large"] = E.build(
                root / "large",
                "large",
                nominals=max(1, sizes.large_records // 100),
                records=sizes.large_records,
                seed=seed,
                case_records=sizes.case_records,
            )
        return envs["large"]

    def step(name: str, fn: Callable[[], list[Result]]) -> None:
        if name not in only:
            return
        _say(f"measure: {name}")
        try:
            results.extend(fn())
        except Exception as exc:  # one broken measure does not hide the others' figures
            _say(f"  {name} FAILED: {exc!r}")
            results.append(Result(name, "FAILED", float("nan"), "", note=repr(exc), met=False))

    from . import m_authz, m_crypto, m_read, m_rotate

    step("read", lambda: m_read.read_path(small(), sizes.page_rounds))
    step("authz", lambda: m_authz.authorisation(small(), sizes.authz_page, sizes.authz_rounds))
    step("crypto", lambda: m_crypto.seal_open(small(), sizes.crypto_records, sizes.crypto_rounds))
    step("generate", lambda: _generation(large()))
    step("scale", lambda: m_read.scale(small(), large(), sizes.page_rounds))
    step("write", lambda: _writes(root, small(), sizes, seed))
    step("audit", lambda: _audit(root, sizes))
    step("server", lambda: _server(small(), sizes))
    step("rotate", lambda: m_rotate.rotation(large()))
    from . import m_import

    step("import", lambda: m_import.import_throughput(small(), sizes.crypto_records))
    from . import m_import_load

    step("import_load", lambda: m_import_load.import_under_load(small(), sizes.import_load_rows))
    step("api", lambda: m_import.api_vs_web(small(), sizes.page_rounds))
    from . import m_statements

    step("statements", lambda: m_statements.statement_counts(small()))
    for env in envs.values():
        env.dispose()
    return results


def _generation(env) -> list[Result]:  # type: ignore[no-untyped-def]
    nominals, records = env.generated
    seconds = env.generate_seconds or float("nan")
    return [
        Result(
            "generate",
            f"benchmarks/generate.py {nominals:,} nominals / {records:,} records",
            seconds,
            "s",
            note=f"{records / seconds:,.0f} records/s through the real sealing path; CLI said: "
            f"{env.generate_output.splitlines()[-1] if env.generate_output else ''}",
        )
    ]


def _writes(root: Path, sqlite_env, sizes: Sizes, seed: int) -> list[Result]:  # type: ignore[no-untyped-def]
    from . import env as E
    from . import m_write

    results = m_write.write_path(sqlite_env, "SQLite", sizes.write_notes, sizes.write_rounds)
    try:
        from tests.support import postgres
    except ImportError:
        postgres = None  # type: ignore[assignment]
    if postgres is None or not postgres.available():
        results.append(
            Result(
                "4 write",
                "PostgreSQL",
                float("nan"),
                "",
                note="skipped: PostgreSQL not available here",
            )
        )
        return results
    _say("  starting a throwaway PostgreSQL server")
    with postgres.PostgresServer() as server:
        url = server.create_database("bench")
        pg_env = E.build(
            root / "pg",
            "pg",
            nominals=0,
            records=0,
            seed=seed,
            url=url,
            case_records=sizes.case_records,
        )
        try:
            results += m_write.write_path(
                pg_env, "PostgreSQL", sizes.write_notes, sizes.write_rounds
            )
        finally:
            pg_env.dispose()
    return results


def _audit(root: Path, sizes: Sizes) -> list[Result]:
    from . import env as E
    from . import m_audit

    platform = E.new_platform(f"sqlite:///{root / 'audit' / 'db.sqlite'}", root / "audit" / "keys")
    try:
        out = m_audit.append(platform, sizes.audit_entries)
        m_audit.fill(platform, sizes.verify_entries)
        out += m_audit.verification(platform, sizes.verify_rounds)
    finally:
        platform.db.dispose()
    return out


def _server(env, sizes: Sizes) -> list[Result]:  # type: ignore[no-untyped-def]
    from . import m_server

    return m_server.server(env, sizes.server_seconds, sizes.server_clients, client_counts=(4,))
