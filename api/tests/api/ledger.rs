//! The ledger rules, against a real database: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set (always in CI).

use std::collections::HashSet;
use std::sync::Arc;

use api::ledger::{
    Account, AccountId, AccountNumber, AccountType, Cursor, DepositRequest, Description, Email,
    Error, IdempotencyKey, Input, Ledger, Money, Password, Target, TransferRequest, User, Username,
    db,
};
use rand::Rng;
use testkit::{Backend, TestDatabase, backends};

async fn ledger(backend: Backend) -> (Ledger, TestDatabase) {
    let database = TestDatabase::new(backend).await;
    let conn = db::connect(
        &database.url,
        &db::PoolSettings {
            max_connections: 20,
            ..Default::default()
        },
    )
    .await
    .expect("connect");
    (Ledger::new(conn), database)
}

async fn customer(ledger: &Ledger, name: &str) -> User {
    ledger
        .sign_up(
            &Username::parse(name).expect("username"),
            &Password::parse("correct horse battery").expect("password"),
            &Email::parse(&format!("{name}@example.com")).expect("email"),
        )
        .await
        .expect("sign up")
}

fn money(amount: &str) -> Money {
    Money::parse_amount(amount).expect("amount")
}

fn deposit_of(account: AccountId, amount: &str) -> DepositRequest {
    DepositRequest {
        account,
        amount: money(amount),
        description: Description::parse(None).expect("description"),
        idempotency_key: IdempotencyKey::generate(),
    }
}

async fn deposit(ledger: &Ledger, user: &User, account: AccountId, amount: &str) {
    ledger
        .deposit(user.id, deposit_of(account, amount))
        .await
        .expect("deposit");
}

/// Two customers and their first accounts, Alice's holding 100.00.
async fn alice_and_bob(ledger: &Ledger) -> (User, User, Account, Account) {
    let alice = customer(ledger, "alice").await;
    let bob = customer(ledger, "bob").await;
    let a = ledger.accounts(alice.id).await.expect("accounts")[0].clone();
    let b = ledger.accounts(bob.id).await.expect("accounts")[0].clone();
    deposit(ledger, &alice, a.id, "100.00").await;
    (alice, bob, a, b)
}

fn transfer_to(from: AccountId, to: &str, amount: &str, key: &str) -> TransferRequest {
    TransferRequest {
        from_account: from,
        to: Target::Number(AccountNumber::parse(to, Input::TargetAccount).expect("number")),
        amount: money(amount),
        description: Description::parse(Some("test")).expect("description"),
        idempotency_key: IdempotencyKey::parse(key).expect("key"),
    }
}

async fn balances(ledger: &Ledger, users: &[&User]) -> Vec<i64> {
    let mut all = Vec::new();
    for user in users {
        for account in ledger.accounts(user.id).await.expect("accounts") {
            all.push(account.balance.cents());
        }
    }
    all
}

#[tokio::test]
async fn sign_up_opens_a_checking_account_and_refuses_a_taken_name() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let alice = customer(&ledger, "Alice").await;
        assert_eq!(alice.username, "alice");
        let accounts = ledger.accounts(alice.id).await.expect("accounts");
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].account_type, AccountType::Checking);
        assert_eq!(accounts[0].balance, Money::ZERO);
        assert!(AccountNumber::parse(&accounts[0].number, Input::TargetAccount).is_ok());

        let again = ledger
            .sign_up(
                &Username::parse("ALICE").expect("username"),
                &Password::parse("another password").expect("password"),
                &Email::parse("x@example.com").expect("email"),
            )
            .await;
        assert!(
            matches!(again, Err(Error::Conflict { .. })),
            "{backend:?}: {again:?}"
        );

        assert!(
            ledger
                .authenticate("alice", "correct horse battery")
                .await
                .is_ok()
        );
        assert!(matches!(
            ledger.authenticate("alice", "wrong password").await,
            Err(Error::InvalidCredentials)
        ));
        assert!(matches!(
            ledger.authenticate("nobody", "correct horse battery").await,
            Err(Error::InvalidCredentials)
        ));
        assert!(matches!(
            ledger.authenticate("<bad name>", "x").await,
            Err(Error::InvalidCredentials)
        ));
    }
}

