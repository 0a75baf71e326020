//! The LLRP parameters shelfd reads and writes, as typed values with their encoders and
//! decoders: LLRPStatus, the capabilities (GeneralDeviceCapabilities, LLRPCapabilities,
//! RegulatoryCapabilities with the UHF power and Gen2 mode tables), the reader configuration
//! (ReaderEventNotificationSpec, ROReportSpec, KeepaliveSpec, EventsAndReports), the ROSpec
//! tree, TagReportData, ReaderEventNotificationData and Custom parameters.
//!
//! Type numbers and field layouts are the LTK definition's (`llrp-1x1-def.xml`, read through
//! llrpjs `src/def-td.ts`, which is generated from it). Decoders skip parameters they do not
//! know by their length, never trust a length they have not bound-checked and never panic;
//! an encoder followed by its decoder gives the value back (property-tested in `tests`).

use super::codec::{BodyError, Cursor, Params, RawParam, put_utf8v, tlv, tv};

/// Parameter type numbers (TLV unless noted).
pub mod kind {
    /// TV: AntennaID (u16).
    pub const ANTENNA_ID: u8 = 1;
    /// TV: FirstSeenTimestampUTC (u64 µs).
    pub const FIRST_SEEN_UTC: u8 = 2;
    /// TV: FirstSeenTimestampUptime (u64 µs).
    pub const FIRST_SEEN_UPTIME: u8 = 3;
    /// TV: LastSeenTimestampUTC.
    pub const LAST_SEEN_UTC: u8 = 4;
    /// TV: LastSeenTimestampUptime.
    pub const LAST_SEEN_UPTIME: u8 = 5;
    /// TV: PeakRSSI (s8 dBm).
    pub const PEAK_RSSI: u8 = 6;
    /// TV: ChannelIndex (u16).
    pub const CHANNEL_INDEX: u8 = 7;
    /// TV: TagSeenCount (u16).
    pub const TAG_SEEN_COUNT: u8 = 8;
    /// TV: ROSpecID (u32).
    pub const ROSPEC_ID: u8 = 9;
    /// TV: InventoryParameterSpecID (u16).
    pub const INVENTORY_PARAMETER_SPEC_ID: u8 = 10;
    /// TV: C1G2_CRC (u16).
    pub const C1G2_CRC: u8 = 11;
    /// TV: C1G2_PC (u16).
    pub const C1G2_PC: u8 = 12;
    /// TV: EPC_96 (12 bytes).
    pub const EPC_96: u8 = 13;
    /// TV: SpecIndex (u16).
    pub const SPEC_INDEX: u8 = 14;
    /// TV: AccessSpecID (u32).
    pub const ACCESS_SPEC_ID: u8 = 16;
    /// UTCTimestamp.
    pub const UTC_TIMESTAMP: u16 = 128;
    /// Uptime.
    pub const UPTIME: u16 = 129;
    /// GeneralDeviceCapabilities.
    pub const GENERAL_DEVICE_CAPABILITIES: u16 = 137;
    /// ReceiveSensitivityTableEntry.
    pub const RECEIVE_SENSITIVITY_ENTRY: u16 = 139;
    /// PerAntennaAirProtocol.
    pub const PER_ANTENNA_AIR_PROTOCOL: u16 = 140;
    /// GPIOCapabilities.
    pub const GPIO_CAPABILITIES: u16 = 141;
    /// LLRPCapabilities.
    pub const LLRP_CAPABILITIES: u16 = 142;
    /// RegulatoryCapabilities.
    pub const REGULATORY_CAPABILITIES: u16 = 143;
    /// UHFBandCapabilities.
    pub const UHF_BAND_CAPABILITIES: u16 = 144;
    /// TransmitPowerLevelTableEntry.
    pub const TRANSMIT_POWER_LEVEL_ENTRY: u16 = 145;
    /// FrequencyInformation.
    pub const FREQUENCY_INFORMATION: u16 = 146;
    /// FrequencyHopTable.
    pub const FREQUENCY_HOP_TABLE: u16 = 147;
    /// FixedFrequencyTable.
    pub const FIXED_FREQUENCY_TABLE: u16 = 148;
    /// ROSpec.
    pub const ROSPEC: u16 = 177;
    /// ROBoundarySpec.
    pub const RO_BOUNDARY_SPEC: u16 = 178;
    /// ROSpecStartTrigger.
    pub const ROSPEC_START_TRIGGER: u16 = 179;
    /// ROSpecStopTrigger.
    pub const ROSPEC_STOP_TRIGGER: u16 = 182;
    /// AISpec.
    pub const AISPEC: u16 = 183;
    /// AISpecStopTrigger.
    pub const AISPEC_STOP_TRIGGER: u16 = 184;
    /// InventoryParameterSpec.
    pub const INVENTORY_PARAMETER_SPEC: u16 = 186;
    /// KeepaliveSpec.
    pub const KEEPALIVE_SPEC: u16 = 220;
    /// AntennaConfiguration.
    pub const ANTENNA_CONFIGURATION: u16 = 222;
    /// RFTransmitter.
    pub const RF_TRANSMITTER: u16 = 224;
    /// EventsAndReports.
    pub const EVENTS_AND_REPORTS: u16 = 226;
    /// ROReportSpec.
    pub const RO_REPORT_SPEC: u16 = 237;
    /// TagReportContentSelector.
    pub const TAG_REPORT_CONTENT_SELECTOR: u16 = 238;
    /// TagReportData.
    pub const TAG_REPORT_DATA: u16 = 240;
    /// EPCData.
    pub const EPC_DATA: u16 = 241;
    /// ReaderEventNotificationSpec.
    pub const READER_EVENT_NOTIFICATION_SPEC: u16 = 244;
    /// EventNotificationState.
    pub const EVENT_NOTIFICATION_STATE: u16 = 245;
    /// ReaderEventNotificationData.
    pub const READER_EVENT_NOTIFICATION_DATA: u16 = 246;
    /// ROSpecEvent.
    pub const ROSPEC_EVENT: u16 = 249;
    /// ReportBufferLevelWarningEvent.
    pub const REPORT_BUFFER_LEVEL_WARNING: u16 = 250;
    /// ReportBufferOverflowErrorEvent.
    pub const REPORT_BUFFER_OVERFLOW: u16 = 251;
    /// ReaderExceptionEvent.
    pub const READER_EXCEPTION_EVENT: u16 = 252;
    /// AntennaEvent.
    pub const ANTENNA_EVENT: u16 = 255;
    /// ConnectionAttemptEvent.
    pub const CONNECTION_ATTEMPT_EVENT: u16 = 256;
    /// ConnectionCloseEvent.
    pub const CONNECTION_CLOSE_EVENT: u16 = 257;
    /// LLRPStatus.
    pub const LLRP_STATUS: u16 = 287;
    /// FieldError.
    pub const FIELD_ERROR: u16 = 288;
    /// ParameterError.
    pub const PARAMETER_ERROR: u16 = 289;
    /// C1G2LLRPCapabilities.
    pub const C1G2_LLRP_CAPABILITIES: u16 = 327;
    /// C1G2UHFRFModeTable.
    pub const C1G2_UHF_RF_MODE_TABLE: u16 = 328;
    /// C1G2UHFRFModeTableEntry.
    pub const C1G2_UHF_RF_MODE_ENTRY: u16 = 329;
    /// C1G2InventoryCommand.
    pub const C1G2_INVENTORY_COMMAND: u16 = 330;
    /// C1G2RFControl.
    pub const C1G2_RF_CONTROL: u16 = 335;
    /// C1G2SingulationControl.
    pub const C1G2_SINGULATION_CONTROL: u16 = 336;
    /// Custom.
    pub const CUSTOM: u16 = 1023;
}

