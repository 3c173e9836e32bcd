//! Seeds a benchmark database fast: `USERS` customers (default 10,000) named `bench{n}`
//! with the password `bench-password`, each with a checking account holding 1,000.00 from
//! one deposit, written in bulk with one argon2 hash computed once. Not part of the
//! product; `just bench` runs it.

use api::ledger::{Email, Password, Username, db};
use chrono::Utc;
use entities::{accounts, transactions, users};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, TransactionTrait};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let count: i64 = std::env::var("USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let conn = db::connect(&url, &db::PoolSettings::default()).await?;
    db::migrate(&conn).await?;
    let existing = users::Entity::find().count(&conn).await?;
    if existing as i64 >= count {
        println!("{existing} users already there");
        return Ok(());
    }
    let hash = api::ledger::Passwords::with_threads(1)
        .hash(&Password::parse("bench-password")?)
        .await?;
    let now = Utc::now();
    for chunk_start in (existing as i64..count).step_by(1000) {
        let chunk_end = (chunk_start + 1000).min(count);
        let txn = conn.begin().await?;
        let new_users = (chunk_start..chunk_end).map(|n| users::ActiveModel {
            username: Set(Username::parse(&format!("bench{n}"))
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default()),
            password_hash: Set(hash.clone()),
            email: Set(Email::parse(&format!("bench{n}@example.com"))
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default()),
            created_at: Set(now),
            ..Default::default()
        });
        users::Entity::insert_many(new_users).exec(&txn).await?;
        let ids: Vec<users::Model> = users::Entity::find()
            .filter(sea_orm::ColumnTrait::is_in(
                &users::Column::Username,
                (chunk_start..chunk_end).map(|n| format!("bench{n}")),
            ))
            .all(&txn)
            .await?;
        let new_accounts = ids.iter().map(|u| accounts::ActiveModel {
            user_id: Set(u.id),
            account_number: Set(format!("{:010}", 5_000_000_000i64 + u.id)),
            account_type: Set("checking".into()),
            balance: Set(100_000),
            currency: Set("USD".into()),
            created_at: Set(now),
            ..Default::default()
        });
        accounts::Entity::insert_many(new_accounts)
            .exec(&txn)
            .await?;
        let accts: Vec<accounts::Model> = accounts::Entity::find()
            .filter(sea_orm::ColumnTrait::is_in(
                &accounts::Column::UserId,
                ids.iter().map(|u| u.id),
            ))
            .all(&txn)
            .await?;
        let deposits = accts.iter().map(|a| transactions::ActiveModel {
            from_account: Set(None),
            to_account: Set(a.id),
            amount: Set(100_000),
            description: Set(Some("Benchmark opening deposit".into())),
            idempotency_key: Set("bench-opening".into()),
            initiated_by: Set(a.user_id),
            created_at: Set(now),
            ..Default::default()
        });
        transactions::Entity::insert_many(deposits)
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    println!("seeded {count} users");
    Ok(())
}

use sea_orm::QueryFilter;
