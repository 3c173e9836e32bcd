//! GraphQL types of their own, built from ledger values (never database models).

use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::loaders::AccountNumberLoader;
use super::scalars::Money;
use super::state;
use crate::error::Error;
use crate::ledger::{self, AccountId, Cursor, HistoryOf, HistoryPage, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum AccountType {
    Checking,
    Savings,
}

impl From<ledger::AccountType> for AccountType {
    fn from(t: ledger::AccountType) -> AccountType {
        match t {
            ledger::AccountType::Checking => AccountType::Checking,
            ledger::AccountType::Savings => AccountType::Savings,
        }
    }
}

impl From<AccountType> for ledger::AccountType {
    fn from(t: AccountType) -> ledger::AccountType {
        match t {
            AccountType::Checking => ledger::AccountType::Checking,
            AccountType::Savings => ledger::AccountType::Savings,
        }
    }
}

/// A saved payee of the signed-in customer.
pub struct Payee(pub ledger::Payee);

#[Object]
impl Payee {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn account_number(&self) -> &str {
        &self.0.account_number
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct User {
    user: ledger::User,
    /// Their accounts with a first page of each one's history, read with the user (a
    /// dashboard's `me`), and the page size.
    overview: Option<(u64, ledger::Overview)>,
}

impl User {
    pub fn new(user: ledger::User) -> User {
        User {
            user,
            overview: None,
        }
    }

    /// The signed-in customer. When the selection asks for their accounts with one first
    /// page of each one's history (a dashboard), the customer comes in the same read as
    /// those: one query when cold where the customer apart was two, one after the other.
    pub async fn signed_in(ctx: &Context<'_>, user_id: UserId) -> Result<User, Error> {
        let reads = &state(ctx).reads;
        match first_page_asked(ctx.look_ahead().field("accounts")) {
            Some(size) => {
                let overview = reads.overview(user_id, size).await?;
                Ok(User {
                    user: overview.user.clone(),
                    overview: Some((size, overview)),
                })
            }
            None => Ok(User::new(reads.user(user_id).await?)),
        }
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.user.id.to_string())
    }

    async fn username(&self) -> &str {
        &self.user.username
    }

    async fn email(&self) -> &str {
        &self.user.email
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.user.created_at
    }

    /// A `User` value exists only for the signed-in customer (from `me` or a sign-in),
    /// so its accounts are theirs to see.
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<Account>, Error> {
        match &self.overview {
            // Read with the user, for this very selection (an alias asking for another
            // page size reads its own).
            Some((size, overview)) if first_page_asked(ctx.look_ahead()) == Some(*size) => {
                Ok(with_first_pages(ctx, *size, overview.clone()).await)
            }
            _ => accounts_of(ctx, self.user.id).await,
        }
    }

    /// Their saved payees, newest first.
    async fn payees(&self, ctx: &Context<'_>) -> Result<Vec<Payee>, Error> {
        let payees = state(ctx).ledger.payees(self.user.id).await?;
        Ok(payees.into_iter().map(Payee).collect())
    }
}

/// The user's accounts, oldest first. When the selection asks for one first page of
/// each account's history (a dashboard), the pages come in the same read: one cached
/// entry, one query when cold, balances and pages of one moment.
pub async fn accounts_of(ctx: &Context<'_>, user_id: UserId) -> Result<Vec<Account>, Error> {
    let reads = &state(ctx).reads;
    let Some(size) = first_page_asked(ctx.look_ahead()) else {
        let accounts = reads.accounts(user_id).await?;
        return Ok(accounts.into_iter().map(Account::from).collect());
    };
    let overview = reads.overview(user_id, size).await?;
    Ok(with_first_pages(ctx, size, overview).await)
}

/// The overview's accounts, each with its first page; the numbers it learned go to the
/// loader, so the pages' counterparties are not read again.
async fn with_first_pages(
    ctx: &Context<'_>,
    size: u64,
    overview: ledger::Overview,
) -> Vec<Account> {
    ctx.data_unchecked::<AccountNumberLoader>()
        .feed_many(overview.numbers)
        .await;
    overview
        .accounts
        .into_iter()
        .map(|(account, page)| Account {
            account,
            first_page: Some((size, page)),
        })
        .collect()
}

/// The page size when the `accounts` field (`accounts`: its look-ahead) selects
/// `transactions` exactly once and without a cursor; anything else (no history, aliases
/// with other sizes, a later page, an invalid size) reads each page as asked, as before.
fn first_page_asked(accounts: async_graphql::Lookahead<'_>) -> Option<u64> {
    let fields = accounts.field("transactions").selection_fields();
    let [field] = fields.as_slice() else {
        return None;
    };
    let mut first = None;
    for (name, value) in field.arguments().ok()? {
        match (name.as_str(), value) {
            (_, async_graphql::Value::Null) => {}
            ("first", async_graphql::Value::Number(n)) => first = Some(n.as_i64()?),
            _ => return None,
        }
    }
    ledger::page_size(first).ok()
}

pub struct Account {
    account: ledger::Account,
    /// The first page of its history when it was read with the account, and its size.
    first_page: Option<(u64, HistoryPage)>,
}

impl From<ledger::Account> for Account {
    fn from(account: ledger::Account) -> Account {
        Account {
            account,
            first_page: None,
        }
    }
}

#[Object]
impl Account {
    async fn id(&self) -> ID {
        ID(self.account.id.to_string())
    }

    async fn account_number(&self) -> &str {
        &self.account.number
    }

    #[graphql(name = "type")]
    async fn account_type(&self) -> AccountType {
        self.account.account_type.into()
    }

    async fn balance(&self) -> Money {
        Money(self.account.balance)
    }

    async fn currency(&self) -> &str {
        &self.account.currency
    }

    /// Newest first.
    #[graphql(complexity = "5 + first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<TransactionConnection, Error> {
        // Read with the account (`accounts_of`), its numbers already fed to the loader.
        if let Some((size, page)) = &self.first_page
            && after.is_none()
            && ledger::page_size(first.map(i64::from))? == *size
        {
            return Ok(TransactionConnection::from(page.clone()));
        }
        // The account's own number is on nearly every line of its history: handed to the
        // loader here, it is never looked up. A page whose counterparties the loader
        // already holds (payees paid again and again) then needs no query at all.
        ctx.data_unchecked::<AccountNumberLoader>()
            .feed_one(self.account.id, self.account.number.clone())
            .await;
        // An `Account` value exists only when its owner asked for it: no second look-up.
        history(ctx, HistoryOf::Owned(&self.account), first, after).await
    }
}

/// One page of the history of one of the user's accounts.
pub async fn history(
    ctx: &Context<'_>,
    of: HistoryOf<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<TransactionConnection, Error> {
    let first = ledger::page_size(first.map(i64::from))?;
    let after = after.as_deref().map(Cursor::parse).transpose()?;
    let page = state(ctx).reads.history(of, first, after).await?;
    Ok(TransactionConnection::from(page))
}

pub struct Transaction(pub ledger::Transaction);

#[Object]
impl Transaction {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Null for a deposit from outside the bank.
    #[allow(clippy::wrong_self_convention)] // the GraphQL field name, not a conversion
    async fn from_account_number(&self, ctx: &Context<'_>) -> Result<Option<String>, Error> {
        match self.0.from_account {
            Some(id) => account_number(ctx, id).await.map(Some),
            None => Ok(None),
        }
    }

    async fn to_account_number(&self, ctx: &Context<'_>) -> Result<String, Error> {
        account_number(ctx, self.0.to_account).await
    }

    async fn amount(&self) -> Money {
        Money(self.0.amount)
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A page of history lists each counterparty again and again; the loader fetches all
/// the numbers of a page in one query.
async fn account_number(ctx: &Context<'_>, id: AccountId) -> Result<String, Error> {
    ctx.data_unchecked::<AccountNumberLoader>()
        .load_one(id)
        .await
        .map_err(|e| e.into_error())?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("account {id} of a transaction is missing")))
}

#[derive(SimpleObject)]
pub struct TransactionEdge {
    pub cursor: String,
    pub node: Transaction,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TransactionConnection {
    pub edges: Vec<TransactionEdge>,
    pub page_info: PageInfo,
}

#[ComplexObject]
impl TransactionConnection {
    /// The transactions of this page, without their cursors.
    async fn nodes(&self) -> Vec<&Transaction> {
        self.edges.iter().map(|e| &e.node).collect()
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl From<HistoryPage> for TransactionConnection {
    fn from(page: HistoryPage) -> TransactionConnection {
        let edges: Vec<TransactionEdge> = page
            .items
            .into_iter()
            .map(|t| TransactionEdge {
                cursor: HistoryPage::cursor_of(&t).encode(),
                node: Transaction(t),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: page.has_next_page,
            has_previous_page: false,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        TransactionConnection { edges, page_info }
    }
}

pub struct AuthPayload(pub crate::auth::SessionToken);

#[Object]
impl AuthPayload {
    async fn token(&self) -> &str {
        &self.0.token
    }

    /// When the token stops working at the latest; the session also ends after 30 idle minutes.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    async fn user(&self) -> User {
        User::new(self.0.user.clone())
    }
}
