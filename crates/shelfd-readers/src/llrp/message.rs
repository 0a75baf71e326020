//! The LLRP messages shelfd sends and receives, as one typed [`Message`] enum with its encoder
//! ([`Message::encode`]) and decoder ([`Message::decode`]); message types the enum does not
//! model decode to [`Message::Other`] (kept whole, never an error). Vendor messages are
//! [`Message::Custom`]; the Impinj ones shelfd uses are built by [`impinj`].
//!
//! Message type numbers are the LTK definition's (`llrp-1x1-def.xml`, through llrpjs
//! `def-td.ts`); GET_SUPPORTED_VERSION (46/56) is LLRP 1.1's.
//!
//! ```
//! use shelfd_readers::llrp::message::Message;
//! // KEEPALIVE_ACK answering KEEPALIVE id 42 (reader-vectors.md, computed).
//! assert_eq!(Message::KeepaliveAck.encode(1, 42),
//!     [0x04, 0x48, 0, 0, 0, 0x0a, 0, 0, 0, 0x2a]);
//! ```

use super::codec::{BodyError, Cursor, RawMessage, message};
use super::params::{
    Capabilities, ReaderConfigUpdate, ReaderEvent, RoSpec, Status, TagData, kind as param,
};
use crate::llrp::codec::RawParam;

/// Message type numbers.
pub mod kind {
    /// GET_READER_CAPABILITIES.
    pub const GET_READER_CAPABILITIES: u16 = 1;
    /// CLOSE_CONNECTION_RESPONSE.
    pub const CLOSE_CONNECTION_RESPONSE: u16 = 4;
    /// GET_READER_CAPABILITIES_RESPONSE.
    pub const GET_READER_CAPABILITIES_RESPONSE: u16 = 11;
    /// SET_READER_CONFIG.
    pub const SET_READER_CONFIG: u16 = 3;
    /// SET_READER_CONFIG_RESPONSE.
    pub const SET_READER_CONFIG_RESPONSE: u16 = 13;
    /// CLOSE_CONNECTION.
    pub const CLOSE_CONNECTION: u16 = 14;
    /// ADD_ROSPEC.
    pub const ADD_ROSPEC: u16 = 20;
    /// ADD_ROSPEC_RESPONSE.
    pub const ADD_ROSPEC_RESPONSE: u16 = 30;
    /// GET_SUPPORTED_VERSION (LLRP 1.1).
    pub const GET_SUPPORTED_VERSION: u16 = 46;
    /// GET_SUPPORTED_VERSION_RESPONSE (LLRP 1.1).
    pub const GET_SUPPORTED_VERSION_RESPONSE: u16 = 56;
    /// RO_ACCESS_REPORT.
    pub const RO_ACCESS_REPORT: u16 = 61;
    /// KEEPALIVE.
    pub const KEEPALIVE: u16 = 62;
    /// READER_EVENT_NOTIFICATION.
    pub const READER_EVENT_NOTIFICATION: u16 = 63;
    /// ENABLE_EVENTS_AND_REPORTS.
    pub const ENABLE_EVENTS_AND_REPORTS: u16 = 64;
    /// KEEPALIVE_ACK.
    pub const KEEPALIVE_ACK: u16 = 72;
    /// ERROR_MESSAGE.
    pub const ERROR_MESSAGE: u16 = 100;
    /// CUSTOM_MESSAGE.
    pub const CUSTOM_MESSAGE: u16 = 1023;
}

/// The ROSpec commands that carry only a ROSpecID (0 = all ROSpecs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoSpecOp {
    /// DELETE_ROSPEC (21 → 31).
    Delete,
    /// START_ROSPEC (22 → 32).
    Start,
    /// STOP_ROSPEC (23 → 33).
    Stop,
    /// ENABLE_ROSPEC (24 → 34).
    Enable,
    /// DISABLE_ROSPEC (25 → 35).
    Disable,
}

impl RoSpecOp {
    /// Every op.
    pub const ALL: [RoSpecOp; 5] = [
        RoSpecOp::Delete,
        RoSpecOp::Start,
        RoSpecOp::Stop,
        RoSpecOp::Enable,
        RoSpecOp::Disable,
    ];

