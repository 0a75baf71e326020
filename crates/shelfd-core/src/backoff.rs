//! Retry pacing: exponential backoff with jitter ([`Backoff`]) under a [`BackoffPolicy`], the
//! one used by every reconnect loop of the workspace (reader links, the MQTT publisher).
//!
//! Owns only the arithmetic of the next delay and when to start over. It never sleeps, never
//! opens anything and never reads the clock (the caller says how long a connection lasted), so
//! it is deterministic for a given seed; its randomness is the crate's one generator,
//! [`SimRng`].

use crate::sim::SimRng;
use std::time::Duration;

/// How a failed or lost connection is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Nominal delay before the first retry.
    pub initial: Duration,
    /// Ceiling of every delay (jitter included): the nominal delay grows up to it.
    pub max: Duration,
    /// Growth of the nominal delay per retry (2.0 = doubling); values below 1.0 count as 1.0.
    pub factor: f64,
    /// Relative jitter, 0.0..=1.0: each delay is the nominal one times a uniform factor in
    /// `1 - jitter ..= 1 + jitter` (then capped at [`BackoffPolicy::max`]), so clients that
    /// fail together do not retry in lock step.
    pub jitter: f64,
    /// A connection that stayed up at least this long was healthy: the next failure starts
    /// again from [`BackoffPolicy::initial`] (see [`Backoff::connection_ended`]).
    pub healthy_after: Duration,
}

impl BackoffPolicy {
    /// Reader links: 250 ms doubling to 30 s, ±25 % jitter, reset after a healthy minute.
    pub const READER_LINK: BackoffPolicy = BackoffPolicy {
        initial: Duration::from_millis(250),
        max: Duration::from_secs(30),
        factor: 2.0,
        jitter: 0.25,
        healthy_after: Duration::from_secs(60),
    };

    /// The MQTT publisher: 500 ms doubling to 60 s, ±20 % jitter, reset by the caller on a
    /// successful connection.
    pub const BROKER: BackoffPolicy = BackoffPolicy {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(60),
        factor: 2.0,
        jitter: 0.20,
        healthy_after: Duration::MAX,
    };
}

impl Default for BackoffPolicy {
    /// [`BackoffPolicy::READER_LINK`].
    fn default() -> Self {
        BackoffPolicy::READER_LINK
    }
}

/// Exponential backoff with jitter.
///
/// ```
/// use shelfd_core::backoff::{Backoff, BackoffPolicy};
/// use std::time::Duration;
/// let mut b = Backoff::with_seed(BackoffPolicy { jitter: 0.0, ..BackoffPolicy::default() }, 1);
/// let ms: Vec<u128> = (0..9).map(|_| b.next_delay().as_millis()).collect();
/// assert_eq!(ms, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
/// b.connection_ended(Duration::from_secs(61)); // a healthy minute: start over
/// assert_eq!(b.next_delay(), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    nominal: Duration,
    rng: SimRng,
}

impl Backoff {
    /// A backoff at its initial delay, with a jitter seed that differs per instance and per
    /// process (so gateways and readers that fail together spread out).
    pub fn new(policy: BackoffPolicy) -> Self {
        Backoff::with_seed(policy, process_seed())
    }

