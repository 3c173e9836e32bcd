//! argon2id hashing on a few dedicated threads, each with its own working memory.
//!
//! A hash at the library's recommended cost (OWASP's first choice: 19 MiB, 2 passes)
//! takes tens of milliseconds of one core and 19 MiB of memory. Allocated per hash, that
//! memory stayed in glibc's per-thread heaps: twenty sign-ins left 190 MiB resident. A
//! fixed set of threads, one per two cores, each reusing one 19 MiB block, bounds both the
//! CPU taken from other requests and the memory, and a burst of sign-ins simply queues.
//! A thread lets its block go as soon as no hash is waiting: the 19 MiB are resident
//! while sign-ins come in, not for the rest of the process's life (mimalloc hands a block
//! that size back to the kernel when it is freed; docs/benchmarks-notes.md, Bounded memory).

use std::cell::RefCell;
use std::fmt::Display;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::{Error, Password};

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. Cheap to clone; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    decoy: OnceLock<String>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords")
    }
}

impl Passwords {
    /// One thread per two cores (at least one, at most four): a storm of sign-ins can
    /// take at most half the machine from everything else, and holds one 19 MiB block
    /// per thread. On 2 cores that is one thread, about 60 sign-ins a second.
    pub fn for_this_machine() -> Passwords {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Passwords::with_threads((cores / 2).clamp(1, 4))
    }

    pub fn with_threads(threads: usize) -> Passwords {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    while let Some(job) = next_job(&receiver) {
                        job();
                    }
                });
            // With no thread at all, every hash fails with an internal error instead.
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Passwords {
            inner: Arc::new(Inner {
                jobs: sender,
                decoy: OnceLock::new(),
            }),
        }
    }

    /// Hashes with argon2id at the library's recommended cost, with a fresh salt.
    pub async fn hash(&self, password: &Password<'_>) -> Result<String, Error> {
        let password = password.expose().to_owned();
        self.run(move || hash_now(password.as_bytes())).await?
    }

    /// Whether `password` matches the stored PHC string `hash`. `None` checks against a
    /// hash of a password nobody has, so an unknown username costs the same argon2 work
    /// as a wrong password and the two cannot be told apart by timing.
    pub async fn matches(&self, password: &str, hash: Option<&str>) -> Result<bool, Error> {
        let password = password.to_owned();
        let hash = hash.map(str::to_owned);
        let inner = self.inner.clone();
        self.run(move || {
            let stored = match &hash {
                Some(hash) => hash.as_str(),
                None => inner
                    .decoy
                    .get_or_init(|| hash_now(uuid::Uuid::new_v4().as_bytes()).unwrap_or_default()),
            };
            Ok(verify_now(password.as_bytes(), stored)? && hash.is_some())
        })
        .await?
    }

    /// Runs `work` on a hashing thread. Work whose caller has gone (a client that hung
    /// up while queued) is skipped.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if !reply.is_closed() {
                let _ = reply.send(work());
            }
        });
        if self.inner.jobs.send(job).is_err() {
            return Err(Error::internal(anyhow::anyhow!(
                "no password hashing thread is running"
            )));
        }
        answer
            .await
            .map_err(|_| Error::internal(anyhow::anyhow!("a password hashing thread died")))
    }
}

/// The next job for a hashing thread; `None` when the `Passwords` are gone. With no job
/// waiting, the thread's working memory is freed before it waits.
fn next_job(receiver: &Mutex<mpsc::Receiver<Job>>) -> Option<Job> {
    let receiver = receiver.lock().ok()?;
    match receiver.try_recv() {
        Ok(job) => Some(job),
        Err(mpsc::TryRecvError::Disconnected) => None,
        Err(mpsc::TryRecvError::Empty) => {
            MEMORY.take();
            receiver.recv().ok()
        }
    }
}

thread_local! {
    /// This thread's argon2 working memory: allocated by the first hash of a burst, reused
    /// by the rest of it, freed when the queue is empty.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    MEMORY.with_borrow_mut(|memory| {
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(internal)
    })
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh salt.
fn hash_now(password: &[u8]) -> Result<String, Error> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf).map_err(internal)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, &params, password, salt_bytes, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(internal)?),
    };
    Ok(phc.to_string())
}

/// Recomputes a stored hash with its own algorithm, version, cost and salt, and compares
/// in constant time (`Output`'s equality).
fn verify_now(password: &[u8], stored: &str) -> Result<bool, Error> {
    let phc = PasswordHash::new(stored).map_err(internal)?;
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(internal)?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(internal)?
        .unwrap_or_default();
    let params = Params::try_from(&phc).map_err(internal)?;
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Err(internal("stored hash has no salt or no hash"));
    };
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(internal)?;
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    compute(&argon, &params, password, salt_bytes, &mut out)?;
    Ok(Output::new(&out).map_err(internal)? == expected)
}

fn internal(e: impl Display) -> Error {
    Error::internal(anyhow::anyhow!("argon2: {e}"))
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        // Ours verify with the library's own verifier, and the library's verify with ours.
        let ours = hash_now(b"correct horse").expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).expect("parse");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_now(b"battery staple", &theirs).expect("verify"));
        assert!(!verify_now(b"battery stapler", &theirs).expect("verify"));
        // A cheaper cost stored earlier still verifies, with its own parameters.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).expect("params"),
        )
        .hash_password(b"old", &salt)
        .expect("hash")
        .to_string();
        assert!(verify_now(b"old", &cheap).expect("verify"));
        assert!(verify_now(b"x", "not a hash").is_err());
    }

    #[tokio::test]
    async fn the_decoy_never_matches_and_a_burst_queues() {
        let passwords = Passwords::with_threads(2);
        assert!(!passwords.matches("anything", None).await.expect("decoy"));
        let hash = passwords
            .hash(&Password::parse("a long enough password").expect("password"))
            .await
            .expect("hash");
        let checks = (0..6).map(|n| {
            let passwords = passwords.clone();
            let hash = hash.clone();
            async move {
                let guess = if n % 2 == 0 {
                    "a long enough password"
                } else {
                    "nope"
                };
                passwords.matches(guess, Some(&hash)).await.expect("check")
            }
        });
        let results = futures::future::join_all(checks).await;
        assert_eq!(results, [true, false, true, false, true, false]);
    }

    #[tokio::test]
    async fn a_hashing_thread_keeps_its_block_only_while_hashes_wait() {
        let passwords = Passwords::with_threads(1);
        let password = Password::parse("a long enough password").expect("password");
        // Queued behind a hash, the probe finds the block that hash used still there…
        let (hashed, held) = tokio::join!(
            passwords.hash(&password),
            passwords.run(|| MEMORY.with_borrow(Vec::len))
        );
        hashed.expect("hash");
        assert_eq!(held.expect("probe"), Params::default().block_count());
        // …and once the thread has found the queue empty, the next job finds it freed. A
        // probe sent the instant the last one answered can still reach the thread before
        // it looks at the queue (and so find the block kept, rightly: a job was waiting),
        // so probes are spaced out and the block must be gone within a second.
        let mut after = usize::MAX;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            after = passwords
                .run(|| MEMORY.with_borrow(Vec::capacity))
                .await
                .expect("probe");
            if after == 0 {
                break;
            }
        }
        assert_eq!(after, 0, "the block outlived the queue");
    }
}