    /// The request's message type.
    pub const fn kind(self) -> u16 {
        match self {
            RoSpecOp::Delete => 21,
            RoSpecOp::Start => 22,
            RoSpecOp::Stop => 23,
            RoSpecOp::Enable => 24,
            RoSpecOp::Disable => 25,
        }
    }

    /// The op of a request type.
    pub fn from_kind(kind: u16) -> Option<Self> {
        RoSpecOp::ALL.into_iter().find(|op| op.kind() == kind)
    }
}

/// The responses that carry only an LLRPStatus, by what they answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reply {
    /// SET_READER_CONFIG_RESPONSE (13).
    SetReaderConfig,
    /// CLOSE_CONNECTION_RESPONSE (4).
    CloseConnection,
    /// ADD_ROSPEC_RESPONSE (30).
    AddRoSpec,
    /// DELETE/START/STOP/ENABLE/DISABLE_ROSPEC_RESPONSE (31–35).
    RoSpec(RoSpecOp),
    /// ERROR_MESSAGE (100): the reader's answer to a message it could not take.
    Error,
}

impl Reply {
    /// Every reply.
    pub const ALL: [Reply; 9] = [
        Reply::SetReaderConfig,
        Reply::CloseConnection,
        Reply::AddRoSpec,
        Reply::RoSpec(RoSpecOp::Delete),
        Reply::RoSpec(RoSpecOp::Start),
        Reply::RoSpec(RoSpecOp::Stop),
        Reply::RoSpec(RoSpecOp::Enable),
        Reply::RoSpec(RoSpecOp::Disable),
        Reply::Error,
    ];

    /// The message type.
    pub const fn kind(self) -> u16 {
        match self {
            Reply::SetReaderConfig => kind::SET_READER_CONFIG_RESPONSE,
            Reply::CloseConnection => kind::CLOSE_CONNECTION_RESPONSE,
            Reply::AddRoSpec => kind::ADD_ROSPEC_RESPONSE,
            Reply::RoSpec(op) => op.kind() + 10,
            Reply::Error => kind::ERROR_MESSAGE,
        }
    }

    /// The reply of a message type.
    pub fn from_kind(kind: u16) -> Option<Self> {
        Reply::ALL.into_iter().find(|r| r.kind() == kind)
    }
}

/// One LLRP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// GET_SUPPORTED_VERSION (sent as version 2; a 1.0.1 reader answers ERROR_MESSAGE).
    GetSupportedVersion,
    /// GET_SUPPORTED_VERSION_RESPONSE.
    GetSupportedVersionResponse {
        /// CurrentVersion.
        current: u8,
        /// SupportedVersion (the highest).
        supported: u8,
        /// LLRPStatus.
        status: Status,
    },
    /// GET_READER_CAPABILITIES (RequestedData: 0 all).
    GetReaderCapabilities {
        /// RequestedData.
        requested: u8,
    },
    /// GET_READER_CAPABILITIES_RESPONSE.
    GetReaderCapabilitiesResponse {
        /// LLRPStatus.
        status: Status,
        /// What the reader reported.
        capabilities: Capabilities,
    },
    /// SET_READER_CONFIG.
    SetReaderConfig(ReaderConfigUpdate),
    /// ADD_ROSPEC.
    AddRoSpec(RoSpec),
    /// DELETE/START/STOP/ENABLE/DISABLE_ROSPEC.
    RoSpec {
        /// Which.
        op: RoSpecOp,
        /// ROSpecID (0 = all).
        id: u32,
    },
    /// A response carrying only an LLRPStatus.
    Status {
        /// What it answers.
        reply: Reply,
        /// LLRPStatus.
        status: Status,
    },
    /// ENABLE_EVENTS_AND_REPORTS.
    EnableEventsAndReports,
    /// RO_ACCESS_REPORT: tag reports.
    RoAccessReport(Vec<TagData>),
    /// KEEPALIVE.
    Keepalive,
    /// KEEPALIVE_ACK (same message id as the KEEPALIVE).
    KeepaliveAck,
    /// READER_EVENT_NOTIFICATION.
    ReaderEventNotification(ReaderEvent),
    /// CLOSE_CONNECTION.
    CloseConnection,
    /// CUSTOM_MESSAGE.
    Custom {
        /// Vendor PEN.
        vendor: u32,
        /// Vendor's message subtype.
        subtype: u8,
        /// The rest.
        data: Vec<u8>,
    },
    /// A message type not modelled here, kept whole.
    Other {
        /// Message type.
        kind: u16,
        /// Body.
        body: Vec<u8>,
    },
}

