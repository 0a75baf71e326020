//! How a reader link is opened: the [`Connector`] trait and its implementations over a serial
//! port ([`SerialConnector`], tokio-serial) and a TCP socket ([`TcpConnector`], with a connect
//! timeout). A connector owns the address and the open call only: it never reads or writes the
//! link, never retries (the lifecycle does, with backoff) and never reports link states.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Opens one kind of link; the lifecycle ([`super::run_link`]) calls [`Connector::open`] again
/// after every disconnect.
pub trait Connector: Send {
    /// The open link: a byte stream both ways.
    type Link: AsyncRead + AsyncWrite + Unpin + Send;

    /// What kind of link this is, for logs (`serial`, `tcp`): "serial link lost: …".
    fn kind(&self) -> &'static str;

    /// What is opened, for logs and errors (`port "/dev/ttyUSB0"`, `tcp 127.0.0.1:4001`).
    fn target(&self) -> String;

    /// Opens the link once.
    fn open(&mut self) -> impl Future<Output = Result<Self::Link, OpenError>> + Send;

    /// Called just before a link is closed (dropped), e.g. to lift a port lock.
    fn release(&mut self, _link: &mut Self::Link) {}
}

/// A link that did not open.
#[derive(Debug, thiserror::Error)]
#[error("cannot open {target}: {source}")]
pub struct OpenError {
    /// What was opened ([`Connector::target`]).
    pub target: String,
    /// Why it failed.
    #[source]
    pub source: io::Error,
    /// True when retrying cannot help (a file that is not there): the lifecycle gives up at
    /// once instead of backing off. Ports and sockets are never permanent (hot-plug, restarts).
    pub permanent: bool,
}

/// A serial port, opened exclusively (`TIOCEXCL` plus `flock`) at a fixed baud rate. The path
/// is resolved again on every open, so a `/dev/serial/by-id/…` link follows a re-enumerated
/// USB adapter.
#[derive(Debug, Clone)]
pub struct SerialConnector {
    path: String,
    baud: u32,
}

/// A serial port path the serial library cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("port path {0:?} is not valid UTF-8")]
pub struct PathNotUtf8(pub PathBuf);

impl SerialConnector {
    /// A connector for the port at `path`, opened at `baud`.
    pub fn new(path: PathBuf, baud: u32) -> Result<Self, PathNotUtf8> {
        match path.to_str() {
            Some(text) => Ok(SerialConnector {
                path: text.to_owned(),
                baud,
            }),
            None => Err(PathNotUtf8(path)),
        }
    }

    /// The baud rate the port is opened at.
    pub fn baud(&self) -> u32 {
        self.baud
    }
}

impl Connector for SerialConnector {
    type Link = SerialStream;

    fn kind(&self) -> &'static str {
        "serial"
    }

    fn target(&self) -> String {
        format!("port {:?} at {} baud", self.path, self.baud)
    }

    async fn open(&mut self) -> Result<SerialStream, OpenError> {
        tokio_serial::new(self.path.as_str(), self.baud)
            .open_native_async()
            .map_err(|e| OpenError {
                target: self.target(),
                source: io::Error::from(e),
                permanent: false,
            })
    }

    fn release(&mut self, port: &mut SerialStream) {
        // Lift TIOCEXCL before closing. It belongs to the tty, not to this fd: when something
        // else keeps the tty open (a PTY simulator does), it can outlive the fd and make our
        // own non-root reopen fail with EBUSY. Fails harmlessly after a hang-up.
        let _ = port.set_exclusive(false);
    }
}

/// A TCP connection to `host:port` (a serial-to-Ethernet bridge, a network reader), given
/// [`TcpConnector::connect_timeout`] to connect; `TCP_NODELAY` is set so short commands are not
/// held back.
#[derive(Debug, Clone)]
pub struct TcpConnector {
    address: String,
    connect_timeout: Duration,
}

impl TcpConnector {
    /// Default time a connect may take before it counts as failed.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A connector for `address` (`host:port`, resolved on every connect).
    pub fn new(address: impl Into<String>, connect_timeout: Duration) -> Self {
        TcpConnector {
            address: address.into(),
            connect_timeout,
        }
    }

    /// The time a connect may take.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

impl Connector for TcpConnector {
    type Link = TcpStream;

    fn kind(&self) -> &'static str {
        "tcp"
    }

    fn target(&self) -> String {
        format!("tcp {}", self.address)
    }

    async fn open(&mut self) -> Result<TcpStream, OpenError> {
        let connect = TcpStream::connect(self.address.as_str());
        let result = match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(Ok(stream)) => stream.set_nodelay(true).map(|()| stream),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no connection within {:?}", self.connect_timeout),
            )),
        };
        result.map_err(|source| OpenError {
            target: self.target(),
            source,
            permanent: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn serial_paths_must_be_utf8() {
        let bad = PathBuf::from(std::ffi::OsStr::from_bytes(b"/dev/tty\xff"));
        let err = SerialConnector::new(bad.clone(), 9600).expect_err("not UTF-8");
        assert_eq!(err, PathNotUtf8(bad));
        assert!(err.to_string().contains("tty"), "{err}");
        let ok = SerialConnector::new("/dev/ttyUSB0".into(), 9600).expect("UTF-8");
        assert_eq!(ok.target(), "port \"/dev/ttyUSB0\" at 9600 baud");
    }

    #[tokio::test]
    async fn a_refused_tcp_connect_names_the_address() {
        // Bind, learn the port, close: nothing listens there now.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let mut connector = TcpConnector::new(address.to_string(), Duration::from_secs(5));
        let err = connector.open().await.expect_err("nothing listens");
        assert!(!err.permanent);
        assert!(
            err.to_string()
                .starts_with(&format!("cannot open tcp {address}: ")),
            "{err}"
        );
    }
}
