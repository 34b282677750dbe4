//! When to try a failed delivery again: exponential backoff with jitter, up
//! to a limit of attempts, then the message is dead.

use std::time::Duration;

/// The longest wait between two attempts, however many came before.
pub const MAX_DELAY: Duration = Duration::from_secs(6 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failure; doubles with each further failure.
    pub base: Duration,
    /// Attempts in all, the first included, before the message is dead.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// After `attempts` failed attempts (1 after the first failure): how long
    /// to wait before the next one, or `None` when the budget is spent.
    /// `jitter` in `[0, 1)` picks a point in the upper half of the delay, so
    /// workers that failed together do not retry together, yet no retry
    /// comes much sooner than the schedule says.
    pub fn next_delay(&self, attempts: u32, jitter: f64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = attempts.saturating_sub(1).min(30);
        let full = self
            .base
            .checked_mul(1u32 << exp)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY);
        let half = full / 2;
        Some(half + half.mul_f64(jitter.clamp(0.0, 1.0)))
    }

    /// [`next_delay`](Self::next_delay) with a random jitter.
    pub fn next_delay_jittered(&self, attempts: u32) -> Option<Duration> {
        self.next_delay(attempts, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        base: Duration::from_secs(30),
        max_attempts: 5,
    };

    #[test]
    fn delays_double_within_their_jitter_band() {
        let lows: Vec<u64> = (1..5)
            .map(|n| POLICY.next_delay(n, 0.0).unwrap().as_secs())
            .collect();
        assert_eq!(lows, [15, 30, 60, 120]);
        let highs: Vec<u64> = (1..5)
            .map(|n| POLICY.next_delay(n, 0.999_999).unwrap().as_secs())
            .collect();
        assert_eq!(highs, [29, 59, 119, 239]);
    }

    #[test]
    fn the_limit_counts_every_attempt() {
        assert!(POLICY.next_delay(4, 0.5).is_some());
        assert_eq!(POLICY.next_delay(5, 0.5), None);
        assert_eq!(POLICY.next_delay(6, 0.5), None);
        let once = RetryPolicy {
            max_attempts: 1,
            ..POLICY
        };
        assert_eq!(once.next_delay(1, 0.5), None);
    }

    #[test]
    fn delays_are_capped_and_never_overflow() {
        let many = RetryPolicy {
            base: Duration::from_secs(30),
            max_attempts: u32::MAX,
        };
        for n in [20, 31, 64, 1000, u32::MAX - 1] {
            let d = many.next_delay(n, 0.999).unwrap();
            assert!(d <= MAX_DELAY && d >= MAX_DELAY / 2, "attempt {n}: {d:?}");
        }
    }

    #[test]
    fn random_jitter_stays_in_the_band() {
        for _ in 0..200 {
            let d = POLICY.next_delay_jittered(2).unwrap();
            assert!(d >= Duration::from_secs(30) && d < Duration::from_secs(60));
        }
    }

    #[test]
    fn out_of_range_jitter_is_clamped() {
        assert_eq!(POLICY.next_delay(1, -3.0), POLICY.next_delay(1, 0.0));
        assert_eq!(POLICY.next_delay(1, 7.0), POLICY.next_delay(1, 1.0));
    }
}