/// A message whose body does not follow its type's grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} (type {kind}, id {id}): {source}")]
pub struct MessageError {
    /// Message type name.
    pub name: &'static str,
    /// Message type.
    pub kind: u16,
    /// Message id.
    pub id: u32,
    /// What is wrong.
    #[source]
    pub source: BodyError,
}

impl Message {
    /// The message type.
    pub fn kind(&self) -> u16 {
        match self {
            Message::GetSupportedVersion => kind::GET_SUPPORTED_VERSION,
            Message::GetSupportedVersionResponse { .. } => kind::GET_SUPPORTED_VERSION_RESPONSE,
            Message::GetReaderCapabilities { .. } => kind::GET_READER_CAPABILITIES,
            Message::GetReaderCapabilitiesResponse { .. } => kind::GET_READER_CAPABILITIES_RESPONSE,
            Message::SetReaderConfig(_) => kind::SET_READER_CONFIG,
            Message::AddRoSpec(_) => kind::ADD_ROSPEC,
            Message::RoSpec { op, .. } => op.kind(),
            Message::Status { reply, .. } => reply.kind(),
            Message::EnableEventsAndReports => kind::ENABLE_EVENTS_AND_REPORTS,
            Message::RoAccessReport(_) => kind::RO_ACCESS_REPORT,
            Message::Keepalive => kind::KEEPALIVE,
            Message::KeepaliveAck => kind::KEEPALIVE_ACK,
            Message::ReaderEventNotification(_) => kind::READER_EVENT_NOTIFICATION,
            Message::CloseConnection => kind::CLOSE_CONNECTION,
            Message::Custom { .. } => kind::CUSTOM_MESSAGE,
            Message::Other { kind, .. } => *kind,
        }
    }