#[tokio::test]
async fn a_transfer_moves_money_once_and_refusals_change_nothing() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let (alice, bob, a, b) = alice_and_bob(&ledger).await;

        let posted = ledger
            .transfer(alice.id, transfer_to(a.id, &b.number, "30.25", "t-1"))
            .await
            .expect("transfer");
        assert!(!posted.replayed);
        assert_eq!(posted.transaction.amount.to_string(), "30.25");
        assert_eq!(posted.transaction.from_account, Some(a.id));
        assert_eq!(posted.transaction.to_account, b.id);
        assert_eq!(balances(&ledger, &[&alice, &bob]).await, vec![6975, 3025]);

        // The same key and parameters: the original comes back and no money moves.
        let retried = ledger
            .transfer(alice.id, transfer_to(a.id, &b.number, "30.25", "t-1"))
            .await
            .expect("retry");
        assert!(retried.replayed);
        assert_eq!(retried.transaction.id, posted.transaction.id);
        assert_eq!(balances(&ledger, &[&alice, &bob]).await, vec![6975, 3025]);

        let refusals: Vec<(&str, Result<_, Error>)> = vec![
            (
                "same key, other amount",
                ledger
                    .transfer(alice.id, transfer_to(a.id, &b.number, "1.00", "t-1"))
                    .await,
            ),
            (
                "insufficient funds",
                ledger
                    .transfer(alice.id, transfer_to(a.id, &b.number, "69.76", "t-2"))
                    .await,
            ),
            (
                "not the owner",
                ledger
                    .transfer(alice.id, transfer_to(b.id, &a.number, "1.00", "t-3"))
                    .await,
            ),
            (
                "unknown target",
                ledger
                    .transfer(alice.id, transfer_to(a.id, "1000000000", "1.00", "t-4"))
                    .await,
            ),
            (
                "same account",
                ledger
                    .transfer(alice.id, transfer_to(a.id, &a.number, "1.00", "t-5"))
                    .await,
            ),
            (
                "missing source",
                ledger
                    .transfer(
                        alice.id,
                        transfer_to(AccountId(999_999), &b.number, "1.00", "t-6"),
                    )
                    .await,
            ),
            (
                "not the owner, unknown target",
                ledger
                    .transfer(alice.id, transfer_to(b.id, "1000000000", "1.00", "t-7"))
                    .await,
            ),
            (
                "deposit into another's account",
                ledger.deposit(alice.id, deposit_of(b.id, "5.00")).await,
            ),
        ];
        for (case, result) in refusals {
            let expected = match case {
                "same key, other amount" => matches!(result, Err(Error::Conflict { .. })),
                "insufficient funds" => matches!(result, Err(Error::InsufficientFunds)),
                "not the owner" | "missing source" | "not the owner, unknown target" => matches!(
                    result,
                    Err(Error::NotFound {
                        what: "account",
                        input: Some(Input::SourceAccount)
                    })
                ),
                "deposit into another's account" => matches!(
                    result,
                    Err(Error::NotFound {
                        what: "account",
                        input: Some(Input::Account)
                    })
                ),
                "unknown target" => matches!(
                    result,
                    Err(Error::NotFound {
                        what: "target account",
                        input: Some(Input::TargetAccount)
                    })
                ),
                "same account" => matches!(
                    result,
                    Err(Error::InvalidInput {
                        input: Some(Input::TargetAccount),
                        ..
                    })
                ),
                _ => false,
            };
            assert!(expected, "{backend:?} {case}: {result:?}");
            assert_eq!(
                balances(&ledger, &[&alice, &bob]).await,
                vec![6975, 3025],
                "{backend:?} {case} changed a balance"
            );
        }

        // Spending exactly the balance is allowed; one cent more is not.
        ledger
            .transfer(alice.id, transfer_to(a.id, &b.number, "69.75", "t-8"))
            .await
            .expect("spend all");
        assert!(matches!(
            ledger
                .transfer(alice.id, transfer_to(a.id, &b.number, "0.01", "t-9"))
                .await,
            Err(Error::InsufficientFunds)
        ));
        assert_eq!(balances(&ledger, &[&alice, &bob]).await, vec![0, 10000]);
        // A retry of a posting the balance no longer covers still gets that posting.
        let again = ledger
            .transfer(alice.id, transfer_to(a.id, &b.number, "69.75", "t-8"))
            .await
            .expect("a retry after spending all");
        assert!(again.replayed, "{backend:?}");
        assert_eq!(balances(&ledger, &[&alice, &bob]).await, vec![0, 10000]);
        testkit::assert_ledger_sound(&ledger).await;
    }
}

