use std::time::Duration;

use async_graphql::{Context, Object};

use crate::auth::ClientAddress;
use crate::error::Error;
use crate::graphql::inputs::SignupInput;
use crate::graphql::types::AuthPayload;
use crate::graphql::{request_auth, state};
use crate::ledger::{Email, Password, Username};

/// Read-only tokens live at least a minute and at most a week; an hour when unsaid.
const READ_ONLY_TTL_DEFAULT: i32 = 3600;
const READ_ONLY_TTL_RANGE: std::ops::RangeInclusive<i32> = 60..=7 * 24 * 3600;

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates a customer with a checking account and signs them in.
    #[tracing::instrument(skip_all)]
    async fn signup(&self, ctx: &Context<'_>, input: SignupInput) -> Result<AuthPayload, Error> {
        let username = Username::parse(&input.username)?;
        let password = Password::parse(&input.password)?;
        let email = Email::parse(&input.email)?;
        let state = state(ctx);
        let user = state.ledger.sign_up(&username, &password, &email).await?;
        Ok(AuthPayload(state.auth.start_session(user).await?))
    }

    /// Signs a customer in. A wrong username or password is `INVALID_CREDENTIALS` (which
    /// of the two is not said); too many from one address, `RATE_LIMITED` with
    /// `extensions.retryAfter` in seconds. `UNAUTHENTICATED` is kept for a token that no
    /// longer works (expired, signed out), so a client can tell the two apart.
    #[tracing::instrument(skip_all)]
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> Result<AuthPayload, Error> {
        let state = state(ctx);
        // The HTTP handler puts the caller's address in; without it the request could
        // not be throttled by where it comes from, so it is refused rather than guessed.
        let client = *ctx.data::<ClientAddress>().map_err(|_| {
            Error::Internal(anyhow::anyhow!(
                "the GraphQL handler did not pass the client address"
            ))
        })?;
        let session = state
            .auth
            .login(&state.ledger, &username, &password, client)
            .await?;
        Ok(AuthPayload(session))
    }

    /// Ends the session: this token and every read-only copy of it stop working at once.
    #[tracing::instrument(skip_all)]
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool, Error> {
        let auth = request_auth(ctx);
        let writer = auth.writer().await?;
        state(ctx)
            .auth
            .logout(&writer.session_id, auth.bearer())
            .await?;
        Ok(true)
    }

    /// A read-only copy of the caller's token to share; it ends with the session.
    #[tracing::instrument(skip_all)]
    async fn create_read_only_token(
        &self,
        ctx: &Context<'_>,
        ttl_seconds: Option<i32>,
    ) -> Result<String, Error> {
        let auth = request_auth(ctx);
        auth.writer().await?;
        let ttl = ttl_seconds.unwrap_or(READ_ONLY_TTL_DEFAULT);
        if !READ_ONLY_TTL_RANGE.contains(&ttl) {
            return Err(crate::ledger::Error::invalid(
                crate::ledger::Input::TokenLifetime,
                format!(
                    "ttlSeconds must be between {} and {}",
                    READ_ONLY_TTL_RANGE.start(),
                    READ_ONLY_TTL_RANGE.end()
                ),
            )
            .into());
        }
        let token = auth
            .bearer()
            .ok_or(Error::Unauthenticated("sign in first"))?;
        auth.auth()
            .read_only_token(token, Duration::from_secs(ttl as u64))
    }
}
