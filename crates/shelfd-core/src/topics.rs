//! The MQTT topic grammar, built and parsed in one place: nothing else in shelfd formats a
//! topic. Every topic lives under `{prefix}/{store}/{gateway}/`:
//!
//! | topic | direction | retained |
//! |---|---|---|
//! | `event/{type}` | out, QoS 1 | no |
//! | `stock/{location}` | out, QoS 1 | yes (`stock.snapshot`) |
//! | `status` | out, QoS 1 | yes (`online`; last will `offline`) |
//! | `cmd/{op}` | in | — |
//! | `cmd/{op}/result` | out, QoS 1 | no |
//! | `epcis` | out, QoS 1 | no |
//!
//! ```
//! use shelfd_core::events::EventKind;
//! use shelfd_core::topics::{Topic, Topics};
//! let t = Topics::new("shelfd/v1", "s042", "gw-1");
//! assert_eq!(t.build(&Topic::Event(EventKind::TagMoved)), "shelfd/v1/s042/gw-1/event/tag.moved");
//! assert_eq!(t.parse("shelfd/v1/s042/gw-1/event/dock.receipt"), Some(Topic::Event(EventKind::DockReceipt)));
//! assert_eq!(t.parse("shelfd/v1/s042/gw-1/event/tag.teleported"), None);
//! assert_eq!(t.build(&Topic::Stock("shelf-a1".into())), "shelfd/v1/s042/gw-1/stock/shelf-a1");
//! assert_eq!(t.parse("shelfd/v1/s042/gw-1/cmd/ping"), Some(Topic::Cmd("ping".into())));
//! assert_eq!(t.parse("shelfd/v1/s042/gw-2/cmd/ping"), None);
//! assert_eq!(t.build(&Topic::Epcis), "shelfd/v1/s042/gw-1/epcis");
//! assert_eq!(t.parse("shelfd/v1/s042/gw-1/epcis"), Some(Topic::Epcis));
//! assert_eq!(t.command_filter(), "shelfd/v1/s042/gw-1/cmd/+");
//! ```

use crate::events::EventKind;

/// One topic of this gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// `event/{type}`: one event of this kind (`tag.arrived`, `stock.changed`, …).
    Event(EventKind),
    /// `stock/{location}`: the retained `stock.snapshot` of a location.
    Stock(String),
    /// `status`: retained presence (`online`), and the last will (`offline`).
    Status,
    /// `cmd/{op}`: a command to this gateway.
    Cmd(String),
    /// `cmd/{op}/result`: the result of a command.
    CmdResult(String),
    /// `epcis`: GS1 EPCIS 2.0 documents.
    Epcis,
}

/// Builds and parses this gateway's topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `{prefix}/{store}/{gateway}/`, with the trailing slash.
    base: String,
}

impl Topics {
    /// Topics under `{prefix}/{store}/{gateway}/`. The config validates the three parts (no
    /// `/` in store or gateway, no wildcards anywhere).
    pub fn new(prefix: &str, store: &str, gateway: &str) -> Self {
        Topics {
            base: format!("{prefix}/{store}/{gateway}/"),
        }
    }

    /// The full topic string.
    pub fn build(&self, topic: &Topic) -> String {
        let base = &self.base;
        match topic {
            Topic::Event(kind) => format!("{base}event/{kind}"),
            Topic::Stock(location) => format!("{base}stock/{location}"),
            Topic::Status => format!("{base}status"),
            Topic::Cmd(op) => format!("{base}cmd/{op}"),
            Topic::CmdResult(op) => format!("{base}cmd/{op}/result"),
            Topic::Epcis => format!("{base}epcis"),
        }
    }

    /// The topic of a full topic string, or `None` when it is not one of this gateway's (or a
    /// level is empty or holds a wildcard, or an `event/{type}` names no [`EventKind`]).
    pub fn parse(&self, full: &str) -> Option<Topic> {
        let rest = full.strip_prefix(&self.base)?;
        let levels: Vec<&str> = rest.split('/').collect();
        if levels
            .iter()
            .any(|l| l.is_empty() || l.contains(['+', '#']))
        {
            return None;
        }
        let one = |s: &str| Some(s.to_owned());
        match levels[..] {
            ["event", kind] => kind.parse().ok().map(Topic::Event),
            ["stock", location] => one(location).map(Topic::Stock),
            ["status"] => Some(Topic::Status),
            ["cmd", op] => one(op).map(Topic::Cmd),
            ["cmd", op, "result"] => one(op).map(Topic::CmdResult),
            ["epcis"] => Some(Topic::Epcis),
            _ => None,
        }
    }

    /// The subscription filter for every command of this gateway (`…/cmd/+`).
    pub fn command_filter(&self) -> String {
        format!("{}cmd/+", self.base)
    }

    /// The filter matching every topic of this gateway (`…/#`), for ACLs and tests.
    pub fn all_filter(&self) -> String {
        format!("{}#", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn level() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_.-]{1,20}"
    }

    fn topic() -> impl Strategy<Value = Topic> {
        prop_oneof![
            prop::sample::select(EventKind::ALL.to_vec()).prop_map(Topic::Event),
            level().prop_map(Topic::Stock),
            Just(Topic::Status),
            level().prop_map(Topic::Cmd),
            level().prop_map(Topic::CmdResult),
            Just(Topic::Epcis),
        ]
    }

    proptest! {
        #[test]
        fn build_then_parse_round_trips(t in topic(), prefix in "[a-z]{1,5}(/[a-z0-9]{1,5}){0,2}") {
            let topics = Topics::new(&prefix, "s1", "gw-1");
            prop_assert_eq!(topics.parse(&topics.build(&t)), Some(t));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            let _ = Topics::new("shelfd/v1", "s1", "gw").parse(&s);
        }
    }

    #[test]
    fn foreign_and_malformed_topics_are_not_ours() {
        let t = Topics::new("shelfd/v1", "s1", "gw");
        for bad in [
            "shelfd/v1/s1/gw",
            "shelfd/v1/s1/gw/",
            "shelfd/v1/s1/gw/cmd",
            "shelfd/v1/s1/gw/cmd/",
            "shelfd/v1/s1/gw/cmd/+",
            "shelfd/v1/s1/gw/cmd/ping/x",
            "shelfd/v1/s1/gw/cmd/ping/result/x",
            "shelfd/v1/s2/gw/cmd/ping",
            "shelfd/v1/s1/gw/status/x",
            "shelfd/v1/s1/gw/event/unknown",
            "shelfd/v1/s1/gw/epcis/x",
            "shelfd/v1/s1/gw/epcis/",
            "other/s1/gw/status",
        ] {
            assert_eq!(t.parse(bad), None, "{bad}");
        }
    }
}