    /// A backoff at its initial delay with a fixed jitter seed: the same seed gives the same
    /// delays.
    pub fn with_seed(policy: BackoffPolicy, seed: u64) -> Self {
        Backoff {
            nominal: policy.initial.min(policy.max),
            policy,
            rng: SimRng::new(seed),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// The nominal (un-jittered) delay the next [`Backoff::next_delay`] is based on.
    pub fn nominal(&self) -> Duration {
        self.nominal
    }

    /// The delay to wait before the next attempt; the nominal delay then grows by the policy's
    /// factor, up to its maximum.
    pub fn next_delay(&mut self) -> Duration {
        let max = self.policy.max;
        let jitter = if self.policy.jitter.is_nan() {
            0.0
        } else {
            self.policy.jitter.clamp(0.0, 1.0)
        };
        let spread = 1.0 - jitter + 2.0 * jitter * self.rng.unit();
        let delay = Duration::try_from_secs_f64(self.nominal.as_secs_f64() * spread)
            .unwrap_or(max)
            .min(max);
        let factor = if self.policy.factor.is_nan() {
            1.0
        } else {
            self.policy.factor.max(1.0)
        };
        self.nominal = Duration::try_from_secs_f64(self.nominal.as_secs_f64() * factor)
            .unwrap_or(max)
            .min(max);
        delay
    }

    /// Starts over from the initial delay (e.g. after a successful connection).
    pub fn reset(&mut self) {
        self.nominal = self.policy.initial.min(self.policy.max);
    }

    /// Tells the backoff how long the connection that just ended stayed up: one that lasted at
    /// least [`BackoffPolicy::healthy_after`] resets it; a short one (a port that opens and dies
    /// at once) keeps the delays growing.
    pub fn connection_ended(&mut self, lasted: Duration) {
        if lasted >= self.policy.healthy_after {
            self.reset();
        }
    }
}

/// A seed that differs per call and per process: std's `RandomState` is seeded from the OS
/// once per process and varied per instance, enough to de-correlate retries without a
/// random-number dependency.
fn process_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn delays_grow_within_jitter_and_cap() {
        for seed in 0..200 {
            let mut b = Backoff::with_seed(BackoffPolicy::default(), seed);
            let mut nominal = 250u128;
            for _ in 0..12 {
                let d = ms(b.next_delay());
                let (lo, hi) = (nominal * 3 / 4, (nominal * 5 / 4).min(30_000));
                assert!(
                    (lo..=hi).contains(&d),
                    "seed {seed}: {d} not in {lo}..={hi}"
                );
                nominal = (nominal * 2).min(30_000);
            }
            assert_eq!(b.nominal(), Duration::from_secs(30));
        }
    }

    #[test]
    fn the_broker_policy_spreads_twenty_percent_and_resets() {
        let mut b = Backoff::with_seed(BackoffPolicy::BROKER, 7);
        for i in 0..12 {
            let base = (500u128 << i.min(7)).min(60_000);
            let d = ms(b.next_delay());
            assert!(
                d >= base * 8 / 10 && d <= (base * 12 / 10).min(60_000),
                "{i}: {d} vs {base}"
            );
        }
        b.connection_ended(Duration::from_secs(3600));
        assert_eq!(b.nominal(), Duration::from_secs(60), "no healthy_after");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(600));
    }

    #[test]
    fn same_seed_same_delays() {
        let delays = |seed| {
            let mut b = Backoff::with_seed(BackoffPolicy::default(), seed);
            (0..10).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(42), delays(42));
        assert_ne!(delays(42), delays(43));
    }

    #[test]
    fn jitter_spreads_clients_apart() {
        let firsts: std::collections::BTreeSet<u128> = (0..50)
            .map(|seed| ms(Backoff::with_seed(BackoffPolicy::default(), seed).next_delay()))
            .collect();
        assert!(firsts.len() > 20, "{firsts:?}");
        assert!(firsts.iter().all(|d| (187..=312).contains(d)), "{firsts:?}");
    }

    #[test]
    fn a_factor_other_than_two() {
        let policy = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            factor: 3.0,
            jitter: 0.0,
            healthy_after: Duration::MAX,
        };
        let mut b = Backoff::with_seed(policy, 0);
        let delays: Vec<u128> = (0..4).map(|_| ms(b.next_delay())).collect();
        assert_eq!(delays, [100, 300, 900, 1000]);
    }

    #[test]
    fn only_a_healthy_connection_resets() {
        let mut b = Backoff::with_seed(BackoffPolicy::default(), 9);
        for _ in 0..5 {
            b.next_delay();
        }
        assert_eq!(b.nominal(), Duration::from_secs(8));
        b.connection_ended(Duration::from_secs(59));
        assert_eq!(
            b.nominal(),
            Duration::from_secs(8),
            "a short connection keeps growing"
        );
        b.connection_ended(Duration::from_secs(60));
        assert_eq!(b.nominal(), Duration::from_millis(250));
    }

    #[test]
    fn odd_policies_do_not_panic() {
        let policy = BackoffPolicy {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            factor: f64::NAN,
            jitter: 7.0,
            healthy_after: Duration::ZERO,
        };
        let mut b = Backoff::with_seed(policy, 1);
        assert_eq!(b.next_delay(), Duration::ZERO);
        let mut b = Backoff::with_seed(
            BackoffPolicy {
                initial: Duration::MAX,
                factor: f64::INFINITY,
                jitter: f64::NAN,
                ..BackoffPolicy::default()
            },
            1,
        );
        assert_eq!(b.next_delay(), Duration::from_secs(30));
        assert_eq!(b.next_delay(), Duration::from_secs(30));
    }

    /// Sleeping the delays back to back puts attempts where the policy says (no jitter).
    #[test]
    fn schedule() {
        let mut b = Backoff::with_seed(
            BackoffPolicy {
                jitter: 0.0,
                ..BackoffPolicy::default()
            },
            3,
        );
        let mut at = Duration::ZERO;
        let mut attempts = Vec::new();
        while at < Duration::from_secs(120) {
            at += b.next_delay();
            attempts.push(ms(at));
        }
        assert_eq!(
            &attempts[..9],
            &[250, 750, 1750, 3750, 7750, 15750, 31750, 61750, 91750]
        );
        assert_eq!(attempts.len(), 10, "{attempts:?}");
    }
}