    /// The name of message type `kind` (`"UNKNOWN"` for types shelfd does not know).
    pub fn name_of(kind: u16) -> &'static str {
        match kind {
            1 => "GET_READER_CAPABILITIES",
            2 => "GET_READER_CONFIG",
            3 => "SET_READER_CONFIG",
            4 => "CLOSE_CONNECTION_RESPONSE",
            11 => "GET_READER_CAPABILITIES_RESPONSE",
            12 => "GET_READER_CONFIG_RESPONSE",
            13 => "SET_READER_CONFIG_RESPONSE",
            14 => "CLOSE_CONNECTION",
            20 => "ADD_ROSPEC",
            21 => "DELETE_ROSPEC",
            22 => "START_ROSPEC",
            23 => "STOP_ROSPEC",
            24 => "ENABLE_ROSPEC",
            25 => "DISABLE_ROSPEC",
            26 => "GET_ROSPECS",
            30 => "ADD_ROSPEC_RESPONSE",
            31 => "DELETE_ROSPEC_RESPONSE",
            32 => "START_ROSPEC_RESPONSE",
            33 => "STOP_ROSPEC_RESPONSE",
            34 => "ENABLE_ROSPEC_RESPONSE",
            35 => "DISABLE_ROSPEC_RESPONSE",
            36 => "GET_ROSPECS_RESPONSE",
            40 => "ADD_ACCESSSPEC",
            41 => "DELETE_ACCESSSPEC",
            42 => "ENABLE_ACCESSSPEC",
            43 => "DISABLE_ACCESSSPEC",
            44 => "GET_ACCESSSPECS",
            46 => "GET_SUPPORTED_VERSION",
            47 => "SET_PROTOCOL_VERSION",
            50 => "ADD_ACCESSSPEC_RESPONSE",
            51 => "DELETE_ACCESSSPEC_RESPONSE",
            52 => "ENABLE_ACCESSSPEC_RESPONSE",
            53 => "DISABLE_ACCESSSPEC_RESPONSE",
            54 => "GET_ACCESSSPECS_RESPONSE",
            56 => "GET_SUPPORTED_VERSION_RESPONSE",
            57 => "SET_PROTOCOL_VERSION_RESPONSE",
            60 => "GET_REPORT",
            61 => "RO_ACCESS_REPORT",
            62 => "KEEPALIVE",
            63 => "READER_EVENT_NOTIFICATION",
            64 => "ENABLE_EVENTS_AND_REPORTS",
            72 => "KEEPALIVE_ACK",
            100 => "ERROR_MESSAGE",
            1023 => "CUSTOM_MESSAGE",
            _ => "UNKNOWN",
        }
    }

    /// The whole message on the wire with header `version` and message id `id`.
    pub fn encode(&self, version: u8, id: u32) -> Vec<u8> {
        message(version, self.kind(), id, |o| match self {
            Message::GetSupportedVersion
            | Message::EnableEventsAndReports
            | Message::Keepalive
            | Message::KeepaliveAck
            | Message::CloseConnection => {}
            Message::GetSupportedVersionResponse {
                current,
                supported,
                status,
            } => {
                o.push(*current);
                o.push(*supported);
                status.encode(o);
            }
            Message::GetReaderCapabilities { requested } => o.push(*requested),
            Message::GetReaderCapabilitiesResponse {
                status,
                capabilities,
            } => {
                status.encode(o);
                capabilities.encode(o);
            }
            Message::SetReaderConfig(update) => update.encode(o),
            Message::AddRoSpec(spec) => spec.encode(o),
            Message::RoSpec { id, .. } => o.extend_from_slice(&id.to_be_bytes()),
            Message::Status { status, .. } => status.encode(o),
            Message::RoAccessReport(tags) => {
                for tag in tags {
                    tag.encode(o);
                }
            }
            Message::ReaderEventNotification(event) => event.encode(o),
            Message::Custom {
                vendor,
                subtype,
                data,
            } => {
                o.extend_from_slice(&vendor.to_be_bytes());
                o.push(*subtype);
                o.extend_from_slice(data);
            }
            Message::Other { body, .. } => o.extend_from_slice(body),
        })
    }

    /// Decodes a framed message's body by its type.
    pub fn decode(raw: &RawMessage) -> Result<Message, MessageError> {
        let wrap = |source| MessageError {
            name: Message::name_of(raw.kind),
            kind: raw.kind,
            id: raw.id,
            source,
        };
        decode_body(raw.kind, &raw.body).map_err(wrap)
    }
}

/// The first LLRPStatus among `body`'s parameters.
fn status_in(body: &[u8]) -> Result<Status, BodyError> {
    for p in Cursor::new(body).params() {
        if let RawParam::Tlv {
            kind: param::LLRP_STATUS,
            body,
        } = p?
        {
            return Status::decode(body);
        }
    }
    Err(BodyError::Missing("LLRPStatus"))
}