/// LLRPStatus status codes (`M_` message level, `P_` parameter level, `A_`, `R_`).
pub mod status_code {
    /// M_Success.
    pub const SUCCESS: u16 = 0;
    /// M_ParameterError.
    pub const M_PARAMETER_ERROR: u16 = 100;
    /// M_UnsupportedMessage.
    pub const M_UNSUPPORTED_MESSAGE: u16 = 109;
    /// M_UnsupportedVersion.
    pub const M_UNSUPPORTED_VERSION: u16 = 110;
    /// P_OverflowParameter.
    pub const P_OVERFLOW_PARAMETER: u16 = 205;
    /// A_Invalid.
    pub const A_INVALID: u16 = 300;
    /// A_OutOfRange.
    pub const A_OUT_OF_RANGE: u16 = 301;
    /// R_DeviceError.
    pub const R_DEVICE_ERROR: u16 = 401;
}

/// ConnectionAttemptEvent statuses.
pub mod connection {
    /// Success.
    pub const SUCCESS: u16 = 0;
    /// Failed: a reader-initiated connection already exists.
    pub const READER_INITIATED_EXISTS: u16 = 1;
    /// Failed: a client-initiated connection already exists.
    pub const CLIENT_INITIATED_EXISTS: u16 = 2;
    /// Failed for another reason.
    pub const OTHER_FAILURE: u16 = 3;
    /// Sent on the existing connection: another client attempted to connect.
    pub const ANOTHER_CONNECTION_ATTEMPTED: u16 = 4;

    /// What a status means, for logs.
    pub fn describe(status: u16) -> &'static str {
        match status {
            SUCCESS => "success",
            READER_INITIATED_EXISTS => "a reader-initiated connection already exists",
            CLIENT_INITIATED_EXISTS => "another client is already connected",
            OTHER_FAILURE => "failed for a reason other than an existing connection",
            ANOTHER_CONNECTION_ATTEMPTED => "another connection was attempted",
            _ => "unknown status",
        }
    }
}

/// LLRPStatus: the outcome a response reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Status code ([`status_code`]).
    pub code: u16,
    /// The reader's description (empty on success).
    pub description: String,
    /// FieldError: (field number, error code).
    pub field_error: Option<(u16, u16)>,
    /// ParameterError: (parameter type, error code).
    pub parameter_error: Option<(u16, u16)>,
}

impl Status {
    /// M_Success.
    pub fn success() -> Self {
        Status::default()
    }

    /// A failure with `code` and `description`.
    pub fn error(code: u16, description: impl Into<String>) -> Self {
        Status {
            code,
            description: description.into(),
            ..Status::default()
        }
    }

    /// True for M_Success.
    pub fn is_success(&self) -> bool {
        self.code == status_code::SUCCESS
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::LLRP_STATUS, |o| {
            o.extend_from_slice(&self.code.to_be_bytes());
            put_utf8v(o, &self.description);
            if let Some((field, code)) = self.field_error {
                tlv(o, kind::FIELD_ERROR, |o| {
                    o.extend_from_slice(&field.to_be_bytes());
                    o.extend_from_slice(&code.to_be_bytes());
                });
            }
            if let Some((param, code)) = self.parameter_error {
                tlv(o, kind::PARAMETER_ERROR, |o| {
                    o.extend_from_slice(&param.to_be_bytes());
                    o.extend_from_slice(&code.to_be_bytes());
                });
            }
        });
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        let code = c.u16("LLRPStatus code")?;
        let description = c.utf8v("LLRPStatus description")?;
        let mut status = Status {
            code,
            description,
            ..Status::default()
        };
        for p in c.params() {
            if let RawParam::Tlv { kind: k, body } = p? {
                let mut c = Cursor::new(body);
                match k {
                    kind::FIELD_ERROR => {
                        status.field_error = Some((c.u16("FieldError")?, c.u16("FieldError")?));
                    }
                    kind::PARAMETER_ERROR => {
                        status.parameter_error =
                            Some((c.u16("ParameterError")?, c.u16("ParameterError")?));
                    }
                    _ => {}
                }
            }
        }
        Ok(status)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {}", self.code)?;
        if !self.description.is_empty() {
            write!(f, " ({:?})", self.description)?;
        }
        if let Some((field, code)) = self.field_error {
            write!(f, ", field {field} error {code}")?;
        }
        if let Some((param, code)) = self.parameter_error {
            write!(f, ", parameter type {param} error {code}")?;
        }
        Ok(())
    }
}

/// A Custom parameter: a vendor's extension (PEN `vendor`), `subtype`, raw data (which may
/// itself hold parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomParam {
    /// IANA private enterprise number of the vendor (Impinj 25882).
    pub vendor: u32,
    /// Vendor's parameter subtype.
    pub subtype: u32,
    /// The rest of the parameter.
    pub data: Vec<u8>,
}

impl CustomParam {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::CUSTOM, |o| {
            o.extend_from_slice(&self.vendor.to_be_bytes());
            o.extend_from_slice(&self.subtype.to_be_bytes());
            o.extend_from_slice(&self.data);
        });
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        Ok(CustomParam {
            vendor: c.u32("Custom vendor")?,
            subtype: c.u32("Custom subtype")?,
            data: c.rest().to_vec(),
        })
    }
}

/// GeneralDeviceCapabilities: who the reader is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GeneralCapabilities {
    /// MaxNumberOfAntennaSupported.
    pub max_antennas: u16,
    /// CanSetAntennaProperties.
    pub can_set_antenna_properties: bool,
    /// HasUTCClockCapability.
    pub has_utc_clock: bool,
    /// DeviceManufacturerName: the vendor's PEN (Impinj 25882, Zebra 161).
    pub manufacturer: u32,
    /// ModelName (a vendor number).
    pub model: u32,
    /// ReaderFirmwareVersion.
    pub firmware: String,
    /// ReceiveSensitivityTableEntry: (index, dB).
    pub receive_sensitivities: Vec<(u16, i16)>,
    /// GPIOCapabilities: inputs.
    pub gpis: u16,
    /// GPIOCapabilities: outputs.
    pub gpos: u16,
}

