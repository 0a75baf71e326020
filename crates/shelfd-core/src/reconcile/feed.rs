//! Read-log records and commands as engine inputs: [`Engine::feed_record`] resolves reader ids
//! to the topology's indices, routes `gpio` lines to the dock book and runs `command` lines;
//! [`Engine::execute`] runs a command that needs the engine (`asn`). Shared by `shelfd replay`,
//! the daemon's engine thread and the engine's own tests, so a record means the same thing
//! everywhere.
//!
//! Owns only this translation: a rejected record or command changes nothing, and nothing here
//! touches a store or a clock.

use super::engine::{Engine, Input};
use crate::commands::{self, Command, CommandError};
use crate::dock::{AsnAccepted, UnknownGpio};
use crate::events::Event;
use crate::readlog::Record;
use serde_json::{Map, Value};

/// Why a record was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record names a reader the config does not have.
    #[error("reader {0:?} is not in the config")]
    UnknownReader(String),
    /// The record names a gpio the config does not have.
    #[error(transparent)]
    UnknownGpio(#[from] UnknownGpio),
    /// A command line was rejected (it changed nothing).
    #[error("{op} command rejected: {error}")]
    Command {
        /// The command's op.
        op: String,
        /// Why it was rejected.
        error: CommandError,
    },
}

impl Engine {
    /// Feeds one read-log record; its events go to `out`. A rejected record (unknown reader or
    /// gpio, rejected command) changes nothing.
    pub fn feed_record(
        &mut self,
        record: &Record,
        out: &mut Vec<Event>,
    ) -> Result<(), RecordError> {
        let topo = self.topology();
        let reader = |id: &str| {
            topo.reader_index(id)
                .ok_or_else(|| RecordError::UnknownReader(id.to_owned()))
        };
        let input = match record {
            Record::Read(r) => Input::Read {
                t: r.t,
                reader: reader(&r.reader)?,
                antenna: r.antenna,
                epc: &r.epc,
                rssi: r.rssi,
            },
            Record::Link {
                t,
                reader: id,
                link,
            } => Input::Link {
                t: *t,
                reader: reader(id)?,
                state: *link,
            },
            Record::Lane(l) => Input::Lane {
                t: l.t,
                reader: reader(&l.reader)?,
                node: l.node,
                lane: l.lane,
                change: l.change,
            },
            Record::Gpio { t, gpio, level } => {
                return self
                    .gpio(*t, gpio, *level, out)
                    .map_err(RecordError::UnknownGpio);
            }
            Record::Command { t, op, command } => {
                self.command_line(*t, op, command, out)?;
                return Ok(());
            }
        };
        self.handle(input, out);
        Ok(())
    }

    /// Parses and executes a read-log command line (the JSON of an MQTT command); returns the
    /// validated command and the detail of its result.
    pub fn command_line(
        &mut self,
        t: u64,
        op: &str,
        command: &Value,
        out: &mut Vec<Event>,
    ) -> Result<(Command, Map<String, Value>), RecordError> {
        let bytes = serde_json::to_vec(command).unwrap_or_default();
        let reject = |error| RecordError::Command {
            op: op.to_owned(),
            error,
        };
        let command = commands::parse_at(op, &bytes, t).map_err(reject)?;
        let detail = self.execute(t, &command, out).map_err(reject)?;
        Ok((command, detail))
    }

    /// Executes a command that needs the engine at gateway time `t` and returns the detail of
    /// its result; a rejected command is an error naming why, and changes nothing. `ping` and
    /// `resync` change nothing here (the publisher answers them).
    ///
    /// `asn` answers `{"shipment","dock","state":"open"|"received","new":bool}`: `new` is false
    /// when the same shipment with the same content was already known.
    pub fn execute(
        &mut self,
        t: u64,
        command: &Command,
        out: &mut Vec<Event>,
    ) -> Result<Map<String, Value>, CommandError> {
        let mut detail = Map::new();
        match command {
            Command::Ping { .. } | Command::Resync { .. } => {}
            Command::Asn { id, asn } => {
                let (shipment, dock) = (asn.shipment.clone(), asn.dock.clone());
                let accepted = self
                    .accept_asn(t, asn.clone(), out)
                    .map_err(|e| CommandError::rejected(Some(id), e.to_string()))?;
                let (state, new) = match accepted {
                    AsnAccepted::Stored => ("open", true),
                    AsnAccepted::Unchanged => ("open", false),
                    AsnAccepted::AlreadyReceived => ("received", false),
                };
                detail.insert("shipment".into(), shipment.into());
                detail.insert("dock".into(), dock.into());
                detail.insert("state".into(), state.into());
                detail.insert("new".into(), new.into());
            }
        }
        Ok(detail)
    }
}
