//! Why a broker connection ended, and how long to wait before the next one: the publisher's
//! reconnect policy. Pure bookkeeping over rumqttc's errors, no I/O.
//!
//! - A connection ends for one [`DisconnectCause`], read from rumqttc's error: the broker
//!   closed it because another client connected with our client id (MQTT 5 reason 0x8E,
//!   *session taken over*), the broker closed it without a reason, the broker sent a packet
//!   over our negotiated maximum, the broker refused the CONNECT, or the connection was lost.
//! - Mosquitto 2.0 closes a taken-over connection without a DISCONNECT reaching the client
//!   (seen with 2.0.11), so a takeover is also *inferred*: a connection the broker closes soon
//!   after accepting it, right after another such close, is treated as a takeover (two
//!   clients with one client id), with the same pause and log line.
//! - The backoff grows with every connection that ends before it was up for
//!   [`STABLE_AFTER`]: a connection that dies soon after its CONNACK (a poisoned message, a
//!   client-id fight) never resets it, so such a loop slows down to the backoff's ceiling
//!   instead of reconnecting twice a second. A takeover waits at least [`TAKEOVER_PAUSE`].
//! - A takeover and an oversized packet are logged once per streak (naming the cause and what
//!   to do), repeats of them at DEBUG: the same poisoned message or the same rival client is
//!   reported once, not at every attempt. A lost or refused connection is logged at every
//!   attempt (the growing backoff bounds the rate). Every end is counted per cause in the
//!   metrics.
//!
//! It never decides what to publish; [`super::task`] owns the connection.

pub use crate::health::DisconnectCause;
use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;
use rumqttc::v5::{ConnectionError, StateError};
use shelfd_core::backoff::{Backoff, BackoffPolicy};
use std::time::Duration;

/// A connection that lasted this long after its CONNACK was healthy: the backoff starts over.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);

/// The least pause after the broker said another client took our session over, so two
/// clients with one client id do not knock each other off several times a second.
pub const TAKEOVER_PAUSE: Duration = Duration::from_secs(15);

/// The publisher's reconnect backoff: 0.5 s doubling to 60 s with jitter, reset only by a
/// connection that stayed up for [`STABLE_AFTER`].
pub const POLICY: BackoffPolicy = BackoffPolicy {
    healthy_after: STABLE_AFTER,
    ..BackoffPolicy::BROKER
};

/// The cause of a connection error.
pub fn cause_of(error: &ConnectionError) -> DisconnectCause {
    match error {
        ConnectionError::MqttState(StateError::ServerDisconnect { reason_code, .. }) => {
            match reason_code {
                DisconnectReasonCode::SessionTakenOver => DisconnectCause::TakenOver,
                DisconnectReasonCode::PacketTooLarge => DisconnectCause::Oversize,
                _ => DisconnectCause::Lost,
            }
        }
        ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::v5::mqttbytes::Error::PayloadSizeLimitExceeded { .. },
        )) => DisconnectCause::Oversize,
        ConnectionError::MqttState(StateError::ConnectionAborted) => DisconnectCause::Closed,
        ConnectionError::ConnectionRefused(_) => DisconnectCause::Refused,
        _ => DisconnectCause::Lost,
    }
}

/// The reconnect state across connections.
#[derive(Debug)]
pub struct Reconnect {
    backoff: Backoff,
    /// The cause of the previous end, for logging a takeover or an oversized packet once per
    /// streak.
    last: Option<DisconnectCause>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            backoff: Backoff::new(POLICY),
            last: None,
        }
    }
}

