//! Turns `[mqtt]` into rumqttc's MQTT 5 [`MqttOptions`]: client id, keep-alive, the `offline`
//! last will, credentials read from their file, and TLS through rustls with the ring provider
//! (CA file or system roots, optional client certificate for mutual TLS). Reads files, opens no
//! connection. Errors name the file and what is wrong.
//!
//! MQTT 5, because the connection carries the gateway's persistent command session and must
//! survive hostile input:
//! - a persistent session (`clean_start = false`, session expiry
//!   [`shelfd_core::commands::COMMAND_SESSION_EXPIRY_SECS`]) under the stable client id, so the
//!   broker queues QoS 1 commands while the gateway is offline, across broker restarts when
//!   it persists sessions; commands are acknowledged by hand (`manual_acks`) only once handled;
//! - a *Maximum Packet Size* in CONNECT ([`MAX_INCOMING_PACKET_BYTES`]): the broker must not
//!   send a larger packet, it discards it (MQTT 5.0 §3.1.2.11.4), so one oversized message
//!   cannot make the connection fail over and over;
//! - reason codes on DISCONNECT, so a *session taken over* is told apart from a lost network.
//!
//! The publisher's outgoing state stays memory-free across connections: a fresh client per
//! connection, the outbox the single source of resends (the broker keeps no state for QoS 1
//! publishes it received).

use super::status::{Presence, StatusDoc};
use crate::config::{MqttConfig, MqttCredentials};
use rumqttc::v5::MqttOptions;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::LastWill;
use rumqttc::{TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use shelfd_core::topics::{Topic, Topics};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest packet we send: events, snapshots and results are far smaller; the margin covers
/// topic and headers.
pub const MAX_OUTGOING_PACKET_BYTES: usize = shelfd_core::commands::MAX_COMMAND_BYTES + 16 * 1024;

/// Largest packet we accept, announced to the broker as our MQTT 5 *Maximum Packet Size*.
/// Well above [`shelfd_core::commands::MAX_ASN_COMMAND_BYTES`], so an oversized command is
/// received and answered with a precise error; the broker discards anything beyond this
/// instead of sending it. Cap it on the broker too (`max_packet_size` in mosquitto.conf).
pub const MAX_INCOMING_PACKET_BYTES: u32 = 4 << 20;

/// Publishes in flight at once (rumqttc's window); small keeps the request channel short.
pub const INFLIGHT_WINDOW: u16 = 64;

/// Why the MQTT options could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A credentials file could not be read or is malformed.
    #[error(transparent)]
    Credentials(#[from] crate::config::CredentialsError),
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the certificates or key.
    #[error("TLS setup: {0}")]
    Tls(#[from] rustls::Error),
}

/// Installs ring as rustls's process-wide crypto provider (rumqttc is built without one). Safe
/// to call more than once.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The options of one connection attempt for this gateway.
pub fn mqtt_options(
    mqtt: &MqttConfig,
    topics: &Topics,
    status: &StatusDoc,
) -> Result<MqttOptions, ConnectError> {
    let mut options = MqttOptions::new(&mqtt.client_id, &mqtt.url.host, mqtt.url.port);
    options
        .set_keep_alive(mqtt.keep_alive)
        .set_clean_start(false)
        .set_session_expiry_interval(Some(shelfd_core::commands::COMMAND_SESSION_EXPIRY_SECS))
        .set_manual_acks(true)
        .set_max_packet_size(Some(MAX_INCOMING_PACKET_BYTES))
        .set_outgoing_inflight_upper_limit(INFLIGHT_WINDOW)
        .set_request_channel_capacity(usize::from(INFLIGHT_WINDOW))
        .set_last_will(LastWill::new(
            topics.build(&Topic::Status),
            status.to_json(Presence::Offline),
            QoS::AtLeastOnce,
            true,
            None,
        ));
    if let Some(path) = &mqtt.credentials_file {
        let creds = MqttCredentials::load(path)?;
        options.set_credentials(creds.username, creds.password);
    }
    if mqtt.url.tls {
        let tls = client_config(
            mqtt.ca_file.as_deref(),
            mqtt.client_cert_file.as_deref(),
            mqtt.client_key_file.as_deref(),
        )?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls),
        )));
    }
    Ok(options)
}

/// A rustls client config: trust `ca_file` (or the system roots), and present the client
/// certificate when both `cert` and `key` are given.
pub fn client_config(
    ca_file: Option<&Path>,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<rustls::ClientConfig, ConnectError> {
    install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for ca in read_certs(path)? {
                roots.add(ca)?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err(ConnectError::Pem {
                    path: PathBuf::from("(system trust store)"),
                    reason: "no usable CA certificates; set ca_file".into(),
                });
            }
        }
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    Ok(match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ConnectError::Pem {
                path: key.to_path_buf(),
                reason: format!("no private key: {e}"),
            })?;
            builder.with_client_auth_cert(chain, key)?
        }
        _ => builder.with_no_client_auth(),
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConnectError> {
    let pem_error = |reason: String| ConnectError::Pem {
        path: path.to_path_buf(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(format!("cannot read certificates: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(pem_error("no certificate in the file".into()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_pem_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not pem\n").expect("write");
        let err = client_config(Some(&empty), None, None).expect_err("empty");
        assert!(
            err.to_string().contains("empty.pem: no certificate"),
            "{err}"
        );
        let missing = dir.path().join("missing.pem");
        let err = client_config(Some(&missing), None, None).expect_err("missing");
        assert!(
            err.to_string().contains("missing.pem: cannot read"),
            "{err}"
        );
    }
}
