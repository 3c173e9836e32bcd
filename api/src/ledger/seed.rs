//! Demo customers for the all-in-one mode, created once on an empty database.

use super::{
    AccountType, DepositRequest, Description, Email, Error, IdempotencyKey, Ledger, Money,
    Password, Target, TransferRequest, Username,
};

/// Every demo user shares this password; the all-in-one prints it at start.
pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_USERS: [&str; 3] = ["alice", "bob", "carol"];

#[derive(Debug, Default)]
pub struct SeedReport {
    /// Usernames created now; empty when the demo users already existed.
    pub created: Vec<String>,
}

impl Ledger {
    /// Creates the demo users with a checking and a savings account and a little history.
    /// Idempotent: users that exist are left alone, and fixed keys keep money from moving twice.
    #[tracing::instrument(skip(self))]
    pub async fn seed_demo(&self) -> Result<SeedReport, Error> {
        let mut report = SeedReport::default();
        let password = Password::parse(DEMO_PASSWORD)?;
        let mut checking = Vec::new();
        for (i, name) in DEMO_USERS.iter().enumerate() {
            let username = Username::parse(name)?;
            let user = match self.user_by_name(&username).await? {
                Some(user) => user,
                None => {
                    let email = Email::parse(&format!("{name}@example.com"))?;
                    let user = self.sign_up(&username, &password, &email).await?;
                    report.created.push(user.username.clone());
                    user
                }
            };
            let mut accounts = self.accounts(user.id).await?;
            if !accounts
                .iter()
                .any(|a| a.account_type == AccountType::Savings)
            {
                accounts.push(self.open_account(user.id, AccountType::Savings).await?);
            }
            let Some(main) = accounts
                .iter()
                .find(|a| a.account_type == AccountType::Checking)
                .cloned()
            else {
                continue;
            };
            let amount = Money::parse_amount(["2500.00", "1200.50", "800.00"][i % 3])?;
            self.deposit(
                user.id,
                DepositRequest {
                    account: main.id,
                    amount,
                    description: Description::parse(Some("Opening deposit"))?,
                    idempotency_key: IdempotencyKey::parse("seed-opening-deposit")?,
                },
            )
            .await?;
            checking.push((user.id, main));
        }
        // A few transfers around the circle, so every dashboard has some history.
        for (i, (user_id, from)) in checking.iter().enumerate() {
            let (_, to) = &checking[(i + 1) % checking.len()];
            self.transfer(
                *user_id,
                TransferRequest {
                    from_account: from.id,
                    to: Target::Number(super::AccountNumber::parse(
                        &to.number,
                        super::Input::TargetAccount,
                    )?),
                    amount: Money::parse_amount("42.50")?,
                    description: Description::parse(Some("Dinner 🍝"))?,
                    idempotency_key: IdempotencyKey::parse("seed-transfer-1")?,
                },
            )
            .await?;
        }
        Ok(report)
    }
}
