//! Password hashing with argon2id at OWASP's parameters (m=19456 KiB, t=2,
//! p=1), never on an async worker and never more at once than the machine
//! can spare, so a login storm cannot starve ordinary requests.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{
    Output, PasswordHash, PasswordHasher as _, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

thread_local! {
    /// argon2's 19 MiB of working memory, kept by each thread that verifies
    /// and reused: allocating it per call left the freed blocks resident,
    /// 19.5 MB more per sign-in (see BENCHMARKS.md).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Checks `password` against a PHC-format argon2 hash, with the parameters
/// the hash names, in constant time.
pub fn verify_blocking(password: &str, hash: &str) -> bool {
    let verify = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let mut out = vec![0u8; expected.len()];
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        MEMORY.with_borrow_mut(|memory| {
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            argon2
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    salt,
                    &mut out,
                    &mut memory[..blocks],
                )
                .ok()
        })?;
        // `Output` compares in constant time.
        Some(Output::new(&out).ok()? == expected)
    };
    verify().unwrap_or(false)
}

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies on a few threads of its own (half the cores), in
/// arrival order. Not on the shared blocking pool: each hash takes 19 MiB,
/// and the allocator keeps that much in the arena of every thread that ever
/// hashed, which on the blocking pool's dozens of threads came to 260 MB of
/// resident memory in a login storm (see BENCHMARKS.md).
#[derive(Clone)]
pub struct Passwords {
    /// Verified against when the email is unknown, so that answer takes as
    /// long as a wrong password.
    dummy_hash: Arc<String>,
    /// The threads stop when the last sender is dropped. Bounded: a
    /// sign-in that finds it full is refused at once (503 `overloaded`).
    jobs: SyncSender<Job>,
    threads: usize,
    /// Jobs queued and not yet started, and the queue's bound (for
    /// `/metrics`; the standard channel does not tell its length).
    waiting: Arc<AtomicUsize>,
    bound: usize,
}

/// Password jobs that may wait for the threads: at some 50 ms of argon2
/// each on one thread, about three seconds of work.
pub const DEFAULT_PASSWORD_QUEUE: usize = 64;

impl Passwords {
    /// Starts the password threads with room for `queue` jobs waiting.
    pub fn new(queue: usize) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let bound = queue.max(1);
        let (jobs, queue) = sync_channel::<Job>(bound);
        let queue = Arc::new(Mutex::new(queue));
        let threads = (cores / 2).max(1);
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Passwords {
            dummy_hash: Arc::new(hash_blocking("not a real password, only for timing")?),
            jobs,
            threads,
            waiting: Arc::new(AtomicUsize::new(0)),
            bound,
        })
    }

    /// Jobs waiting for a thread, and room for them.
    pub fn queue(&self) -> (usize, usize) {
        (self.waiting.load(Ordering::Relaxed), self.bound)
    }

    /// Whether a job submitted now would be refused (the queue is full).
    /// A sign-in asks first, so that one refused at once costs no write.
    pub fn full(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) >= self.bound
    }

    /// How many threads hash and verify.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on the password threads in its turn, or refuses at once
    /// with 503 `overloaded` when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let (tx, rx) = oneshot::channel();
        let waiting = self.waiting.clone();
        waiting.fetch_add(1, Ordering::Relaxed);
        let started = waiting.clone();
        self.jobs
            .try_send(Box::new(move || {
                started.fetch_sub(1, Ordering::Relaxed);
                let _ = tx.send(f());
            }))
            .inspect_err(|_| {
                waiting.fetch_sub(1, Ordering::Relaxed);
            })
            .map_err(|e| match e {
                TrySendError::Full(_) => AppError::Overloaded {
                    what: "password threads",
                },
                TrySendError::Disconnected(_) => {
                    AppError::Internal(anyhow::anyhow!("the password threads have stopped"))
                }
            })?;
        Ok(rx
            .await
            .map_err(|_| anyhow::anyhow!("a password thread dropped its job"))?)
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || hash_blocking(&password))
            .await?
            .map_err(AppError::Internal)
    }

    /// True when `password` matches `hash`; with no hash (unknown user) it
    /// does the same work and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(ok && known)
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    yield_to_requests();
    loop {
        // The lock is held only while waiting for the next job.
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Password work gives way to requests: a storm of sign-ins must not starve
/// the people reading (scenario 6 in BENCHMARKS.md). On Linux the hashing
/// threads run at nice 10; `setpriority` on a thread id applies to that
/// thread alone, and lowering one's own priority needs no privilege. Sign-ins
/// still get the CPU whenever requests leave any.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
        tracing::warn!(error = %e, "could not lower the password threads' priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse battery staple", &h));
        assert!(!verify_blocking("wrong", &h));
        assert!(!verify_blocking("anything", "not a hash"));
    }

    #[test]
    fn hashes_made_with_other_parameters_still_verify() {
        let params = Params::new(1024, 1, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let h = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"an older account", &salt)
            .unwrap()
            .to_string();
        assert!(verify_blocking("an older account", &h));
        assert!(!verify_blocking("an older accounT", &h));
        // The reused memory is larger than this hash needs; still right.
        assert!(verify_blocking(
            "correct horse",
            &hash_blocking("correct horse").unwrap()
        ));
        assert!(verify_blocking("an older account", &h));
    }
}
