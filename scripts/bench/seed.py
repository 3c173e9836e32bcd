#!/usr/bin/env python3
"""Seeds a benchmark database in bulk, SQL-side (generate_series), with a sound ledger.

For `customers` N: users `bench0` … `bench{N-1}` (ids 1…N, one precomputed argon2id hash of
`bench-password` for all), two accounts each (ids 2u-1 checking, 2u savings, numbers
5000000000 + id), and `postings` P transactions:

- ids 1…2N: one opening deposit per account (10,000,000 cents; 10^10 for the hot accounts);
- ids 2N+1…P: transfers between two different random accounts (1…10,000 cents), except
  that every `stride`-th one is a posting of one of the `hot` hot accounts (the checking
  accounts of bench0 … bench{hot-1}), alternately paid out and paid in, until each hot
  account has `hot_postings` of them: a skewed history, a few accounts with 10^5+ postings.

Timestamps grow with the id over the last 365 days, so statements find them. Balances are
then set to credits − debits in one aggregate, and checked: each balance equals its
postings' sum, none is negative, and the total equals the deposits. Every debit is far
below the opening deposit, so no running balance is ever negative either.

While loading, the history indexes are dropped (and rebuilt after, sorted, much faster
than maintained row by row) and foreign-key triggers are off for the session
(`session_replication_role = replica`; the ids are constructed valid, and the checks
above run after). Progress goes to stdout; the seeding time is returned.

    python3 scripts/bench/seed.py DBNAME CUSTOMERS [POSTINGS HOT HOT_POSTINGS]

expects a migrated, empty database DBNAME (run.py creates and migrates it) and
BENCH_PASSWORD_HASH in the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

PG_ADMIN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BASE = PG_ADMIN.rsplit("/", 1)[0]
CHUNK = 1_000_000


@dataclass(frozen=True)
class Scale:
    customers: int
    postings: int
    hot: int
    hot_postings: int

    @property
    def accounts(self) -> int:
        return 2 * self.customers

    @staticmethod
    def standard(customers: int) -> "Scale":
        """10 postings per customer; at 10^6 customers four accounts with 120,000 postings,
        below that two with a fifth of the postings between them."""
        postings = 10 * customers
        if customers >= 1_000_000:
            return Scale(customers, postings, 4, 120_000)
        return Scale(customers, postings, 2, postings // 10)

    def describe(self) -> str:
        return (f"{self.customers:,} customers, {self.accounts:,} accounts, {self.postings:,} postings; "
                f"{self.hot} hot accounts with {self.hot_postings:,} postings each")


def psql(db: str, sql: str, capture: bool = False) -> str:
    result = subprocess.run(["psql", f"{PG_BASE}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", sql],
                            check=True, capture_output=True, text=True)
    return result.stdout.strip() if capture else ""


def seeded_scale(db: str) -> Scale | None:
    """The scale a database was seeded at, when the seeding finished."""
    exists = psql(db, "SELECT to_regclass('bench_seed') IS NOT NULL", capture=True)
    if exists != "t":
        return None
    row = psql(db, "SELECT customers, postings, hot, hot_postings FROM bench_seed", capture=True)
    if not row:
        return None
    return Scale(*map(int, row.split("|")))


def seed(db: str, scale: Scale, password_hash: str, log=print) -> float:
    """Seeds `db` (migrated, empty) at `scale`; returns the seconds it took."""
    assert scale.postings - scale.accounts >= scale.hot * scale.hot_postings, "too few postings for the hot accounts"
    started = time.time()
    n, a, p = scale.customers, scale.accounts, scale.postings
    hot_total = scale.hot * scale.hot_postings
    transfers = p - a
    stride = max(1, transfers // max(hot_total, 1))
    # Timestamps: the last 365 days, in id order.
    start, step = "now() - interval '365 days'", f"(interval '365 days' / {p})"
    load = "SET synchronous_commit = off; SET session_replication_role = replica; "

    def progress(what: str, done: int, total: int) -> None:
        log(f"seed: {what} {done:,} / {total:,} ({100 * done / total:.0f}%), {time.time() - started:.0f} s", flush=True)

    hash_literal = password_hash.replace("'", "''")
    for lo in range(1, n + 1, CHUNK):
        hi = min(lo + CHUNK - 1, n)
        psql(db, load + f"""INSERT INTO users (id, username, password_hash, email, created_at)
            SELECT u, 'bench' || (u - 1), '{hash_literal}', 'bench' || (u - 1) || '@example.com',
                   now() - interval '400 days'
            FROM generate_series({lo}, {hi}) u""")
        progress("customers", hi, n)
    for lo in range(1, a + 1, CHUNK):
        hi = min(lo + CHUNK - 1, a)
        psql(db, load + f"""INSERT INTO accounts (id, user_id, account_number, type, balance, currency, created_at)
            SELECT x, (x + 1) / 2, (5000000000 + x)::text,
                   CASE WHEN x % 2 = 1 THEN 'checking' ELSE 'savings' END, 0, 'USD',
                   now() - interval '400 days'
            FROM generate_series({lo}, {hi}) x""")
        progress("accounts", hi, a)

    # Loading into the history indexes row by row is the slow part: drop, load, rebuild.
    indexes = psql(db, "SELECT indexname || E'\\t' || indexdef FROM pg_indexes WHERE tablename = 'transactions' "
                       "AND indexname <> 'transactions_pkey'", capture=True).splitlines()
    for line in indexes:
        psql(db, f'DROP INDEX "{line.split(chr(9), 1)[0]}"')

    for lo in range(1, p + 1, CHUNK):
        hi = min(lo + CHUNK - 1, p)
        deposits_hi = min(hi, a)
        if lo <= a:
            psql(db, load + f"""INSERT INTO transactions
                (id, from_account, to_account, amount, description, idempotency_key, initiated_by, created_at)
                SELECT x, NULL, x,
                       CASE WHEN x % 2 = 1 AND x < {2 * scale.hot} THEN 10000000000 ELSE 10000000 END,
                       'Opening deposit', 'seed-' || x, (x + 1) / 2, {start} + x * {step}
                FROM generate_series({lo}, {deposits_hi}) x""")
        t_lo = max(lo, a + 1)
        if t_lo <= hi:
            # r1: a random account; r2: a random offset 1…A-1, so (r1 + r2) is another one.
            # j: which hot posting this is; its account is the checking account of customer
            # j % hot, paid out on even rounds and paid in on odd ones.
            psql(db, load + f"""INSERT INTO transactions
                (id, from_account, to_account, amount, description, idempotency_key, initiated_by, created_at)
                SELECT id, f, t, amount, NULL, 'seed-' || id, (f + 1) / 2, {start} + id * {step}
                FROM (
                  SELECT id,
                    CASE WHEN NOT hot THEN r1 WHEN dir = 0 THEN h ELSE 1 + (h - 1 + r2) % {a} END AS f,
                    CASE WHEN NOT hot THEN 1 + (r1 - 1 + r2) % {a} WHEN dir = 0 THEN 1 + (h - 1 + r2) % {a} ELSE h END AS t,
                    amount
                  FROM (
                    SELECT id, hot, 2 * (j % {max(scale.hot, 1)}) + 1 AS h, (j / {max(scale.hot, 1)}) % 2 AS dir,
                           r1, r2, amount
                    FROM (
                      SELECT id, (id - {a + 1}) / {stride} AS j,
                             (id - {a + 1}) % {stride} = 0 AND (id - {a + 1}) / {stride} < {hot_total} AS hot,
                             1 + floor(random() * {a})::bigint AS r1,
                             1 + floor(random() * {a - 1})::bigint AS r2,
                             1 + floor(random() * 10000)::bigint AS amount
                      FROM generate_series({t_lo}, {hi}) id
                    ) drawn
                  ) placed
                ) legs""")
        progress("postings", hi, p)

    log("seed: rebuilding the history indexes", flush=True)
    for line in indexes:
        psql(db, "SET maintenance_work_mem = '512MB'; " + line.split("\t", 1)[1])
    log("seed: balances = credits - debits", flush=True)
    net = """SELECT account, sum(delta) AS net FROM (
               SELECT to_account AS account, amount AS delta FROM transactions
               UNION ALL SELECT from_account, -amount FROM transactions WHERE from_account IS NOT NULL
             ) legs GROUP BY account"""
    psql(db, f"SET work_mem = '256MB'; UPDATE accounts SET balance = net.net FROM ({net}) net WHERE accounts.id = net.account")
    for table, column in [("users", "id"), ("accounts", "id"), ("transactions", "id")]:
        psql(db, f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) FROM {table}))")
    log("seed: VACUUM ANALYZE", flush=True)
    for table in ["users", "accounts", "transactions"]:
        psql(db, f"VACUUM (ANALYZE) {table}")

    log("seed: checking the ledger", flush=True)
    checks = psql(db, f"""SET work_mem = '256MB';
        SELECT (SELECT count(*) FROM accounts a LEFT JOIN ({net}) n ON n.account = a.id
                WHERE a.balance <> coalesce(n.net, 0)),
               (SELECT count(*) FROM accounts WHERE balance < 0),
               (SELECT sum(balance) FROM accounts) = (SELECT sum(amount) FROM transactions WHERE from_account IS NULL),
               (SELECT count(*) FROM transactions),
               (SELECT max(c) FROM (SELECT count(*) c FROM transactions WHERE from_account = 1 OR to_account = 1) x)""",
                  capture=True).splitlines()[-1].split("|")
    mismatched, negative, total_ok, count, hot_count = checks
    if mismatched != "0" or negative != "0" or total_ok != "t" or int(count) != p:
        raise SystemExit(f"seeded ledger is not sound: {mismatched} balances differ from their postings, "
                         f"{negative} negative, total = deposits: {total_ok}, {count} postings")
    elapsed = time.time() - started
    psql(db, f"""CREATE TABLE bench_seed AS SELECT {n} AS customers, {p} AS postings, {scale.hot} AS hot,
                 {scale.hot_postings} AS hot_postings, {elapsed:.1f} AS seconds""")
    log(f"seed: done in {elapsed:.0f} s: {scale.describe()}; sound (balances = postings, none negative, "
        f"total = deposits); the first hot account has {int(hot_count):,} postings", flush=True)
    return elapsed


def seconds_taken(db: str) -> float:
    return float(psql(db, "SELECT seconds FROM bench_seed", capture=True))


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (2, 5):
        raise SystemExit(__doc__)
    scale = Scale.standard(int(args[1])) if len(args) == 2 else Scale(*map(int, args[1:]))
    seed(args[0], scale, os.environ["BENCH_PASSWORD_HASH"])