/// LLRPCapabilities: what the reader's LLRP implementation can do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LlrpCapabilities {
    /// CanDoRFSurvey.
    pub can_do_rf_survey: bool,
    /// CanReportBufferFillWarning.
    pub can_report_buffer_fill_warning: bool,
    /// SupportsClientRequestOpSpec.
    pub supports_client_request_opspec: bool,
    /// CanDoTagInventoryStateAwareSingulation.
    pub can_do_state_aware_singulation: bool,
    /// SupportsEventAndReportHolding.
    pub supports_event_and_report_holding: bool,
    /// MaxNumPriorityLevelsSupported.
    pub max_priority_levels: u8,
    /// ClientRequestOpSpecTimeout.
    pub client_request_opspec_timeout: u16,
    /// MaxNumROSpecs (0 = no limit).
    pub max_rospecs: u32,
    /// MaxNumSpecsPerROSpec.
    pub max_specs_per_rospec: u32,
    /// MaxNumInventoryParameterSpecsPerAISpec (Zebra and Impinj: 1).
    pub max_inventory_specs_per_aispec: u32,
    /// MaxNumAccessSpecs.
    pub max_access_specs: u32,
    /// MaxNumOpSpecsPerAccessSpec.
    pub max_opspecs_per_access_spec: u32,
}

/// One TransmitPowerLevelTableEntry: index and power in hundredths of a dBm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerLevel {
    /// Index (what RFTransmitter names).
    pub index: u16,
    /// TransmitPowerValue, dBm × 100.
    pub centi_dbm: i16,
}

/// One C1G2UHFRFModeTableEntry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RfMode {
    /// ModeIdentifier (what C1G2RFControl names; Impinj autoset modes are ≥ 1000).
    pub id: u32,
    /// DRValue: true = 64/3, false = 8.
    pub dr_64_3: bool,
    /// EPCHAGTCConformance.
    pub epc_hag_conformant: bool,
    /// MValue: 0 FM0, 1 M2, 2 M4, 3 M8.
    pub m: u8,
    /// ForwardLinkModulation: 0 PR-ASK, 1 SSB-ASK, 2 DSB-ASK.
    pub forward_link_modulation: u8,
    /// SpectralMaskIndicator.
    pub spectral_mask: u8,
    /// Backscatter data rate, bps.
    pub bdr: u32,
    /// PIE ratio × 1000.
    pub pie: u32,
    /// Minimum Tari, ns.
    pub min_tari: u32,
    /// Maximum Tari, ns.
    pub max_tari: u32,
    /// Tari step, ns.
    pub step_tari: u32,
}

/// RegulatoryCapabilities with its UHFBandCapabilities.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegulatoryCapabilities {
    /// ISO 3166 country code.
    pub country_code: u16,
    /// CommunicationsStandard (1 = US FCC part 15, 2 = ETSI 302 208, …).
    pub communications_standard: u16,
    /// The power table.
    pub power_levels: Vec<PowerLevel>,
    /// FrequencyInformation: hopping.
    pub hopping: bool,
    /// FrequencyHopTables: (id, frequencies in kHz).
    pub hop_tables: Vec<(u8, Vec<u32>)>,
    /// FixedFrequencyTable, kHz (empty: none).
    pub fixed_frequencies: Vec<u32>,
    /// The Gen2 mode table.
    pub modes: Vec<RfMode>,
}

impl RegulatoryCapabilities {
    /// Lowest and highest power in the table, dBm × 100.
    pub fn power_range(&self) -> Option<(i16, i16)> {
        let min = self.power_levels.iter().map(|p| p.centi_dbm).min()?;
        let max = self.power_levels.iter().map(|p| p.centi_dbm).max()?;
        Some((min, max))
    }
}

/// What GET_READER_CAPABILITIES_RESPONSE says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// GeneralDeviceCapabilities.
    pub general: Option<GeneralCapabilities>,
    /// LLRPCapabilities.
    pub llrp: Option<LlrpCapabilities>,
    /// RegulatoryCapabilities.
    pub regulatory: Option<RegulatoryCapabilities>,
}

fn bit(value: bool, shift: u8) -> u8 {
    u8::from(value) << shift
}

fn flag(byte: u8, shift: u8) -> bool {
    byte >> shift & 1 == 1
}

