//! [`MqttUrl`]: the broker address `mqtt://host[:port]` or `mqtts://host[:port]` (TLS), parsed
//! into host, port and TLS flag. It never accepts credentials in the URL (they come from
//! `credentials_file`) and never echoes a URL that contains some.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Default port of `mqtt://`.
pub const MQTT_PORT: u16 = 1883;
/// Default port of `mqtts://`.
pub const MQTTS_PORT: u16 = 8883;

/// A parsed broker URL.
///
/// ```
/// use shelfd::config::MqttUrl;
/// let url: MqttUrl = "mqtts://broker.example.com".parse().unwrap();
/// assert_eq!((url.tls, url.host.as_str(), url.port), (true, "broker.example.com", 8883));
/// assert_eq!(url.to_string(), "mqtts://broker.example.com:8883");
/// let v6: MqttUrl = "mqtt://[::1]:1884".parse().unwrap();
/// assert_eq!((v6.host.as_str(), v6.port), ("::1", 1884));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MqttUrl {
    /// True for `mqtts://` (TLS).
    pub tls: bool,
    /// Host name or IP address; IPv6 without the brackets.
    pub host: String,
    /// TCP port; 1883 for `mqtt://` and 8883 for `mqtts://` when the URL has none.
    pub port: u16,
}

impl Default for MqttUrl {
    /// `mqtt://127.0.0.1:1883`, a broker on the gateway itself.
    fn default() -> Self {
        MqttUrl {
            tls: false,
            host: "127.0.0.1".to_owned(),
            port: MQTT_PORT,
        }
    }
}

impl fmt::Display for MqttUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Why a broker URL was rejected. The message names the URL, except when the URL carries
/// credentials (which are never echoed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MqttUrlError(String);

impl FromStr for MqttUrl {
    type Err = MqttUrlError;

    fn from_str(text: &str) -> Result<Self, MqttUrlError> {
        let bad = |why: &str| MqttUrlError(format!("bad mqtt url {text:?}: {why}"));
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| bad("expected mqtt://host[:port] or mqtts://host[:port]"))?;
        let tls = match scheme {
            "mqtt" => false,
            "mqtts" => true,
            _ => return Err(bad("the scheme must be mqtt:// or mqtts:// (TLS)")),
        };
        // Cut at the first path/query/fragment character before looking for user info, so that
        // an '@' in a path is reported as a path.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(MqttUrlError(
                "bad mqtt url: user name and password must not be in the url (not shown); \
                 put them in credentials_file"
                    .to_owned(),
            ));
        }
        if !tail.is_empty() && tail != "/" {
            return Err(bad(
                "a broker url has no path, query or fragment: expected mqtt[s]://host[:port]",
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("unclosed '[' in an IPv6 address"))?;
            if host.parse::<Ipv6Addr>().is_err() {
                return Err(bad(&format!("{host:?} is not an IPv6 address")));
            }
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| bad("expected ':port' after ']'"))?,
                ),
            };
            (host, port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        if !host.contains(':') && !is_host_name_or_ipv4(host) {
            return Err(bad(&format!("{host:?} is not a host name or IP address")));
        }
        let port = match port {
            None => {
                if tls {
                    MQTTS_PORT
                } else {
                    MQTT_PORT
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port != 0 && p.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(bad(&format!("port {p:?} is not a number in 1..=65535"))),
            },
        };
        Ok(MqttUrl {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

/// A DNS host name (letters, digits, hyphens; dot-separated labels of 1–63 characters, not
/// starting or ending with a hyphen) or a dotted-quad IPv4 address.
fn is_host_name_or_ipv4(host: &str) -> bool {
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host.parse::<Ipv4Addr>().is_ok();
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Serde adapter (`deserialize_with`).
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<MqttUrl, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url(s: &str) -> Result<MqttUrl, String> {
        s.parse::<MqttUrl>().map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_hosts_ports_and_tls() {
        assert_eq!(url("mqtt://127.0.0.1:1883"), Ok(MqttUrl::default()));
        assert_eq!(
            url("mqtt://broker"),
            Ok(MqttUrl {
                tls: false,
                host: "broker".into(),
                port: 1883
            })
        );
        assert_eq!(
            url("mqtts://b.example.com:8884/"),
            Ok(MqttUrl {
                tls: true,
                host: "b.example.com".into(),
                port: 8884
            })
        );
        assert_eq!(
            url("mqtts://[fd00::1]"),
            Ok(MqttUrl {
                tls: true,
                host: "fd00::1".into(),
                port: 8883
            })
        );
    }

    #[test]
    fn rejects_with_the_url_in_the_message() {
        assert_eq!(
            url("tcp://x"),
            Err("bad mqtt url \"tcp://x\": the scheme must be mqtt:// or mqtts:// (TLS)".into())
        );
        assert_eq!(
            url("mqtt://x:0"),
            Err("bad mqtt url \"mqtt://x:0\": port \"0\" is not a number in 1..=65535".into())
        );
        for bad in [
            "broker:1883",
            "mqtt://",
            "mqtt://:1883",
            "mqtt://x:70000",
            "mqtt://x:+1",
            "mqtt://x/topic",
            "mqtt://bad_host",
            "mqtt://[::1",
            "mqtt://[zz]:1",
            "mqtt://999.1.1.1",
            "mqtt://-a.b",
        ] {
            assert!(url(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn never_echoes_credentials() {
        let err = url("mqtt://user:s3cret@broker:1883").expect_err("credentials in the url");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("credentials_file"), "{err}");
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(tls: bool, host in "[a-z][a-z0-9-]{0,10}[a-z0-9](\\.[a-z]{2,5}){0,2}", port in 1u16..) {
            let u = MqttUrl { tls, host, port };
            prop_assert_eq!(u.to_string().parse::<MqttUrl>(), Ok(u));
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "(mqtts?://)?\\PC{0,30}") {
            let _ = s.parse::<MqttUrl>();
        }
    }
}
