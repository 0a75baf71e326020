//! The gateway's side of one node's conversation: which event reports are new and which are
//! resends, what to send the node next (an ack doubles as the next poll), and command numbers.
//! Owns the dedupe state of one node; it never touches a port, a clock or the engine.

use super::frame::Frame;
use super::message::{Command, Report};

/// What a report means for the gateway's dedupe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// An event seen for the first time: hand it on.
    New,
    /// A resend of an event already handed on (its ack was lost): drop it, ack it again.
    Duplicate,
    /// A heartbeat or a command result: an answer, not an event; nothing to dedupe.
    Answer,
    /// The report comes from another node.
    OtherNode,
}

/// The gateway's view of one node.
///
/// A node answers every poll with its oldest unacknowledged event and resends it until it is
/// acknowledged, so the gateway sees each event's sequence number one or more times, in
/// increasing order. [`NodeSession::on_report`] tells the first time from the resends;
/// [`NodeSession::next_request`] acknowledges the newest event seen (a duplicate is acked
/// again) and at the same time polls for the next. A hello starts a new numbering (the node
/// rebooted).
///
/// ```
/// use shelf_node::link::{Command, Delivery, Frame, NodeSession, Report};
///
/// let mut session = NodeSession::new(3, 100);
/// assert_eq!(session.next_request().message, Command::Poll);
/// let pick = Frame::new(3, 41, Report::PickPut { lane: 0, units: -1, delta_mg: -250_000 });
/// assert_eq!(session.on_report(&pick), Delivery::New);
/// assert_eq!(session.next_request().message, Command::Ack { seq: 41 });
/// assert_eq!(session.on_report(&pick), Delivery::Duplicate); // the ack was lost, it came again
/// let tare = session.command(Command::Tare { lane: 0 });
/// assert_eq!((tare.address, tare.seq), (3, 100));
/// ```
#[derive(Debug, Clone)]
pub struct NodeSession {
    address: u8,
    last_event: Option<u16>,
    /// The newest event was a hello (a resend of it is a duplicate, not a new boot).
    last_was_hello: bool,
    next_command_seq: u16,
}

impl NodeSession {
    /// A session with node `address`, numbering commands from `first_command_seq`. Start from a
    /// value that differs across gateway restarts (the clock, a random number): a node runs a
    /// command only once per number, and a restarted gateway repeating the previous number
    /// with the very same command would be taken for a resend.
    pub fn new(address: u8, first_command_seq: u16) -> NodeSession {
        NodeSession {
            address,
            last_event: None,
            last_was_hello: false,
            next_command_seq: first_command_seq,
        }
    }

    /// The node's address.
    pub fn address(&self) -> u8 {
        self.address
    }

    /// The newest event sequence number handed on, if any since the last hello.
    pub fn last_event(&self) -> Option<u16> {
        self.last_event
    }

    /// Classifies a report from the bus and records a new event's number.
    pub fn on_report(&mut self, frame: &Frame<Report>) -> Delivery {
        if frame.address != self.address {
            return Delivery::OtherNode;
        }
        if !frame.message.is_event() {
            return Delivery::Answer;
        }
        if let Report::Hello { .. } = frame.message {
            // A new boot: its numbering starts here. Only a hello right after the same hello is
            // a resend (a node that rebooted with the same first number before sending any
            // event is taken for one: seed the number per boot, see `crate::node`).
            let repeat = self.last_was_hello && self.last_event == Some(frame.seq);
            self.last_event = Some(frame.seq);
            self.last_was_hello = true;
            return if repeat {
                Delivery::Duplicate
            } else {
                Delivery::New
            };
        }
        match self.last_event {
            Some(last) if (frame.seq.wrapping_sub(last) as i16) <= 0 => Delivery::Duplicate,
            _ => {
                self.last_event = Some(frame.seq);
                self.last_was_hello = false;
                Delivery::New
            }
        }
    }

    /// The next request to the node: an ack of the newest event seen (which also asks for the
    /// next one), or a poll before any. Always safe to repeat.
    pub fn next_request(&self) -> Frame<Command> {
        let message = match self.last_event {
            Some(seq) => Command::Ack { seq },
            None => Command::Poll,
        };
        Frame::new(self.address, 0, message)
    }

    /// A command frame with a fresh command number. Resend the same frame (same number) until
    /// its [`Report::CommandResult`] arrives; the node runs it once.
    pub fn command(&mut self, command: Command) -> Frame<Command> {
        let seq = self.next_command_seq;
        self.next_command_seq = self.next_command_seq.wrapping_add(1);
        Frame::new(self.address, seq, command)
    }
}
