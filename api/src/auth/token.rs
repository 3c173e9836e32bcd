//! Biscuit tokens: minted with the root key, checked on every request with the time,
//! the operation and the session they name.
//!
//! Checking a token's signature is most of what a request from a customer the api has
//! not seen lately costs (an Ed25519 verification, deriving the proof's public key and a
//! Datalog run: ~800k instructions, ~110 µs). The api mints every session token it
//! accepts, so at sign-in it also seals the token's claims with a MAC ([`TokenKeys::seal`],
//! kept in the cache by `super::registry`): a later request whose token has an intact seal
//! skips the signature. The MAC's key is derived from the root private key, so whoever
//! can write to the cache still cannot vouch for a token the root key did not sign, nor
//! move a sealed token to other claims. Attenuated copies are never sealed.

use crate::ledger::UserId;
use std::time::{Duration, SystemTime};

use biscuit_auth::macros::{authorizer, biscuit, block};
use biscuit_auth::{AuthorizerLimits, Biscuit, KeyPair, PrivateKey, builder::Algorithm};
use hmac::{Hmac, Mac, digest::KeyInit};
use sha2::{Digest, Sha256};

use crate::cache::{KeyHasher, keys};
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
    /// The seals' MAC, keyed with a key derived from the root private key (never stored).
    sealing: Hmac<Sha256>,
    /// Session tokens (one block, signed by our root key) already verified, with their
    /// expiry: the signature and the checks of the same bytes give the same answer until
    /// then, so a repeat costs a map lookup instead of a signature check and a Datalog run.
    /// The session is still checked on every request, so revocation stays immediate.
    ///
    /// Keyed by the token's digest, not the token: the map hashes and compares its keys
    /// again whenever it rehashes (often, as tokens come and go), and a token is some
    /// 400 bytes where its digest is 32 (hashing the tokens took 4% of a cold read's CPU,
    /// docs/benchmarks-notes.md).
    verified: moka::sync::Cache<TokenDigest, (Claims, SystemTime), KeyHasher>,
}