#[tokio::test]
async fn a_posting_that_would_overflow_a_balance_is_refused_and_changes_nothing() {
    use sea_orm::ConnectionTrait;
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let (alice, bob, a, b) = alice_and_bob(&ledger).await;
        // Only a balance written outside the ledger comes this near the largest one.
        let near = i64::MAX - 50;
        ledger
            .db()
            .execute_unprepared(&format!(
                "UPDATE accounts SET balance = {near} WHERE id = {}",
                b.id
            ))
            .await
            .expect("update");
        let by_id = TransferRequest {
            to: Target::Id(b.id),
            ..transfer_to(a.id, &b.number, "1.00", "o-2")
        };
        let refusals = [
            (
                "transfer by number",
                ledger
                    .transfer(alice.id, transfer_to(a.id, &b.number, "1.00", "o-1"))
                    .await,
            ),
            ("transfer by id", ledger.transfer(alice.id, by_id).await),
            (
                "deposit",
                ledger.deposit(bob.id, deposit_of(b.id, "0.51")).await,
            ),
        ];
        for (case, result) in refusals {
            assert!(
                matches!(
                    result,
                    Err(Error::InvalidInput {
                        input: Some(Input::Amount),
                        ..
                    })
                ),
                "{backend:?} {case}: {result:?}"
            );
            assert_eq!(
                balances(&ledger, &[&alice, &bob]).await,
                vec![10000, near],
                "{backend:?} {case} changed a balance"
            );
        }
        // What still fits moves, to the cent.
        ledger
            .transfer(alice.id, transfer_to(a.id, &b.number, "0.50", "o-3"))
            .await
            .expect("fits");
        assert_eq!(
            balances(&ledger, &[&alice, &bob]).await,
            vec![9950, i64::MAX]
        );
    }
}

#[tokio::test]
async fn history_is_newest_first_in_cursor_pages_for_the_owner_only() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let alice = customer(&ledger, "alice").await;
        let bob = customer(&ledger, "bob").await;
        let a = ledger.accounts(alice.id).await.expect("accounts")[0].clone();
        let b = ledger.accounts(bob.id).await.expect("accounts")[0].clone();
        deposit(&ledger, &alice, a.id, "500.00").await;
        for i in 0..7 {
            ledger
                .transfer(
                    alice.id,
                    transfer_to(a.id, &b.number, &format!("{}.00", i + 1), &format!("h-{i}")),
                )
                .await
                .expect("transfer");
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = ledger
                .history(
                    api::ledger::HistoryOf::Named {
                        user_id: alice.id,
                        account_id: a.id,
                    },
                    3,
                    after,
                )
                .await
                .expect("page");
            seen.extend(page.items.iter().map(|t| t.id));
            if !page.has_next_page {
                break;
            }
            after = page.items.last().map(api::ledger::HistoryPage::cursor_of);
        }
        assert_eq!(seen.len(), 8, "7 transfers and the deposit");
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "newest first: {seen:?}"
        );

        // Bob sees the 7 incoming transfers in his account, and nothing of Alice's.
        let bobs = ledger
            .history(
                api::ledger::HistoryOf::Named {
                    user_id: bob.id,
                    account_id: b.id,
                },
                100,
                None,
            )
            .await
            .expect("history");
        assert_eq!(bobs.items.len(), 7);
        // The same page for an account already read as Bob's, without looking it up again.
        let bobs_account = ledger.account(bob.id, b.id).await.expect("account");
        let owned = ledger
            .history(api::ledger::HistoryOf::Owned(&bobs_account), 100, None)
            .await
            .expect("history");
        assert_eq!(
            owned.items.iter().map(|t| t.id).collect::<Vec<_>>(),
            bobs.items.iter().map(|t| t.id).collect::<Vec<_>>()
        );
        assert!(matches!(
            ledger
                .history(
                    api::ledger::HistoryOf::Named {
                        user_id: bob.id,
                        account_id: a.id
                    },
                    10,
                    None
                )
                .await,
            Err(Error::NotFound {
                what: "account",
                ..
            })
        ));
        assert!(Cursor::parse("not-a-cursor").is_err());
    }
}