impl Capabilities {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        if let Some(g) = &self.general {
            tlv(out, kind::GENERAL_DEVICE_CAPABILITIES, |o| {
                o.extend_from_slice(&g.max_antennas.to_be_bytes());
                let flags = (u16::from(g.can_set_antenna_properties) << 15)
                    | (u16::from(g.has_utc_clock) << 14);
                o.extend_from_slice(&flags.to_be_bytes());
                o.extend_from_slice(&g.manufacturer.to_be_bytes());
                o.extend_from_slice(&g.model.to_be_bytes());
                put_utf8v(o, &g.firmware);
                for &(index, value) in &g.receive_sensitivities {
                    tlv(o, kind::RECEIVE_SENSITIVITY_ENTRY, |o| {
                        o.extend_from_slice(&index.to_be_bytes());
                        o.extend_from_slice(&value.to_be_bytes());
                    });
                }
                tlv(o, kind::GPIO_CAPABILITIES, |o| {
                    o.extend_from_slice(&g.gpis.to_be_bytes());
                    o.extend_from_slice(&g.gpos.to_be_bytes());
                });
                // One PerAntennaAirProtocol (Gen2) per antenna, at most 256 of them.
                for antenna in 1..=g.max_antennas.min(256) {
                    tlv(o, kind::PER_ANTENNA_AIR_PROTOCOL, |o| {
                        o.extend_from_slice(&antenna.to_be_bytes());
                        o.extend_from_slice(&1u16.to_be_bytes());
                        o.push(1); // EPCGlobalClass1Gen2
                    });
                }
            });
        }
        if let Some(l) = &self.llrp {
            tlv(out, kind::LLRP_CAPABILITIES, |o| {
                o.push(
                    bit(l.can_do_rf_survey, 7)
                        | bit(l.can_report_buffer_fill_warning, 6)
                        | bit(l.supports_client_request_opspec, 5)
                        | bit(l.can_do_state_aware_singulation, 4)
                        | bit(l.supports_event_and_report_holding, 3),
                );
                o.push(l.max_priority_levels);
                o.extend_from_slice(&l.client_request_opspec_timeout.to_be_bytes());
                for v in [
                    l.max_rospecs,
                    l.max_specs_per_rospec,
                    l.max_inventory_specs_per_aispec,
                    l.max_access_specs,
                    l.max_opspecs_per_access_spec,
                ] {
                    o.extend_from_slice(&v.to_be_bytes());
                }
            });
        }
        if let Some(r) = &self.regulatory {
            tlv(out, kind::REGULATORY_CAPABILITIES, |o| {
                o.extend_from_slice(&r.country_code.to_be_bytes());
                o.extend_from_slice(&r.communications_standard.to_be_bytes());
                tlv(o, kind::UHF_BAND_CAPABILITIES, |o| {
                    for p in &r.power_levels {
                        tlv(o, kind::TRANSMIT_POWER_LEVEL_ENTRY, |o| {
                            o.extend_from_slice(&p.index.to_be_bytes());
                            o.extend_from_slice(&p.centi_dbm.to_be_bytes());
                        });
                    }
                    tlv(o, kind::FREQUENCY_INFORMATION, |o| {
                        o.push(bit(r.hopping, 7));
                        for (id, freqs) in &r.hop_tables {
                            tlv(o, kind::FREQUENCY_HOP_TABLE, |o| {
                                o.push(*id);
                                o.push(0);
                                put_u32v(o, freqs);
                            });
                        }
                        if !r.fixed_frequencies.is_empty() {
                            tlv(o, kind::FIXED_FREQUENCY_TABLE, |o| {
                                put_u32v(o, &r.fixed_frequencies);
                            });
                        }
                    });
                    tlv(o, kind::C1G2_UHF_RF_MODE_TABLE, |o| {
                        for m in &r.modes {
                            tlv(o, kind::C1G2_UHF_RF_MODE_ENTRY, |o| {
                                o.extend_from_slice(&m.id.to_be_bytes());
                                o.push(bit(m.dr_64_3, 7) | bit(m.epc_hag_conformant, 6));
                                o.push(m.m);
                                o.push(m.forward_link_modulation);
                                o.push(m.spectral_mask);
                                for v in [m.bdr, m.pie, m.min_tari, m.max_tari, m.step_tari] {
                                    o.extend_from_slice(&v.to_be_bytes());
                                }
                            });
                        }
                    });
                });
            });
            // C1G2LLRPCapabilities: block write, two select filters per query.
            tlv(out, kind::C1G2_LLRP_CAPABILITIES, |o| {
                o.push(0x40);
                o.extend_from_slice(&2u16.to_be_bytes());
            });
        }
    }

    /// Reads the capabilities out of a response's parameters (after LLRPStatus).
    pub(crate) fn decode_param(&mut self, k: u16, body: &[u8]) -> Result<(), BodyError> {
        let mut c = Cursor::new(body);
        match k {
            kind::GENERAL_DEVICE_CAPABILITIES => {
                let max_antennas = c.u16("MaxNumberOfAntennaSupported")?;
                let flags = c.u16("GeneralDeviceCapabilities flags")?;
                let mut g = GeneralCapabilities {
                    max_antennas,
                    can_set_antenna_properties: flags >> 15 & 1 == 1,
                    has_utc_clock: flags >> 14 & 1 == 1,
                    manufacturer: c.u32("DeviceManufacturerName")?,
                    model: c.u32("ModelName")?,
                    firmware: c.utf8v("ReaderFirmwareVersion")?,
                    ..GeneralCapabilities::default()
                };
                for p in c.params() {
                    if let RawParam::Tlv { kind: k, body } = p? {
                        let mut c = Cursor::new(body);
                        match k {
                            kind::RECEIVE_SENSITIVITY_ENTRY => {
                                let index = c.u16("ReceiveSensitivityTableEntry")?;
                                let value = c.u16("ReceiveSensitivityTableEntry")? as i16;
                                g.receive_sensitivities.push((index, value));
                            }
                            kind::GPIO_CAPABILITIES => {
                                g.gpis = c.u16("GPIOCapabilities")?;
                                g.gpos = c.u16("GPIOCapabilities")?;
                            }
                            _ => {}
                        }
                    }
                }
                self.general = Some(g);
            }
            kind::LLRP_CAPABILITIES => {
                let flags = c.u8("LLRPCapabilities flags")?;
                self.llrp = Some(LlrpCapabilities {
                    can_do_rf_survey: flag(flags, 7),
                    can_report_buffer_fill_warning: flag(flags, 6),
                    supports_client_request_opspec: flag(flags, 5),
                    can_do_state_aware_singulation: flag(flags, 4),
                    supports_event_and_report_holding: flag(flags, 3),
                    max_priority_levels: c.u8("MaxNumPriorityLevelsSupported")?,
                    client_request_opspec_timeout: c.u16("ClientRequestOpSpecTimeout")?,
                    max_rospecs: c.u32("MaxNumROSpecs")?,
                    max_specs_per_rospec: c.u32("MaxNumSpecsPerROSpec")?,
                    max_inventory_specs_per_aispec: c
                        .u32("MaxNumInventoryParameterSpecsPerAISpec")?,
                    max_access_specs: c.u32("MaxNumAccessSpecs")?,
                    max_opspecs_per_access_spec: c.u32("MaxNumOpSpecsPerAccessSpec")?,
                });
            }
            kind::REGULATORY_CAPABILITIES => {
                let mut r = RegulatoryCapabilities {
                    country_code: c.u16("CountryCode")?,
                    communications_standard: c.u16("CommunicationsStandard")?,
                    ..RegulatoryCapabilities::default()
                };
                for p in c.params() {
                    if let RawParam::Tlv {
                        kind: kind::UHF_BAND_CAPABILITIES,
                        body,
                    } = p?
                    {
                        decode_uhf_band(&mut r, body)?;
                    }
                }
                self.regulatory = Some(r);
            }
            _ => {}
        }
        Ok(())
    }
}

