//! Biscuit tokens: minted with the root key, checked on every request with the time,
//! the operation and the session they name.

use crate::ledger::UserId;
use std::time::{Duration, SystemTime};

use biscuit_auth::macros::{authorizer, biscuit, block};
use biscuit_auth::{AuthorizerLimits, Biscuit, KeyPair, PrivateKey, builder::Algorithm};

use crate::error::Error;

/// Tokens longer than this are refused before any parsing.
const MAX_TOKEN_LEN: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
        }
    }
}

/// What a verified token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub user_id: UserId,
    pub session_id: String,
    /// A copy with blocks of its own (the read-only copies): it may do only what its
    /// checks allow, and it does not keep the owner's session alive.
    pub attenuated: bool,
}

pub struct TokenKeys {
    root: KeyPair,
    /// Session tokens (one block, signed by our root key) already verified, with their
    /// expiry: the signature and the checks of the same bytes give the same answer until
    /// then, so a repeat costs a map lookup instead of a signature check and a Datalog run.
    /// The session is still checked on every request, so revocation stays immediate.
    verified: moka::sync::Cache<String, (Claims, SystemTime)>,
}

/// How many verified session tokens are remembered unless [`TokenKeys::remembering`]
/// says otherwise.
const VERIFIED_CAPACITY: u64 = 10_000;

impl TokenKeys {
    pub fn from_hex(hex: &str) -> Result<TokenKeys, Error> {
        let private = PrivateKey::from_bytes_hex(hex, Algorithm::Ed25519)
            .map_err(|e| Error::Internal(anyhow::anyhow!("BISCUIT_PRIVATE_KEY: {e}")))?;
        Ok(TokenKeys::with_root(KeyPair::from(&private)))
    }

    pub fn generate() -> TokenKeys {
        TokenKeys::with_root(KeyPair::new())
    }

    fn with_root(root: KeyPair) -> TokenKeys {
        TokenKeys {
            root,
            verified: verified_cache(VERIFIED_CAPACITY),
        }
    }

    /// Remembers at most `entries` verified tokens (the most used; others are verified
    /// again when they come back): a bound however many customers are signed in.
    pub fn remembering(self, entries: u64) -> TokenKeys {
        TokenKeys {
            root: self.root,
            verified: verified_cache(entries),
        }
    }

    /// The key that checks tokens' signatures (anyone holding it can verify a token
    /// offline; only the private half can mint one).
    pub fn public_key(&self) -> biscuit_auth::PublicKey {
        self.root.public()
    }

    /// A token for a fresh session: `user(id)`, `session(id)` and a hard expiry.
    pub fn mint(
        &self,
        user_id: UserId,
        session_id: &str,
        expires_at: SystemTime,
    ) -> Result<String, Error> {
        biscuit!(
            r#"
              user({user_id});
              session({session_id});
              expires({expires_at});
              check if time($time), $time < {expires_at};
            "#,
            user_id = user_id.0,
            session_id = session_id,
            expires_at = expires_at,
        )
        .build(&self.root)
        .and_then(|token| token.to_base64())
        .map_err(|e| Error::Internal(anyhow::anyhow!("minting a token: {e}")))
    }

    /// An attenuated copy that can only read, and only until `expires_at`. Anyone holding a
    /// token can do this offline; the api does it for clients as a convenience.
    pub fn read_only(&self, token: &str, expires_at: SystemTime) -> Result<String, Error> {
        let parsed = self.parse(token)?;
        parsed
            .append(block!(
                r#"
                  check if operation("read");
                  check if time($time), $time < {expires_at};
                "#,
                expires_at = expires_at,
            ))
            .and_then(|token| token.to_base64())
            .map_err(|e| Error::Internal(anyhow::anyhow!("attenuating a token: {e}")))
    }

    /// Verifies the signature and every check in every block for this operation now.
    pub fn verify(&self, token: &str, operation: Operation) -> Result<Claims, Error> {
        // Looked up before parsing: checking the signature is the expensive part, and the
        // very same bytes were verified when they were remembered.
        if token.len() <= MAX_TOKEN_LEN
            && let Some((claims, expires_at)) = self.verified.get(token)
            && SystemTime::now() < expires_at
        {
            return Ok(claims);
        }
        let parsed = self.parse(token)?;
        match authorize(&parsed, operation) {
            Ok((mut claims, expires_at)) => {
                claims.attenuated = parsed.block_count() > 1;
                // Attenuated tokens (more than one block) are checked every time: their
                // extra blocks carry checks of their own.
                if parsed.block_count() == 1
                    && let Some(expires_at) = expires_at
                {
                    self.verified
                        .insert(token.to_owned(), (claims.clone(), expires_at));
                }
                Ok(claims)
            }
            // Tell a read-only token used to write (FORBIDDEN) from an expired one.
            Err(_)
                if operation == Operation::Write && authorize(&parsed, Operation::Read).is_ok() =>
            {
                Err(Error::Forbidden("this token is read-only"))
            }
            Err(_) => Err(Error::Unauthenticated(
                "the token has expired or is not valid",
            )),
        }
    }