fn decode_body(k: u16, body: &[u8]) -> Result<Message, BodyError> {
    let mut c = Cursor::new(body);
    if let Some(op) = RoSpecOp::from_kind(k) {
        return Ok(Message::RoSpec {
            op,
            id: c.u32("ROSpecID")?,
        });
    }
    if let Some(reply) = Reply::from_kind(k) {
        return Ok(Message::Status {
            reply,
            status: status_in(body)?,
        });
    }
    Ok(match k {
        kind::GET_SUPPORTED_VERSION => Message::GetSupportedVersion,
        kind::GET_SUPPORTED_VERSION_RESPONSE => {
            let current = c.u8("CurrentVersion")?;
            let supported = c.u8("SupportedVersion")?;
            Message::GetSupportedVersionResponse {
                current,
                supported,
                status: status_in(c.rest())?,
            }
        }
        kind::GET_READER_CAPABILITIES => Message::GetReaderCapabilities {
            requested: c.u8("RequestedData")?,
        },
        kind::GET_READER_CAPABILITIES_RESPONSE => {
            let mut status = None;
            let mut capabilities = Capabilities::default();
            for p in c.params() {
                if let RawParam::Tlv { kind: k, body } = p? {
                    if k == param::LLRP_STATUS {
                        status = Some(Status::decode(body)?);
                    } else {
                        capabilities.decode_param(k, body)?;
                    }
                }
            }
            Message::GetReaderCapabilitiesResponse {
                status: status.ok_or(BodyError::Missing("LLRPStatus"))?,
                capabilities,
            }
        }
        kind::SET_READER_CONFIG => Message::SetReaderConfig(ReaderConfigUpdate::decode(body)?),
        kind::ADD_ROSPEC => {
            let mut spec = None;
            for p in c.params() {
                if let RawParam::Tlv {
                    kind: param::ROSPEC,
                    body,
                } = p?
                {
                    spec = Some(RoSpec::decode(body)?);
                }
            }
            Message::AddRoSpec(spec.ok_or(BodyError::Missing("ROSpec in ADD_ROSPEC"))?)
        }
        kind::ENABLE_EVENTS_AND_REPORTS => Message::EnableEventsAndReports,
        kind::RO_ACCESS_REPORT => {
            let mut tags = Vec::new();
            for p in c.params() {
                if let RawParam::Tlv {
                    kind: param::TAG_REPORT_DATA,
                    body,
                } = p?
                {
                    tags.push(TagData::decode(body)?);
                }
            }
            Message::RoAccessReport(tags)
        }
        kind::KEEPALIVE => Message::Keepalive,
        kind::KEEPALIVE_ACK => Message::KeepaliveAck,
        kind::READER_EVENT_NOTIFICATION => {
            let mut event = None;
            for p in c.params() {
                if let RawParam::Tlv {
                    kind: param::READER_EVENT_NOTIFICATION_DATA,
                    body,
                } = p?
                {
                    event = Some(ReaderEvent::decode(body)?);
                }
            }
            Message::ReaderEventNotification(
                event.ok_or(BodyError::Missing("ReaderEventNotificationData"))?,
            )
        }
        kind::CLOSE_CONNECTION => Message::CloseConnection,
        kind::CUSTOM_MESSAGE => Message::Custom {
            vendor: c.u32("CUSTOM_MESSAGE vendor")?,
            subtype: c.u8("CUSTOM_MESSAGE subtype")?,
            data: c.rest().to_vec(),
        },
        other => Message::Other {
            kind: other,
            body: body.to_vec(),
        },
    })
}

/// Impinj's LLRP extensions (vendor PEN 25882; subtypes as in EdgeX device-rfid-llrp-go's
/// `ImpinjEnableExtensions = 21`, `…Response = 22`, `ImpinjEnablePeakRSSI = 53`,
/// `ImpinjPeakRSSI = 57`, and ImpinjInventorySearchMode = 23 as seen in a Speedway's
/// GET_READER_CONFIG_RESPONSE recorded in sllurp's `tests/test_all.py`).
pub mod impinj {
    use super::super::codec::{Cursor, tlv};
    use super::super::params::{CustomParam, Status, TagData, kind};
    use super::Message;

    /// Impinj's IANA private enterprise number.
    pub const VENDOR: u32 = 25882;
    /// CUSTOM_MESSAGE subtype IMPINJ_ENABLE_EXTENSIONS.
    pub const ENABLE_EXTENSIONS: u8 = 21;
    /// CUSTOM_MESSAGE subtype IMPINJ_ENABLE_EXTENSIONS_RESPONSE.
    pub const ENABLE_EXTENSIONS_RESPONSE: u8 = 22;
    /// Custom parameter ImpinjInventorySearchMode (u16 mode).
    pub const INVENTORY_SEARCH_MODE: u32 = 23;
    /// Custom parameter ImpinjTagReportContentSelector.
    pub const TAG_REPORT_CONTENT_SELECTOR: u32 = 50;
    /// Custom parameter ImpinjEnablePeakRSSI (u16 mode, 1 = enabled).
    pub const ENABLE_PEAK_RSSI: u32 = 53;
    /// Custom parameter ImpinjPeakRSSI (s16, hundredths of a dBm).
    pub const PEAK_RSSI: u32 = 57;