fn put_u32v(out: &mut Vec<u8>, values: &[u32]) {
    let n = values.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&(n as u16).to_be_bytes());
    for v in &values[..n] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn u32v(c: &mut Cursor<'_>, what: &'static str) -> Result<Vec<u32>, BodyError> {
    let n = c.u16(what)? as usize;
    let bytes = c.take(n * 4, what)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn decode_uhf_band(r: &mut RegulatoryCapabilities, body: &[u8]) -> Result<(), BodyError> {
    for p in Params::new(body) {
        let RawParam::Tlv { kind: k, body } = p? else {
            continue;
        };
        let mut c = Cursor::new(body);
        match k {
            kind::TRANSMIT_POWER_LEVEL_ENTRY => {
                let index = c.u16("TransmitPowerLevelTableEntry")?;
                let centi_dbm = c.u16("TransmitPowerLevelTableEntry")? as i16;
                r.power_levels.push(PowerLevel { index, centi_dbm });
            }
            kind::FREQUENCY_INFORMATION => {
                r.hopping = flag(c.u8("FrequencyInformation")?, 7);
                for p in c.params() {
                    let RawParam::Tlv { kind: k, body } = p? else {
                        continue;
                    };
                    let mut c = Cursor::new(body);
                    match k {
                        kind::FREQUENCY_HOP_TABLE => {
                            let id = c.u8("FrequencyHopTable id")?;
                            c.u8("FrequencyHopTable reserved")?;
                            r.hop_tables.push((id, u32v(&mut c, "FrequencyHopTable")?));
                        }
                        kind::FIXED_FREQUENCY_TABLE => {
                            r.fixed_frequencies = u32v(&mut c, "FixedFrequencyTable")?;
                        }
                        _ => {}
                    }
                }
            }
            kind::C1G2_UHF_RF_MODE_TABLE => {
                for p in c.params() {
                    let RawParam::Tlv {
                        kind: kind::C1G2_UHF_RF_MODE_ENTRY,
                        body,
                    } = p?
                    else {
                        continue;
                    };
                    let mut c = Cursor::new(body);
                    let what = "C1G2UHFRFModeTableEntry";
                    let id = c.u32(what)?;
                    let flags = c.u8(what)?;
                    r.modes.push(RfMode {
                        id,
                        dr_64_3: flag(flags, 7),
                        epc_hag_conformant: flag(flags, 6),
                        m: c.u8(what)?,
                        forward_link_modulation: c.u8(what)?,
                        spectral_mask: c.u8(what)?,
                        bdr: c.u32(what)?,
                        pie: c.u32(what)?,
                        min_tari: c.u32(what)?,
                        max_tari: c.u32(what)?,
                        step_tari: c.u32(what)?,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// TagReportContentSelector: which optional fields a TagReportData carries (the ten enable
/// bits, most significant first, in the top of a `u16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContentSelector(pub u16);

impl ContentSelector {
    /// EnableROSpecID.
    pub const ROSPEC_ID: u16 = 1 << 15;
    /// EnableSpecIndex.
    pub const SPEC_INDEX: u16 = 1 << 14;
    /// EnableInventoryParameterSpecID.
    pub const INVENTORY_PARAMETER_SPEC_ID: u16 = 1 << 13;
    /// EnableAntennaID.
    pub const ANTENNA_ID: u16 = 1 << 12;
    /// EnableChannelIndex.
    pub const CHANNEL_INDEX: u16 = 1 << 11;
    /// EnablePeakRSSI.
    pub const PEAK_RSSI: u16 = 1 << 10;
    /// EnableFirstSeenTimestamp.
    pub const FIRST_SEEN: u16 = 1 << 9;
    /// EnableLastSeenTimestamp.
    pub const LAST_SEEN: u16 = 1 << 8;
    /// EnableTagSeenCount.
    pub const TAG_SEEN_COUNT: u16 = 1 << 7;
    /// EnableAccessSpecID.
    pub const ACCESS_SPEC_ID: u16 = 1 << 6;
    /// The bits that are flags (the low six are reserved).
    pub const MASK: u16 = 0xffc0;

    /// Whether `bit` is enabled.
    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

/// ROReportSpec: when reports are sent and what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportSpec {
    /// ROReportTrigger: 0 none, 1 upon N tags or end of AISpec, 2 upon N tags or end of
    /// ROSpec.
    pub trigger: u8,
    /// N (0: no tag limit).
    pub n: u16,
    /// TagReportContentSelector.
    pub content: ContentSelector,
    /// Vendor extensions (Impinj's ImpinjTagReportContentSelector).
    pub custom: Vec<CustomParam>,
}

impl ReportSpec {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::RO_REPORT_SPEC, |o| {
            o.push(self.trigger);
            o.extend_from_slice(&self.n.to_be_bytes());
            tlv(o, kind::TAG_REPORT_CONTENT_SELECTOR, |o| {
                o.extend_from_slice(&(self.content.0 & ContentSelector::MASK).to_be_bytes());
            });
            for c in &self.custom {
                c.encode(o);
            }
        });
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        let mut spec = ReportSpec {
            trigger: c.u8("ROReportTrigger")?,
            n: c.u16("ROReportSpec N")?,
            ..ReportSpec::default()
        };
        let mut selector = false;
        for p in c.params() {
            if let RawParam::Tlv { kind: k, body } = p? {
                match k {
                    kind::TAG_REPORT_CONTENT_SELECTOR => {
                        let bits = Cursor::new(body).u16("TagReportContentSelector")?;
                        spec.content = ContentSelector(bits & ContentSelector::MASK);
                        selector = true;
                    }
                    kind::CUSTOM => spec.custom.push(CustomParam::decode(body)?),
                    _ => {}
                }
            }
        }
        if !selector {
            return Err(BodyError::Missing(
                "TagReportContentSelector in ROReportSpec",
            ));
        }
        Ok(spec)
    }
}

/// What SET_READER_CONFIG sets (each part optional).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReaderConfigUpdate {
    /// ResetToFactoryDefault: the reader first drops its ROSpecs, AccessSpecs and settings.
    pub reset_to_factory: bool,
    /// ReaderEventNotificationSpec: (event type, enabled).
    pub events: Vec<(u16, bool)>,
    /// ROReportSpec.
    pub report: Option<ReportSpec>,
    /// KeepaliveSpec: the period in ms (0 = keepalives off).
    pub keepalive_ms: Option<u32>,
    /// EventsAndReports: HoldEventsAndReportsUponReconnect.
    pub hold_events_and_reports: Option<bool>,
    /// Vendor extensions.
    pub custom: Vec<CustomParam>,
}

/// EventNotificationState event types.
pub mod event_type {
    /// GPI_Event.
    pub const GPI: u16 = 1;
    /// ROSpec_Event.
    pub const ROSPEC: u16 = 2;
    /// Report_Buffer_Fill_Warning.
    pub const REPORT_BUFFER_FILL_WARNING: u16 = 3;
    /// Reader_Exception_Event.
    pub const READER_EXCEPTION: u16 = 4;
    /// Antenna_Event.
    pub const ANTENNA: u16 = 8;
}

impl ReaderConfigUpdate {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(bit(self.reset_to_factory, 7));
        if !self.events.is_empty() {
            tlv(out, kind::READER_EVENT_NOTIFICATION_SPEC, |o| {
                for &(event, on) in &self.events {
                    tlv(o, kind::EVENT_NOTIFICATION_STATE, |o| {
                        o.extend_from_slice(&event.to_be_bytes());
                        o.push(bit(on, 7));
                    });
                }
            });
        }
        if let Some(report) = &self.report {
            report.encode(out);
        }
        if let Some(ms) = self.keepalive_ms {
            tlv(out, kind::KEEPALIVE_SPEC, |o| {
                o.push(u8::from(ms > 0));
                o.extend_from_slice(&ms.to_be_bytes());
            });
        }
        if let Some(hold) = self.hold_events_and_reports {
            tlv(out, kind::EVENTS_AND_REPORTS, |o| o.push(bit(hold, 7)));
        }
        for c in &self.custom {
            c.encode(out);
        }
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        let mut update = ReaderConfigUpdate {
            reset_to_factory: flag(c.u8("ResetToFactoryDefault")?, 7),
            ..ReaderConfigUpdate::default()
        };
        for p in c.params() {
            let RawParam::Tlv { kind: k, body } = p? else {
                continue;
            };
            let mut c = Cursor::new(body);
            match k {
                kind::READER_EVENT_NOTIFICATION_SPEC => {
                    for p in c.params() {
                        if let RawParam::Tlv {
                            kind: kind::EVENT_NOTIFICATION_STATE,
                            body,
                        } = p?
                        {
                            let mut c = Cursor::new(body);
                            let event = c.u16("EventNotificationState type")?;
                            let on = flag(c.u8("EventNotificationState state")?, 7);
                            update.events.push((event, on));
                        }
                    }
                }
                kind::RO_REPORT_SPEC => update.report = Some(ReportSpec::decode(body)?),
                kind::KEEPALIVE_SPEC => {
                    let trigger = c.u8("KeepaliveTriggerType")?;
                    let ms = c.u32("KeepaliveSpec period")?;
                    update.keepalive_ms = Some(if trigger == 1 { ms } else { 0 });
                }
                kind::EVENTS_AND_REPORTS => {
                    update.hold_events_and_reports = Some(flag(c.u8("EventsAndReports")?, 7));
                }
                kind::CUSTOM => update.custom.push(CustomParam::decode(body)?),
                _ => {}
            }
        }
        Ok(update)
    }
}

/// C1G2SingulationControl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Singulation {
    /// Gen2 session 0..=3.
    pub session: u8,
    /// Expected tag population.
    pub population: u16,
    /// TagTransitTime, ms.
    pub transit_ms: u32,
}

/// C1G2InventoryCommand inside an AntennaConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gen2Inventory {
    /// TagInventoryStateAware.
    pub state_aware: bool,
    /// C1G2RFControl: (ModeIndex = the mode table's ModeIdentifier, Tari in ns; 0 = the
    /// mode's).
    pub rf_control: Option<(u16, u16)>,
    /// C1G2SingulationControl.
    pub singulation: Option<Singulation>,
    /// Vendor extensions (Impinj's ImpinjInventorySearchMode).
    pub custom: Vec<CustomParam>,
}

/// RFTransmitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transmitter {
    /// HopTableID.
    pub hop_table: u16,
    /// ChannelIndex.
    pub channel_index: u16,
    /// TransmitPower: an index into the power table.
    pub power_index: u16,
}

/// AntennaConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AntennaConfig {
    /// AntennaID (0 = all).
    pub antenna: u16,
    /// RFTransmitter.
    pub transmitter: Option<Transmitter>,
    /// C1G2InventoryCommand.
    pub inventory: Option<Gen2Inventory>,
}

