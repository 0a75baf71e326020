//! Loopback ports for the tests' brokers and listeners. The tests' only `free_port`: the daemon
//! keeps its own for `shelfd demo` (tooling inside the shipped package must not depend on a test
//! kit).

use std::net::TcpListener;

/// A free TCP port on 127.0.0.1 (bound, then released for the caller; another process could
/// take it in between, which on a test machine does not happen in practice).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port on 127.0.0.1")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_can_be_bound_again() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    }
}