/// The history pages (read from the two direction indexes and merged, `ledger/history.rs`)
/// are exactly the pages of the plain query they replaced: every posting into or out of
/// the account, `from_account = $1 OR to_account = $1`, newest first, cut at the cursor.
#[tokio::test]
async fn history_pages_are_the_pages_of_one_query_over_both_directions() {
    use entities::transactions;
    use sea_orm::sea_query::Condition;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let alice = customer(&ledger, "alice").await;
        let bob = customer(&ledger, "bob").await;
        let carol = customer(&ledger, "carol").await;
        let mut accounts = Vec::new();
        for user in [&alice, &bob, &carol] {
            let account = ledger.accounts(user.id).await.expect("accounts")[0].clone();
            deposit(&ledger, user, account.id, "1000.00").await;
            accounts.push((user.clone(), account));
        }
        // Payments in every direction, in a random order, so each account's postings
        // interleave sent and received.
        let mut rng = rand::thread_rng();
        for i in 0..60 {
            let from = rng.gen_range(0..3);
            let to = (from + rng.gen_range(1..3)) % 3;
            let (payer, source) = &accounts[from];
            ledger
                .transfer(
                    payer.id,
                    transfer_to(source.id, &accounts[to].1.number, "1.00", &format!("k-{i}")),
                )
                .await
                .expect("transfer");
        }
        for (user, account) in &accounts {
            let expected: Vec<i64> = transactions::Entity::find()
                .filter(
                    Condition::any()
                        .add(transactions::Column::FromAccount.eq(account.id.0))
                        .add(transactions::Column::ToAccount.eq(account.id.0)),
                )
                .order_by_desc(transactions::Column::Id)
                .all(ledger.db())
                .await
                .expect("plain query")
                .into_iter()
                .map(|t| t.id)
                .collect();
            assert!(expected.len() > 10, "a history of some length");
            for size in [1, 3, 7, 20, 100] {
                let mut pages = Vec::new();
                let mut after = None;
                loop {
                    let page = ledger
                        .history(
                            api::ledger::HistoryOf::Named {
                                user_id: user.id,
                                account_id: account.id,
                            },
                            size,
                            after,
                        )
                        .await
                        .expect("page");
                    pages.push(page.items.iter().map(|t| t.id).collect::<Vec<_>>());
                    if !page.has_next_page {
                        break;
                    }
                    after = page.items.last().map(api::ledger::HistoryPage::cursor_of);
                }
                let want: Vec<Vec<i64>> = expected
                    .chunks(size as usize)
                    .map(<[i64]>::to_vec)
                    .collect();
                assert_eq!(pages, want, "{backend:?}, pages of {size}");
            }
        }
        testkit::assert_ledger_sound(&ledger).await;
    }
}

#[tokio::test]
async fn an_overview_is_the_accounts_and_the_first_pages_read_apart() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let alice = customer(&ledger, "alice").await;
        let bob = customer(&ledger, "bob").await;
        // Alice: a busy checking account, a savings account with a few postings and one
        // with none; Bob pays her and is paid.
        let checking = ledger.accounts(alice.id).await.expect("accounts")[0].clone();
        let savings = ledger
            .open_account(alice.id, AccountType::Savings)
            .await
            .expect("savings");
        ledger
            .open_account(alice.id, AccountType::Savings)
            .await
            .expect("empty savings");
        let theirs = ledger.accounts(bob.id).await.expect("accounts")[0].clone();
        deposit(&ledger, &alice, checking.id, "900.00").await;
        deposit(&ledger, &bob, theirs.id, "900.00").await;
        for i in 0..12 {
            let (payer, from, to) = match i % 3 {
                0 => (&alice, checking.id, &theirs.number),
                1 => (&bob, theirs.id, &checking.number),
                _ => (&alice, checking.id, &savings.number),
            };
            ledger
                .transfer(payer.id, transfer_to(from, to, "1.25", &format!("o-{i}")))
                .await
                .expect("transfer");
        }
        let mut everyone = std::collections::HashMap::new();
        for user in [&alice, &bob] {
            for account in ledger.accounts(user.id).await.expect("accounts") {
                everyone.insert(account.id, account.number);
            }
        }
        for size in [1, 2, 5, 20, 100] {
            let overview = ledger.overview(alice.id, size).await.expect("overview");
            let accounts = ledger.accounts(alice.id).await.expect("accounts");
            assert_eq!(overview.accounts.len(), 3, "{backend:?}");
            for ((account, page), expected) in overview.accounts.iter().zip(&accounts) {
                assert_eq!(account, expected, "{backend:?}");
                let apart = ledger
                    .history(api::ledger::HistoryOf::Owned(expected), size, None)
                    .await
                    .expect("page");
                let ids =
                    |p: &api::ledger::HistoryPage| p.items.iter().map(|t| t.id).collect::<Vec<_>>();
                assert_eq!(ids(page), ids(&apart), "{backend:?}, first {size}");
                assert_eq!(
                    page.has_next_page, apart.has_next_page,
                    "{backend:?}, first {size}"
                );
                // Every number the overview gives is the account's own.
                assert_eq!(overview.numbers.get(&account.id), Some(&account.number));
                for t in &page.items {
                    for id in t.from_account.into_iter().chain([t.to_account]) {
                        if let Some(number) = overview.numbers.get(&id) {
                            assert_eq!(Some(number), everyone.get(&id), "{backend:?}");
                        } else {
                            assert_ne!(
                                backend,
                                testkit::Backend::Postgres,
                                "PostgreSQL names every side"
                            );
                        }
                    }
                }
            }
        }
        // Bob's overview shows none of Alice's accounts.
        let theirs_only = ledger.overview(bob.id, 20).await.expect("overview");
        assert_eq!(theirs_only.accounts.len(), 1);
        assert_eq!(theirs_only.accounts[0].0.id, theirs.id);
        // Each overview is its own customer's, as `user` reads them; no customer, no
        // overview.
        for user in [&alice, &bob] {
            let overview = ledger.overview(user.id, 5).await.expect("overview");
            let apart = ledger.user(user.id).await.expect("user");
            assert_eq!(overview.user, apart, "{backend:?}");
        }
        let nobody = api::ledger::UserId(i64::MAX);
        assert!(
            matches!(
                ledger.overview(nobody, 5).await,
                Err(Error::NotFound { what: "user", .. })
            ),
            "{backend:?}"
        );
        testkit::assert_ledger_sound(&ledger).await;
    }
}