/// InventoryParameterSpec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InventorySpec {
    /// InventoryParameterSpecID.
    pub id: u16,
    /// ProtocolID (1 = EPC Gen2).
    pub protocol: u8,
    /// AntennaConfiguration list.
    pub antennas: Vec<AntennaConfig>,
}

/// AISpec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AiSpec {
    /// AntennaIDs (0 = all).
    pub antennas: Vec<u16>,
    /// AISpecStopTrigger type: 0 null, 1 duration, 2 GPI with timeout, 3 tag observation.
    pub stop_trigger: u8,
    /// DurationTrigger, ms.
    pub stop_duration_ms: u32,
    /// InventoryParameterSpecs.
    pub inventory: Vec<InventorySpec>,
}

/// ROSpec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoSpec {
    /// ROSpecID (not 0).
    pub id: u32,
    /// Priority, 0 highest.
    pub priority: u8,
    /// CurrentState: 0 disabled (what ADD_ROSPEC must carry), 1 inactive, 2 active.
    pub current_state: u8,
    /// ROSpecStartTrigger type: 0 null (START_ROSPEC starts it), 1 immediate, 2 periodic,
    /// 3 GPI.
    pub start_trigger: u8,
    /// ROSpecStopTrigger type: 0 null, 1 duration, 2 GPI with timeout.
    pub stop_trigger: u8,
    /// DurationTriggerValue, ms.
    pub stop_duration_ms: u32,
    /// AISpecs.
    pub ai_specs: Vec<AiSpec>,
    /// ROReportSpec.
    pub report: Option<ReportSpec>,
}

impl RoSpec {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::ROSPEC, |o| {
            o.extend_from_slice(&self.id.to_be_bytes());
            o.push(self.priority);
            o.push(self.current_state);
            tlv(o, kind::RO_BOUNDARY_SPEC, |o| {
                tlv(o, kind::ROSPEC_START_TRIGGER, |o| {
                    o.push(self.start_trigger)
                });
                tlv(o, kind::ROSPEC_STOP_TRIGGER, |o| {
                    o.push(self.stop_trigger);
                    o.extend_from_slice(&self.stop_duration_ms.to_be_bytes());
                });
            });
            for ai in &self.ai_specs {
                ai.encode(o);
            }
            if let Some(report) = &self.report {
                report.encode(o);
            }
        });
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        let mut spec = RoSpec {
            id: c.u32("ROSpecID")?,
            priority: c.u8("ROSpec Priority")?,
            current_state: c.u8("ROSpec CurrentState")?,
            ..RoSpec::default()
        };
        let mut boundary = false;
        for p in c.params() {
            let RawParam::Tlv { kind: k, body } = p? else {
                continue;
            };
            match k {
                kind::RO_BOUNDARY_SPEC => {
                    boundary = true;
                    for p in Params::new(body) {
                        let RawParam::Tlv { kind: k, body } = p? else {
                            continue;
                        };
                        let mut c = Cursor::new(body);
                        match k {
                            kind::ROSPEC_START_TRIGGER => {
                                spec.start_trigger = c.u8("ROSpecStartTriggerType")?;
                            }
                            kind::ROSPEC_STOP_TRIGGER => {
                                spec.stop_trigger = c.u8("ROSpecStopTriggerType")?;
                                spec.stop_duration_ms = c.u32("ROSpecStopTrigger duration")?;
                            }
                            _ => {}
                        }
                    }
                }
                kind::AISPEC => spec.ai_specs.push(AiSpec::decode(body)?),
                kind::RO_REPORT_SPEC => spec.report = Some(ReportSpec::decode(body)?),
                _ => {}
            }
        }
        if !boundary {
            return Err(BodyError::Missing("ROBoundarySpec in ROSpec"));
        }
        Ok(spec)
    }
}

impl AiSpec {
    fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::AISPEC, |o| {
            let n = self.antennas.len().min(1000);
            o.extend_from_slice(&(n as u16).to_be_bytes());
            for a in &self.antennas[..n] {
                o.extend_from_slice(&a.to_be_bytes());
            }
            tlv(o, kind::AISPEC_STOP_TRIGGER, |o| {
                o.push(self.stop_trigger);
                o.extend_from_slice(&self.stop_duration_ms.to_be_bytes());
            });
            for inv in &self.inventory {
                tlv(o, kind::INVENTORY_PARAMETER_SPEC, |o| {
                    o.extend_from_slice(&inv.id.to_be_bytes());
                    o.push(inv.protocol);
                    for a in &inv.antennas {
                        a.encode(o);
                    }
                });
            }
        });
    }

    fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        let n = c.u16("AISpec antenna count")? as usize;
        let ids = c.take(n * 2, "AISpec AntennaIDs")?;
        let mut spec = AiSpec {
            antennas: ids
                .chunks_exact(2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .collect(),
            ..AiSpec::default()
        };
        for p in c.params() {
            let RawParam::Tlv { kind: k, body } = p? else {
                continue;
            };
            let mut c = Cursor::new(body);
            match k {
                kind::AISPEC_STOP_TRIGGER => {
                    spec.stop_trigger = c.u8("AISpecStopTriggerType")?;
                    spec.stop_duration_ms = c.u32("AISpecStopTrigger duration")?;
                }
                kind::INVENTORY_PARAMETER_SPEC => {
                    let mut inv = InventorySpec {
                        id: c.u16("InventoryParameterSpecID")?,
                        protocol: c.u8("InventoryParameterSpec ProtocolID")?,
                        antennas: Vec::new(),
                    };
                    for p in c.params() {
                        if let RawParam::Tlv {
                            kind: kind::ANTENNA_CONFIGURATION,
                            body,
                        } = p?
                        {
                            inv.antennas.push(AntennaConfig::decode(body)?);
                        }
                    }
                    spec.inventory.push(inv);
                }
                _ => {}
            }
        }
        Ok(spec)
    }
}