/// A token's SHA-256: what the remembered tokens are found by.
type TokenDigest = [u8; 32];

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
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
            sealing: sealing(&root),
            root,
            verified: verified_cache(VERIFIED_CAPACITY),
        }
    }

    /// Remembers at most `entries` verified tokens (the most used; others are verified
    /// again when they come back): a bound however many customers are signed in.
    pub fn remembering(self, entries: u64) -> TokenKeys {
        TokenKeys {
            verified: verified_cache(entries),
            ..self
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

    /// The claims of a session token verified (or unsealed) lately and not expired since:
    /// a map lookup, before anything is parsed or asked of the cache.
    pub fn remembered(&self, token: &str) -> Option<Claims> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        self.verified
            .get(&digest(token))
            .filter(|(_, expires_at)| SystemTime::now() < *expires_at)
            .map(|(claims, _)| claims)
    }

    /// Forgets a remembered token (signed out: its session check would refuse it anyway).
    pub fn forget(&self, token: &str) {
        self.verified.invalidate(&digest(token));
    }

    /// A token for a fresh session (as [`TokenKeys::mint`]) and its seal, which sign-in
    /// stores in the cache beside the session.
    pub fn mint_sealed(
        &self,
        user_id: UserId,
        session_id: &str,
        expires_at: SystemTime,
    ) -> Result<(String, Seal), Error> {
        let token = self.mint(user_id, session_id, expires_at)?;
        let claims = Claims {
            user_id,
            session_id: session_id.to_owned(),
            attenuated: false,
        };
        let seal = self.seal(&token, &claims, expires_at);
        Ok((token, seal))
    }

    /// The seal of a session token this api has just minted with these claims: where
    /// the cache keeps it, what it holds and for how long (until the token expires).
    pub fn seal(&self, token: &str, claims: &Claims, expires_at: SystemTime) -> Seal {
        let expires = unix_seconds(expires_at);
        // The session's id is word SEAL_SESSION_WORD.
        let sealed = format!("{} {} {expires}", claims.user_id.0, claims.session_id);
        let mac = hex::encode(self.seal_mac(token, &sealed).finalize().into_bytes());
        Seal {
            key: seal_location(token),
            value: format!("{sealed} {mac}"),
            ttl: expires_at
                .duration_since(SystemTime::now())
                .unwrap_or_default(),
        }
    }

    /// Where the cache keeps this token's seal, if it has one.
    pub fn sealed_at(&self, token: &str) -> Option<String> {
        (!token.is_empty() && token.len() <= MAX_TOKEN_LEN).then(|| seal_location(token))
    }

    /// The claims a seal vouches for, when its MAC is ours and covers this very token and
    /// these claims, and the token has not expired; remembered like a verified token.
    /// Anything else (a seal of another token, altered claims, another root key's MAC, a
    /// malformed value) is `None`, and the token gets the full check.
    pub fn unseal(&self, token: &str, value: &str) -> Option<Claims> {
        let (sealed, mac) = value.rsplit_once(' ')?;
        let mac = hex::decode(mac).ok()?;
        self.seal_mac(token, sealed).verify_slice(&mac).ok()?;
        let mut fields = sealed.split(' ');
        let user_id = fields.next()?.parse::<i64>().ok()?;
        let session_id = fields.next()?.to_owned();
        let expires: u64 = fields.next()?.parse().ok()?;
        if fields.next().is_some() {
            return None;
        }
        let expires_at = SystemTime::UNIX_EPOCH + Duration::from_secs(expires);
        if SystemTime::now() >= expires_at {
            return None;
        }
        let claims = Claims {
            user_id: UserId(user_id),
            session_id,
            attenuated: false,
        };
        self.verified
            .insert(digest(token), (claims.clone(), expires_at));
        Some(claims)
    }

    /// The MAC over one token and the claims sealed with it; the token's length goes
    /// first so that no (token, claims) pair reads as another.
    fn seal_mac(&self, token: &str, sealed: &str) -> Hmac<Sha256> {
        let mut mac = self.sealing.clone();
        mac.update(&(token.len() as u64).to_be_bytes());
        mac.update(token.as_bytes());
        mac.update(sealed.as_bytes());
        mac
    }

    /// Verifies the signature and every check in every block for this operation now.
    pub fn verify(&self, token: &str, operation: Operation) -> Result<Claims, Error> {
        // Looked up before parsing: checking the signature is the expensive part, and the
        // very same bytes were verified when they were remembered.
        if let Some(claims) = self.remembered(token) {
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
                        .insert(digest(token), (claims.clone(), expires_at));
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

/// Which of a seal's words (from 0) is its session's id: the cache reads a seal and that
/// session in one round trip (`Sessions::with_seal`).
pub(super) const SEAL_SESSION_WORD: usize = 1;

/// What the cache keeps for a sealed token (see [`TokenKeys::seal`]).
#[derive(Clone, Debug)]
pub struct Seal {
    pub key: String,
    pub value: String,
    pub ttl: Duration,
}

/// The seals' MAC, keyed with HMAC-SHA256 of a fixed label under the root private key: it
/// changes with the root key and reveals nothing of it.
fn sealing(root: &KeyPair) -> Hmac<Sha256> {
    let mut derive = hmac_keyed(&root.private().to_bytes());
    derive.update(b"banking: seals of session tokens, v1");
    hmac_keyed(&derive.finalize().into_bytes())
}

/// HMAC-SHA256 under a key of at most one block (64 bytes; ours are 32), zero-padded to
/// the block as HMAC itself pads a short key.
fn hmac_keyed(key: &[u8]) -> Hmac<Sha256> {
    let mut block = zeroize::Zeroizing::new([0u8; 64]);
    let n = key.len().min(64);
    block[..n].copy_from_slice(&key[..n]);
    <Hmac<Sha256> as KeyInit>::new(&(*block).into())
}

/// Names a token's seal by the token's digest: a key name never holds a credential.
fn seal_location(token: &str) -> String {
    keys::sealed_token(&hex::encode(digest(token)))
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn verified_cache(entries: u64) -> moka::sync::Cache<TokenDigest, (Claims, SystemTime), KeyHasher> {
    moka::sync::Cache::builder()
        .max_capacity(entries)
        .build_with_hasher(KeyHasher::default())
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
            keys.verified.get(&digest(&token)).is_some(),
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
            keys.verified.get(&digest(&read_only)).is_none(),
            "attenuated tokens are checked every time"
        );
        assert!(matches!(
            keys.verify(&read_only, Operation::Write),
            Err(Error::Forbidden(_))
        ));
    }

    #[test]
    fn a_seal_vouches_only_for_its_own_token_and_claims() {
        let root = KeyPair::new().private().to_bytes_hex();
        let keys = TokenKeys::from_hex(&root).expect("key").remembering(0);
        let alice = |session: &str| Claims {
            user_id: UserId(42),
            session_id: session.into(),
            attenuated: false,
        };
        let expires = later(60);
        let token = keys.mint(UserId(42), "s-1", expires).expect("mint");
        let seal = keys.seal(&token, &alice("s-1"), expires);
        assert_eq!(keys.sealed_at(&token), Some(seal.key.clone()));
        assert!(!seal.key.contains(&token), "the key names a digest");
        assert!(seal.ttl > Duration::from_secs(58) && seal.ttl <= Duration::from_secs(60));
        assert_eq!(keys.unseal(&token, &seal.value), Some(alice("s-1")));
        assert_eq!(
            crate::cache::word_of(&seal.value, SEAL_SESSION_WORD),
            Some("s-1"),
            "the cache finds the session where the seal keeps it"
        );
        // Another replica with the same root key reads it; another root key does not.
        let replica = TokenKeys::from_hex(&root).expect("key");
        assert_eq!(replica.unseal(&token, &seal.value), Some(alice("s-1")));
        let stranger = TokenKeys::generate();
        assert_eq!(stranger.unseal(&token, &seal.value), None);
        let forged = stranger.seal(&token, &alice("s-1"), expires);
        assert_eq!(keys.unseal(&token, &forged.value), None);

        // Another token's seal, however valid, does not vouch for this one.
        let bob = keys.mint(UserId(43), "s-2", expires).expect("mint");
        let bobs = Claims {
            user_id: UserId(43),
            session_id: "s-2".into(),
            attenuated: false,
        };
        let bob_seal = keys.seal(&bob, &bobs, expires);
        assert_eq!(keys.unseal(&token, &bob_seal.value), None);
        assert_eq!(keys.unseal(&bob, &bob_seal.value), Some(bobs));

        // Claims or expiry changed under the same MAC.
        let (sealed, mac) = seal.value.rsplit_once(' ').expect("mac");
        let expiry = sealed.rsplit(' ').next().expect("expiry");
        for altered in [
            format!("43 s-1 {expiry} {mac}"),
            format!("42 s-2 {expiry} {mac}"),
            format!("42 s-1 {} {mac}", unix_seconds(later(3600))),
            format!("42 s-1 {expiry} {}", "0".repeat(64)),
            format!("{} extra", seal.value),
            format!("42 s-1 extra {expiry} {mac}"),
            String::new(),
            "42".into(),
            "42 s-1 zz".into(),
            format!("x s-1 {expiry} {mac}"),
        ] {
            assert_eq!(keys.unseal(&token, &altered), None, "{altered}");
        }

        // A seal past its expiry vouches for nothing.
        let lapsed = keys.seal(&token, &alice("s-1"), SystemTime::now());
        assert_eq!(keys.unseal(&token, &lapsed.value), None);
        assert_eq!(keys.sealed_at(""), None);
        assert_eq!(keys.sealed_at(&"A".repeat(5000)), None);
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