#[tokio::test]
async fn concurrent_random_transfers_keep_the_invariant() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        // 5 customers with a checking and a savings account each: 10 accounts.
        let mut accounts = Vec::new();
        for i in 0..5 {
            let user = customer(&ledger, &format!("user{i}")).await;
            ledger
                .open_account(user.id, AccountType::Savings)
                .await
                .expect("savings");
            for account in ledger.accounts(user.id).await.expect("accounts") {
                deposit(&ledger, &user, account.id, "1000.00").await;
                accounts.push((user.id, account.id, account.number));
            }
        }
        assert_eq!(accounts.len(), 10);
        let total_before: i64 = 10 * 100_000;
        let accounts = Arc::new(accounts);
        let tasks = 32;
        let per_task = 64; // 2,048 transfers
        let mut handles = Vec::new();
        for task in 0..tasks {
            let ledger = ledger.clone();
            let accounts = accounts.clone();
            handles.push(tokio::spawn(async move {
                let mut ok = Vec::new();
                let mut refused = 0;
                for i in 0..per_task {
                    let (from, to, amount) = {
                        let mut rng = rand::thread_rng();
                        let from = rng.gen_range(0..accounts.len());
                        let mut to = rng.gen_range(0..accounts.len() - 1);
                        if to >= from {
                            to += 1;
                        }
                        (from, to, rng.gen_range(1..=50_000))
                    };
                    let (owner, from_id, _) = &accounts[from];
                    let (_, _, to_number) = &accounts[to];
                    let request = TransferRequest {
                        from_account: *from_id,
                        to: Target::Number(
                            AccountNumber::parse(to_number, Input::TargetAccount).expect("number"),
                        ),
                        amount: Money::parse_amount(&format!(
                            "{}.{:02}",
                            amount / 100,
                            amount % 100
                        ))
                        .expect("amount"),
                        description: Description::parse(None).expect("description"),
                        idempotency_key: IdempotencyKey::parse(&format!("c-{task}-{i}"))
                            .expect("key"),
                    };
                    match ledger.transfer(*owner, request).await {
                        Ok(posted) => ok.push(posted.transaction.id),
                        Err(Error::InsufficientFunds) => refused += 1,
                        Err(other) => panic!("transfer failed: {other:?}"),
                    }
                }
                (ok, refused)
            }));
        }
        let mut posted = Vec::new();
        let mut refused = 0;
        for handle in handles {
            let (ok, r) = handle.await.expect("task");
            posted.extend(ok);
            refused += r;
        }
        assert_eq!(posted.len() + refused, tasks * per_task);
        assert!(
            posted.len() > tasks * per_task / 2,
            "most transfers succeed: {}",
            posted.len()
        );
        let unique: HashSet<_> = posted.iter().collect();
        assert_eq!(
            unique.len(),
            posted.len(),
            "one transaction row per transfer"
        );

        let mut total = 0;
        let mut rows = HashSet::new();
        for (owner, account_id, _) in accounts.iter() {
            let account = ledger.account(*owner, *account_id).await.expect("account");
            assert!(account.balance.cents() >= 0);
            total += account.balance.cents();
            let history = ledger
                .history(
                    api::ledger::HistoryOf::Named {
                        user_id: *owner,
                        account_id: *account_id,
                    },
                    100,
                    None,
                )
                .await
                .expect("history");
            let _ = history;
            rows.insert(*account_id);
        }
        assert_eq!(
            total, total_before,
            "{backend:?}: money was created or destroyed"
        );
        assert_eq!(
            ledger.verify().await.expect("verify"),
            vec![],
            "{backend:?}"
        );
        let transfers_in_db: i64 = count_transfers(&ledger).await;
        assert_eq!(transfers_in_db as usize, posted.len(), "{backend:?}");
    }
}