    /// IMPINJ_ENABLE_EXTENSIONS (one reserved u32).
    pub fn enable_extensions() -> Message {
        Message::Custom {
            vendor: VENDOR,
            subtype: ENABLE_EXTENSIONS,
            data: vec![0; 4],
        }
    }

    /// The status of an IMPINJ_ENABLE_EXTENSIONS_RESPONSE, if `message` is one.
    pub fn enable_extensions_status(message: &Message) -> Option<Status> {
        match message {
            Message::Custom {
                vendor: VENDOR,
                subtype: ENABLE_EXTENSIONS_RESPONSE,
                data,
            } => Some(super::status_in(data).unwrap_or_else(|e| {
                Status::error(
                    super::super::params::status_code::M_PARAMETER_ERROR,
                    e.to_string(),
                )
            })),
            _ => None,
        }
    }

    /// An IMPINJ_ENABLE_EXTENSIONS_RESPONSE carrying `status`.
    pub fn enable_extensions_response(status: &Status) -> Message {
        let mut data = Vec::new();
        status.encode(&mut data);
        Message::Custom {
            vendor: VENDOR,
            subtype: ENABLE_EXTENSIONS_RESPONSE,
            data,
        }
    }

    /// ImpinjInventorySearchMode: 0 reader selected, 1 single target, 2 dual target, 3 single
    /// target with suppression (TagFocus).
    pub fn search_mode(mode: u16) -> CustomParam {
        CustomParam {
            vendor: VENDOR,
            subtype: INVENTORY_SEARCH_MODE,
            data: mode.to_be_bytes().to_vec(),
        }
    }

    /// The search mode a custom parameter sets, if it is ImpinjInventorySearchMode.
    pub fn search_mode_of(param: &CustomParam) -> Option<u16> {
        (param.vendor == VENDOR && param.subtype == INVENTORY_SEARCH_MODE)
            .then(|| {
                Cursor::new(&param.data)
                    .u16("ImpinjInventorySearchMode")
                    .ok()
            })
            .flatten()
    }

    /// ImpinjTagReportContentSelector with ImpinjEnablePeakRSSI enabled.
    pub fn peak_rssi_selector() -> CustomParam {
        let mut data = Vec::new();
        tlv(&mut data, kind::CUSTOM, |o| {
            o.extend_from_slice(&VENDOR.to_be_bytes());
            o.extend_from_slice(&ENABLE_PEAK_RSSI.to_be_bytes());
            o.extend_from_slice(&1u16.to_be_bytes());
        });
        CustomParam {
            vendor: VENDOR,
            subtype: TAG_REPORT_CONTENT_SELECTOR,
            data,
        }
    }

    /// Whether a ROReportSpec's custom parameters enable Impinj peak RSSI.
    pub fn enables_peak_rssi(custom: &[CustomParam]) -> bool {
        custom.iter().any(|c| {
            c.vendor == VENDOR
                && c.subtype == TAG_REPORT_CONTENT_SELECTOR
                && Cursor::new(&c.data).params().any(|p| {
                    matches!(p, Ok(super::super::codec::RawParam::Tlv { kind: kind::CUSTOM, body })
                        if CustomParam::decode(body).is_ok_and(|inner| inner.vendor == VENDOR
                            && inner.subtype == ENABLE_PEAK_RSSI
                            && inner.data.get(..2) == Some(&[0, 1])))
                })
        })
    }

    /// ImpinjPeakRSSI in hundredths of a dBm.
    pub fn peak_rssi(cdbm: i16) -> CustomParam {
        CustomParam {
            vendor: VENDOR,
            subtype: PEAK_RSSI,
            data: cdbm.to_be_bytes().to_vec(),
        }
    }

    /// The ImpinjPeakRSSI of a tag report, in hundredths of a dBm.
    pub fn peak_rssi_of(tag: &TagData) -> Option<i16> {
        tag.custom
            .iter()
            .find(|c| c.vendor == VENDOR && c.subtype == PEAK_RSSI && c.data.len() == 2)
            .map(|c| i16::from_be_bytes([c.data[0], c.data[1]]))
    }
}