impl AntennaConfig {
    fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::ANTENNA_CONFIGURATION, |o| {
            o.extend_from_slice(&self.antenna.to_be_bytes());
            if let Some(t) = self.transmitter {
                tlv(o, kind::RF_TRANSMITTER, |o| {
                    o.extend_from_slice(&t.hop_table.to_be_bytes());
                    o.extend_from_slice(&t.channel_index.to_be_bytes());
                    o.extend_from_slice(&t.power_index.to_be_bytes());
                });
            }
            if let Some(inv) = &self.inventory {
                tlv(o, kind::C1G2_INVENTORY_COMMAND, |o| {
                    o.push(bit(inv.state_aware, 7));
                    if let Some((mode, tari)) = inv.rf_control {
                        tlv(o, kind::C1G2_RF_CONTROL, |o| {
                            o.extend_from_slice(&mode.to_be_bytes());
                            o.extend_from_slice(&tari.to_be_bytes());
                        });
                    }
                    if let Some(s) = inv.singulation {
                        tlv(o, kind::C1G2_SINGULATION_CONTROL, |o| {
                            o.push((s.session & 0x3) << 6);
                            o.extend_from_slice(&s.population.to_be_bytes());
                            o.extend_from_slice(&s.transit_ms.to_be_bytes());
                        });
                    }
                    for c in &inv.custom {
                        c.encode(o);
                    }
                });
            }
        });
    }

    fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut c = Cursor::new(body);
        let mut config = AntennaConfig {
            antenna: c.u16("AntennaConfiguration AntennaID")?,
            ..AntennaConfig::default()
        };
        for p in c.params() {
            let RawParam::Tlv { kind: k, body } = p? else {
                continue;
            };
            let mut c = Cursor::new(body);
            match k {
                kind::RF_TRANSMITTER => {
                    config.transmitter = Some(Transmitter {
                        hop_table: c.u16("RFTransmitter HopTableID")?,
                        channel_index: c.u16("RFTransmitter ChannelIndex")?,
                        power_index: c.u16("RFTransmitter TransmitPower")?,
                    });
                }
                kind::C1G2_INVENTORY_COMMAND => {
                    let mut inv = Gen2Inventory {
                        state_aware: flag(c.u8("C1G2InventoryCommand")?, 7),
                        ..Gen2Inventory::default()
                    };
                    for p in c.params() {
                        let RawParam::Tlv { kind: k, body } = p? else {
                            continue;
                        };
                        let mut c = Cursor::new(body);
                        match k {
                            kind::C1G2_RF_CONTROL => {
                                inv.rf_control = Some((
                                    c.u16("C1G2RFControl ModeIndex")?,
                                    c.u16("C1G2RFControl Tari")?,
                                ));
                            }
                            kind::C1G2_SINGULATION_CONTROL => {
                                inv.singulation = Some(Singulation {
                                    session: c.u8("C1G2SingulationControl Session")? >> 6,
                                    population: c.u16("C1G2SingulationControl TagPopulation")?,
                                    transit_ms: c.u32("C1G2SingulationControl TagTransitTime")?,
                                });
                            }
                            kind::CUSTOM => inv.custom.push(CustomParam::decode(body)?),
                            _ => {}
                        }
                    }
                    config.inventory = Some(inv);
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

/// One TagReportData: a tag observation with the fields the content selector enabled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagData {
    /// EPC bytes (EPC_96 or EPCData).
    pub epc: Vec<u8>,
    /// ROSpecID.
    pub rospec_id: Option<u32>,
    /// SpecIndex.
    pub spec_index: Option<u16>,
    /// InventoryParameterSpecID.
    pub inventory_parameter_spec_id: Option<u16>,
    /// AntennaID.
    pub antenna: Option<u16>,
    /// PeakRSSI, dBm.
    pub peak_rssi: Option<i8>,
    /// ChannelIndex.
    pub channel_index: Option<u16>,
    /// FirstSeenTimestampUTC, µs since the Unix epoch (reader clock).
    pub first_seen_utc: Option<u64>,
    /// FirstSeenTimestampUptime, µs since reader start.
    pub first_seen_uptime: Option<u64>,
    /// LastSeenTimestampUTC.
    pub last_seen_utc: Option<u64>,
    /// LastSeenTimestampUptime.
    pub last_seen_uptime: Option<u64>,
    /// TagSeenCount.
    pub tag_seen_count: Option<u16>,
    /// C1G2_PC.
    pub pc: Option<u16>,
    /// C1G2_CRC.
    pub crc: Option<u16>,
    /// AccessSpecID.
    pub access_spec_id: Option<u32>,
    /// Vendor extensions (Impinj's ImpinjPeakRSSI, phase angle, …).
    pub custom: Vec<CustomParam>,
}

fn be16(v: &[u8]) -> u16 {
    u16::from_be_bytes([v[0], v[1]])
}

fn be32(v: &[u8]) -> u32 {
    u32::from_be_bytes([v[0], v[1], v[2], v[3]])
}

fn be64(v: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&v[..8]);
    u64::from_be_bytes(a)
}

impl TagData {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::TAG_REPORT_DATA, |o| {
            if self.epc.len() == 12 {
                tv(o, kind::EPC_96, &self.epc);
            } else {
                tlv(o, kind::EPC_DATA, |o| {
                    let bits = (self.epc.len() * 8).min(usize::from(u16::MAX) & !7);
                    o.extend_from_slice(&(bits as u16).to_be_bytes());
                    o.extend_from_slice(&self.epc[..bits / 8]);
                });
            }
            let opt16 = |o: &mut Vec<u8>, k, v: Option<u16>| {
                if let Some(v) = v {
                    tv(o, k, &v.to_be_bytes());
                }
            };
            let opt64 = |o: &mut Vec<u8>, k, v: Option<u64>| {
                if let Some(v) = v {
                    tv(o, k, &v.to_be_bytes());
                }
            };
            if let Some(v) = self.rospec_id {
                tv(o, kind::ROSPEC_ID, &v.to_be_bytes());
            }
            opt16(o, kind::SPEC_INDEX, self.spec_index);
            opt16(
                o,
                kind::INVENTORY_PARAMETER_SPEC_ID,
                self.inventory_parameter_spec_id,
            );
            opt16(o, kind::ANTENNA_ID, self.antenna);
            if let Some(v) = self.peak_rssi {
                tv(o, kind::PEAK_RSSI, &v.to_be_bytes());
            }
            opt16(o, kind::CHANNEL_INDEX, self.channel_index);
            opt64(o, kind::FIRST_SEEN_UTC, self.first_seen_utc);
            opt64(o, kind::FIRST_SEEN_UPTIME, self.first_seen_uptime);
            opt64(o, kind::LAST_SEEN_UTC, self.last_seen_utc);
            opt64(o, kind::LAST_SEEN_UPTIME, self.last_seen_uptime);
            opt16(o, kind::TAG_SEEN_COUNT, self.tag_seen_count);
            opt16(o, kind::C1G2_PC, self.pc);
            opt16(o, kind::C1G2_CRC, self.crc);
            if let Some(v) = self.access_spec_id {
                tv(o, kind::ACCESS_SPEC_ID, &v.to_be_bytes());
            }
            for c in &self.custom {
                c.encode(o);
            }
        });
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut tag = TagData::default();
        let mut epc = false;
        for p in Params::new(body) {
            match p? {
                RawParam::Tv { kind: k, value } => match k {
                    kind::EPC_96 => {
                        tag.epc = value.to_vec();
                        epc = true;
                    }
                    kind::ROSPEC_ID => tag.rospec_id = Some(be32(value)),
                    kind::SPEC_INDEX => tag.spec_index = Some(be16(value)),
                    kind::INVENTORY_PARAMETER_SPEC_ID => {
                        tag.inventory_parameter_spec_id = Some(be16(value));
                    }
                    kind::ANTENNA_ID => tag.antenna = Some(be16(value)),
                    kind::PEAK_RSSI => tag.peak_rssi = Some(value[0] as i8),
                    kind::CHANNEL_INDEX => tag.channel_index = Some(be16(value)),
                    kind::FIRST_SEEN_UTC => tag.first_seen_utc = Some(be64(value)),
                    kind::FIRST_SEEN_UPTIME => tag.first_seen_uptime = Some(be64(value)),
                    kind::LAST_SEEN_UTC => tag.last_seen_utc = Some(be64(value)),
                    kind::LAST_SEEN_UPTIME => tag.last_seen_uptime = Some(be64(value)),
                    kind::TAG_SEEN_COUNT => tag.tag_seen_count = Some(be16(value)),
                    kind::C1G2_PC => tag.pc = Some(be16(value)),
                    kind::C1G2_CRC => tag.crc = Some(be16(value)),
                    kind::ACCESS_SPEC_ID => tag.access_spec_id = Some(be32(value)),
                    _ => {}
                },
                RawParam::Tlv { kind: k, body } => match k {
                    kind::EPC_DATA => {
                        let mut c = Cursor::new(body);
                        let bits = c.u16("EPCData bit count")? as usize;
                        tag.epc = c.take(bits.div_ceil(8), "EPCData")?.to_vec();
                        epc = true;
                    }
                    kind::CUSTOM => tag.custom.push(CustomParam::decode(body)?),
                    _ => {}
                },
            }
        }
        if !epc {
            return Err(BodyError::Missing("EPC_96 or EPCData in TagReportData"));
        }
        Ok(tag)
    }
}