async fn count_transfers(ledger: &Ledger) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    entities::transactions::Entity::find()
        .filter(entities::transactions::Column::FromAccount.is_not_null())
        .count(ledger.db())
        .await
        .expect("count") as i64
}

#[tokio::test]
async fn the_same_key_sent_by_16_tasks_at_once_moves_money_once() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let (alice, bob, a, b) = alice_and_bob(&ledger).await;

        let mut handles = Vec::new();
        for _ in 0..16 {
            let ledger = ledger.clone();
            let request = transfer_to(a.id, &b.number, "10.00", "same-key");
            let user = alice.id;
            handles.push(tokio::spawn(
                async move { ledger.transfer(user, request).await },
            ));
        }
        let mut ids = HashSet::new();
        let mut fresh = 0;
        for handle in handles {
            let posted = handle.await.expect("task").expect("every retry succeeds");
            ids.insert(posted.transaction.id);
            if !posted.replayed {
                fresh += 1;
            }
        }
        assert_eq!(ids.len(), 1, "{backend:?}: all 16 got the same transaction");
        assert_eq!(fresh, 1, "{backend:?}: exactly one moved money");
        assert_eq!(balances(&ledger, &[&alice, &bob]).await, vec![9000, 1000]);

        let conflict = ledger
            .transfer(alice.id, transfer_to(a.id, &b.number, "11.00", "same-key"))
            .await;
        assert!(
            matches!(conflict, Err(Error::Conflict { .. })),
            "{conflict:?}"
        );
        assert_eq!(balances(&ledger, &[&alice, &bob]).await, vec![9000, 1000]);
        testkit::assert_ledger_sound(&ledger).await;
    }
}

#[tokio::test]
async fn the_demo_seed_is_idempotent_and_sound() {
    for backend in backends() {
        let (ledger, _db) = ledger(backend).await;
        let first = ledger.seed_demo().await.expect("seed");
        assert_eq!(first.created, vec!["alice", "bob", "carol"]);
        let again = ledger.seed_demo().await.expect("seed again");
        assert!(again.created.is_empty());
        testkit::assert_ledger_sound(&ledger).await;
        let alice = ledger
            .authenticate("alice", api::ledger::DEMO_PASSWORD)
            .await
            .expect("demo login");
        let accounts = ledger.accounts(alice.id).await.expect("accounts");
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].balance.to_string(), "2500.00");
    }
}

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    use migration::{Migrator, MigratorTrait};
    for backend in backends() {
        let database = TestDatabase::new(backend).await;
        let conn = db::connect(&database.url, &db::PoolSettings::default())
            .await
            .expect("connect");
        assert!(db::is_migrated(&conn).await.expect("status"));
        Migrator::down(&conn, None).await.expect("down");
        assert!(!db::is_migrated(&conn).await.expect("status"));
        Migrator::up(&conn, None).await.expect("up");
        assert!(db::is_migrated(&conn).await.expect("status"));
    }
}

#[test]
fn ci_cannot_skip_the_postgres_tests() {
    // In CI the database URL must be there; the helper itself panics when it is not.
    if std::env::var_os("CI").is_some() {
        assert!(testkit::postgres_admin_url().is_some());
        assert!(testkit::redis_url().is_some());
    }
    let guard = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "ledger::ci_guard_probe", "--nocapture"])
        .env("CI", "true")
        .env_remove("TEST_DATABASE_URL")
        .env("RUN_CI_GUARD_PROBE", "1")
        .output()
        .expect("run probe");
    assert!(
        !guard.status.success(),
        "with CI set and TEST_DATABASE_URL unset, the database tests must fail"
    );
}

#[test]
fn ci_guard_probe() {
    if std::env::var_os("RUN_CI_GUARD_PROBE").is_some() {
        let _ = testkit::backends();
    }
}