    fn parse(&self, token: &str) -> Result<Biscuit, Error> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(Error::Unauthenticated("the token is not valid"));
        }
        Biscuit::from_base64(token, self.root.public())
            .map_err(|_| Error::Unauthenticated("the token is not valid"))
    }
}

fn verified_cache(entries: u64) -> moka::sync::Cache<String, (Claims, SystemTime)> {
    moka::sync::Cache::builder().max_capacity(entries).build()
}

/// The claims, and the expiry the authority block states (tokens minted before it was
/// added have none and are not remembered).
fn authorize(
    token: &Biscuit,
    operation: Operation,
) -> Result<(Claims, Option<SystemTime>), biscuit_auth::error::Token> {
    let mut authorizer = authorizer!(
        r#"
          time({now});
          operation({operation});
          allow if user($user), session($session);
        "#,
        now = SystemTime::now(),
        operation = operation.as_str(),
    )
    .set_limits(AuthorizerLimits {
        max_time: Duration::from_millis(200),
        ..Default::default()
    })
    .build(token)?;
    authorizer.authorize()?;
    // Only the authority block (signed by the root key) is trusted for these facts.
    let (user_id, session_id): (i64, String) =
        authorizer.query_exactly_one("claims($u, $s) <- user($u), session($s)")?;
    let expires: Vec<(SystemTime,)> = authorizer.query("expiry($t) <- expires($t)")?;
    let expires_at = expires.first().map(|(t,)| *t);
    Ok((
        Claims {
            user_id: UserId(user_id),
            session_id,
            attenuated: false,
        },
        expires_at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn later(secs: u64) -> SystemTime {
        SystemTime::now() + Duration::from_secs(secs)
    }

    #[test]
    fn a_token_carries_its_claims_and_checks() {
        let keys = TokenKeys::generate();
        let token = keys.mint(UserId(42), "s-1", later(60)).expect("mint");
        let claims = keys.verify(&token, Operation::Write).expect("verify");
        assert_eq!(
            claims,
            Claims {
                user_id: UserId(42),
                session_id: "s-1".into(),
                attenuated: false,
            }
        );

        let read_only = keys.read_only(&token, later(60)).expect("attenuate");
        assert!(
            keys.verify(&read_only, Operation::Read)
                .is_ok_and(|claims| claims.attenuated)
        );
        assert!(matches!(
            keys.verify(&read_only, Operation::Write),
            Err(Error::Forbidden(_))
        ));

        let expired = keys
            .mint(
                UserId(42),
                "s-1",
                SystemTime::now() - Duration::from_secs(1),
            )
            .expect("mint");
        assert!(matches!(
            keys.verify(&expired, Operation::Read),
            Err(Error::Unauthenticated(_))
        ));

        let other = TokenKeys::generate()
            .mint(UserId(42), "s-1", later(60))
            .expect("mint");
        assert!(matches!(
            keys.verify(&other, Operation::Read),
            Err(Error::Unauthenticated(_))
        ));

        let mut bytes = token.into_bytes();
        let middle = bytes.len() / 2;
        bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(matches!(
            keys.verify(&tampered, Operation::Read),
            Err(Error::Unauthenticated(_))
        ));
        assert!(matches!(
            keys.verify("", Operation::Read),
            Err(Error::Unauthenticated(_))
        ));
        assert!(matches!(
            keys.verify(&"A".repeat(5000), Operation::Read),
            Err(Error::Unauthenticated(_))
        ));
    }

    #[test]
    fn a_remembered_token_still_expires_on_time() {
        let keys = TokenKeys::generate();
        let token = keys
            .mint(
                UserId(7),
                "s-2",
                SystemTime::now() + Duration::from_millis(1500),
            )
            .expect("mint");
        assert!(keys.verify(&token, Operation::Write).is_ok());
        assert!(
            keys.verified.get(&token).is_some(),
            "a session token is remembered"
        );
        assert!(keys.verify(&token, Operation::Read).is_ok());
        std::thread::sleep(Duration::from_millis(2100));
        assert!(matches!(
            keys.verify(&token, Operation::Read),
            Err(Error::Unauthenticated(_))
        ));
        let read_only = keys
            .read_only(
                &keys.mint(UserId(7), "s-3", later(60)).expect("mint"),
                later(60),
            )
            .expect("ro");
        assert!(keys.verify(&read_only, Operation::Read).is_ok());
        assert!(
            keys.verified.get(&read_only).is_none(),
            "attenuated tokens are checked every time"
        );
        assert!(matches!(
            keys.verify(&read_only, Operation::Write),
            Err(Error::Forbidden(_))
        ));
    }

    #[test]
    fn remembered_tokens_stay_within_their_bound() {
        let keys = TokenKeys::generate().remembering(50);
        for user in 0..300 {
            let token = keys
                .mint(UserId(user), &format!("s-{user}"), later(60))
                .expect("mint");
            assert!(keys.verify(&token, Operation::Read).is_ok());
        }
        keys.verified.run_pending_tasks();
        assert!(
            keys.verified.entry_count() <= 50,
            "{} remembered",
            keys.verified.entry_count()
        );
    }
}