/// A reader timestamp: UTC (µs since the Unix epoch) or uptime (µs since the reader started).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    /// UTCTimestamp.
    Utc(u64),
    /// Uptime.
    Uptime(u64),
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::Utc(0)
    }
}

/// ROSpecEvent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoSpecEvent {
    /// 0 start, 1 end, 2 preempted.
    pub event: u8,
    /// ROSpecID.
    pub rospec_id: u32,
    /// PreemptingROSpecID.
    pub preempting_rospec_id: u32,
}

/// ReaderEventNotificationData: a timestamp and the events it reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReaderEvent {
    /// When (reader clock).
    pub timestamp: Timestamp,
    /// ConnectionAttemptEvent status ([`connection`]).
    pub connection_attempt: Option<u16>,
    /// ConnectionCloseEvent: the reader is closing the connection.
    pub connection_close: bool,
    /// ROSpecEvent.
    pub rospec: Option<RoSpecEvent>,
    /// ReportBufferLevelWarningEvent: percentage full.
    pub buffer_warning: Option<u8>,
    /// ReportBufferOverflowErrorEvent.
    pub buffer_overflow: bool,
    /// ReaderExceptionEvent: the message.
    pub exception: Option<String>,
    /// AntennaEvent: (0 disconnected / 1 connected, antenna).
    pub antenna: Option<(u8, u16)>,
}

impl ReaderEvent {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        tlv(out, kind::READER_EVENT_NOTIFICATION_DATA, |o| {
            match self.timestamp {
                Timestamp::Utc(us) => tlv(o, kind::UTC_TIMESTAMP, |o| {
                    o.extend_from_slice(&us.to_be_bytes());
                }),
                Timestamp::Uptime(us) => tlv(o, kind::UPTIME, |o| {
                    o.extend_from_slice(&us.to_be_bytes());
                }),
            }
            if let Some(e) = self.rospec {
                tlv(o, kind::ROSPEC_EVENT, |o| {
                    o.push(e.event);
                    o.extend_from_slice(&e.rospec_id.to_be_bytes());
                    o.extend_from_slice(&e.preempting_rospec_id.to_be_bytes());
                });
            }
            if let Some(p) = self.buffer_warning {
                tlv(o, kind::REPORT_BUFFER_LEVEL_WARNING, |o| o.push(p));
            }
            if self.buffer_overflow {
                tlv(o, kind::REPORT_BUFFER_OVERFLOW, |_| {});
            }
            if let Some(message) = &self.exception {
                tlv(o, kind::READER_EXCEPTION_EVENT, |o| put_utf8v(o, message));
            }
            if let Some((event, antenna)) = self.antenna {
                tlv(o, kind::ANTENNA_EVENT, |o| {
                    o.push(event);
                    o.extend_from_slice(&antenna.to_be_bytes());
                });
            }
            if let Some(status) = self.connection_attempt {
                tlv(o, kind::CONNECTION_ATTEMPT_EVENT, |o| {
                    o.extend_from_slice(&status.to_be_bytes());
                });
            }
            if self.connection_close {
                tlv(o, kind::CONNECTION_CLOSE_EVENT, |_| {});
            }
        });
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut event = ReaderEvent::default();
        let mut stamped = false;
        for p in Params::new(body) {
            let RawParam::Tlv { kind: k, body } = p? else {
                continue;
            };
            let mut c = Cursor::new(body);
            match k {
                kind::UTC_TIMESTAMP => {
                    event.timestamp = Timestamp::Utc(c.u64("UTCTimestamp")?);
                    stamped = true;
                }
                kind::UPTIME => {
                    event.timestamp = Timestamp::Uptime(c.u64("Uptime")?);
                    stamped = true;
                }
                kind::ROSPEC_EVENT => {
                    event.rospec = Some(RoSpecEvent {
                        event: c.u8("ROSpecEvent type")?,
                        rospec_id: c.u32("ROSpecEvent ROSpecID")?,
                        preempting_rospec_id: c.u32("ROSpecEvent PreemptingROSpecID")?,
                    });
                }
                kind::REPORT_BUFFER_LEVEL_WARNING => {
                    event.buffer_warning = Some(c.u8("ReportBufferLevelWarningEvent")?);
                }
                kind::REPORT_BUFFER_OVERFLOW => event.buffer_overflow = true,
                kind::READER_EXCEPTION_EVENT => {
                    event.exception = Some(c.utf8v("ReaderExceptionEvent message")?);
                }
                kind::ANTENNA_EVENT => {
                    event.antenna = Some((c.u8("AntennaEvent type")?, c.u16("AntennaEvent id")?));
                }
                kind::CONNECTION_ATTEMPT_EVENT => {
                    event.connection_attempt = Some(c.u16("ConnectionAttemptEvent status")?);
                }
                kind::CONNECTION_CLOSE_EVENT => event.connection_close = true,
                _ => {}
            }
        }
        if !stamped {
            return Err(BodyError::Missing(
                "UTCTimestamp or Uptime in ReaderEventNotificationData",
            ));
        }
        Ok(event)
    }
}