impl Reconnect {
    /// A connection ended with `error` after being up for `up` (zero when it never got its
    /// CONNACK). Logs the cause (once per streak), and returns the cause and the pause before
    /// the next attempt.
    pub fn ended(
        &mut self,
        error: Option<&ConnectionError>,
        up: Duration,
        broker: &str,
        client_id: &str,
    ) -> (DisconnectCause, Duration) {
        let mut cause = error.map_or(DisconnectCause::Lost, cause_of);
        let young = up > Duration::ZERO && up < STABLE_AFTER;
        if cause == DisconnectCause::Closed
            && young
            && matches!(
                self.last,
                Some(DisconnectCause::Closed | DisconnectCause::TakenOver)
            )
        {
            cause = DisconnectCause::TakenOver;
        }
        self.backoff.connection_ended(up);
        let mut delay = self.backoff.next_delay();
        if cause == DisconnectCause::TakenOver {
            delay = delay.max(TAKEOVER_PAUSE);
        }
        let repeat = self.last == Some(cause)
            && up < STABLE_AFTER
            && matches!(
                cause,
                DisconnectCause::TakenOver | DisconnectCause::Oversize
            );
        self.last = Some(cause);
        // The log line names the evidence: said by the broker, or inferred.
        let inferred = error.is_some_and(|e| cause_of(e) == DisconnectCause::Closed);
        let error = error.map(ToString::to_string).unwrap_or_default();
        match (cause, repeat) {
            (DisconnectCause::TakenOver, false) => tracing::warn!(
                %broker, client_id, ?delay, inferred,
                "the broker dropped this connection: another client connected with our client id \
                 (session taken over); backing off. Bind client ids to user names at the broker \
                 (use_username_as_clientid) and give every gateway its own credentials"
            ),
            (DisconnectCause::Oversize, false) => tracing::error!(
                %broker, %error, ?delay,
                "the broker sent a packet over our maximum packet size (a poisoned message?); \
                 dropping the connection and backing off. Cap message sizes at the broker \
                 (max_packet_size) and clear the message"
            ),
            (DisconnectCause::Closed, false) => tracing::warn!(
                %broker, client_id, ?delay,
                "lost the broker connection: the broker closed it (a broker restart, or another \
                 client connecting with our client id)"
            ),
            (DisconnectCause::Refused, false) => {
                tracing::error!(%broker, %error, ?delay, "the broker refused the connection")
            }
            (DisconnectCause::Lost, false) if up > Duration::ZERO => {
                tracing::warn!(%broker, %error, ?delay, "lost the broker connection")
            }
            (DisconnectCause::Lost, false) => {
                tracing::warn!(%broker, %error, ?delay, "cannot connect to the broker")
            }
            (_, true) => tracing::debug!(
                %broker, %error, cause = cause.as_str(), ?delay,
                "the broker connection ended again for the same cause"
            ),
        }
        (cause, delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::v5::mqttbytes::Error as MqttError;

    fn taken_over() -> ConnectionError {
        ConnectionError::MqttState(StateError::ServerDisconnect {
            reason_code: DisconnectReasonCode::SessionTakenOver,
            reason_string: None,
        })
    }

    #[test]
    fn causes_are_read_from_rumqttc_errors() {
        assert_eq!(cause_of(&taken_over()), DisconnectCause::TakenOver);
        let oversize = ConnectionError::MqttState(StateError::Deserialization(
            MqttError::PayloadSizeLimitExceeded {
                pkt_size: 5 << 20,
                max: 4 << 20,
            },
        ));
        assert_eq!(cause_of(&oversize), DisconnectCause::Oversize);
        let eof = ConnectionError::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert_eq!(cause_of(&eof), DisconnectCause::Lost);
        for (i, cause) in DisconnectCause::ALL.iter().enumerate() {
            assert_eq!(cause.index(), i);
        }
    }

    #[test]
    fn short_connections_keep_the_backoff_growing_and_a_stable_one_resets_it() {
        let mut r = Reconnect::default();
        let mut delays = Vec::new();
        for _ in 0..6 {
            let (_, d) = r.ended(None, Duration::from_millis(100), "b", "c");
            delays.push(d);
        }
        // 0.5 s doubling with ±20 % jitter: every delay is above the nominal of two steps back.
        for (i, d) in delays.iter().enumerate() {
            let nominal = Duration::from_millis(500) * 2u32.pow(i as u32);
            assert!(
                *d >= nominal.mul_f64(0.8) && *d <= nominal.mul_f64(1.2),
                "{i}: {d:?}"
            );
        }
        let (_, after_stable) = r.ended(None, STABLE_AFTER, "b", "c");
        assert!(
            after_stable <= Duration::from_millis(600),
            "{after_stable:?}"
        );
    }

    #[test]
    fn repeated_closes_soon_after_connack_are_a_takeover() {
        let mut r = Reconnect::default();
        let closed = || ConnectionError::MqttState(StateError::ConnectionAborted);
        // A close after a long healthy connection: a broker restart, perhaps.
        let (cause, first) = r.ended(Some(&closed()), STABLE_AFTER * 2, "b", "c");
        assert_eq!(cause, DisconnectCause::Closed);
        assert!(first < Duration::from_secs(1), "{first:?}");
        // Closed again a moment after the next CONNACK: someone else holds our client id.
        let (cause, delay) = r.ended(Some(&closed()), Duration::from_millis(50), "b", "c");
        assert_eq!(cause, DisconnectCause::TakenOver);
        assert!(delay >= TAKEOVER_PAUSE, "{delay:?}");
        // A connection that never came up is not a takeover.
        let (cause, _) = r.ended(Some(&closed()), Duration::ZERO, "b", "c");
        assert_eq!(cause, DisconnectCause::Closed);
    }

    #[test]
    fn a_takeover_pauses_at_least_the_takeover_pause() {
        let mut r = Reconnect::default();
        let (cause, delay) = r.ended(Some(&taken_over()), Duration::from_secs(1), "b", "c");
        assert_eq!(cause, DisconnectCause::TakenOver);
        assert!(delay >= TAKEOVER_PAUSE, "{delay:?}");
    }
}
