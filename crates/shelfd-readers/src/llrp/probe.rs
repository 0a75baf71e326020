//! `shelfd llrp probe`: what an installer runs before writing the config. Connects to a reader
//! once (no retries), runs the client session with every antenna for a short while, and
//! reports the reader's identity, capabilities (antennas, power table, Gen2 mode table) and
//! what it read (EPC, antenna, RSSI; reads per second per antenna), then stops the inventory
//! and closes the connection with CLOSE_CONNECTION. Owns one connection; never retries and
//! never writes anything but the session's own messages.

use super::client::{LlrpSession, LlrpSettings, vendor_name};
use super::codec::MessageStream;
use super::message::{Message, Reply};
use super::params::Capabilities;
use crate::frame::to_hex;
use crate::link::{LinkContext, ReaderHealth, Session, SessionEnd};
use serde::Serialize;
use shelfd_core::readlog::{LinkState, Record};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Why a probe failed (the reason names the address and what happened).
#[derive(Debug, thiserror::Error)]
#[error("probe of {address}: {reason}")]
pub struct ProbeError {
    /// `host:port`.
    pub address: String,
    /// What went wrong.
    pub reason: String,
}

/// One Gen2 mode of the reader's table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeMode {
    /// ModeIdentifier (what `rf_mode` names).
    pub id: u32,
    /// Miller value: 1 (FM0), 2, 4 or 8.
    pub miller: u8,
    /// Backscatter data rate, kbps.
    pub bdr_kbps: f64,
    /// Tari range, µs.
    pub tari_us: (f64, f64),
}

/// What one EPC did during the probe.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeTag {
    /// EPC, hex.
    pub epc: String,
    /// Antenna of its strongest read.
    pub antenna: u16,
    /// Reads.
    pub reads: u64,
    /// Strongest RSSI, dBm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rssi_max_dbm: Option<f32>,
}

/// Reads of one antenna.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeAntenna {
    /// Antenna.
    pub antenna: u16,
    /// Reads.
    pub reads: u64,
    /// Distinct EPCs.
    pub tags: u64,
    /// Reads per second over the inventory time.
    pub reads_per_second: f64,
}

/// Everything the probe learnt.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeReport {
    /// `host:port`.
    pub address: String,
    /// Vendor name (`impinj`, `zebra`, `pen-N`).
    pub vendor: String,
    /// Vendor PEN.
    pub manufacturer: u32,
    /// Model number.
    pub model: u32,
    /// Firmware version.
    pub firmware: String,
    /// Antenna ports.
    pub antennas: u16,
    /// The reader has a UTC clock.
    pub has_utc_clock: bool,
    /// It holds reports while no client is connected.
    pub holds_reports: bool,
    /// MaxNumROSpecs.
    pub max_rospecs: u32,
    /// MaxNumInventoryParameterSpecsPerAISpec.
    pub max_inventory_specs_per_aispec: u32,
    /// Country code of the regulatory capabilities.
    pub country_code: u16,
    /// The power table, dBm, in index order.
    pub power_table_dbm: Vec<f64>,
    /// The Gen2 mode table.
    pub modes: Vec<ProbeMode>,
    /// Seconds the inventory ran.
    pub seconds: f64,
    /// Reads per antenna.
    pub per_antenna: Vec<ProbeAntenna>,
    /// Every EPC read.
    pub tags: Vec<ProbeTag>,
}

impl ProbeReport {
    fn from_caps(address: &str, caps: &Capabilities) -> Self {
        let g = caps.general.clone().unwrap_or_default();
        let l = caps.llrp.clone().unwrap_or_default();
        let r = caps.regulatory.clone().unwrap_or_default();
        let mut levels = r.power_levels.clone();
        levels.sort_by_key(|p| p.index);
        ProbeReport {
            address: address.to_owned(),
            vendor: vendor_name(g.manufacturer),
            manufacturer: g.manufacturer,
            model: g.model,
            firmware: g.firmware,
            antennas: g.max_antennas,
            has_utc_clock: g.has_utc_clock,
            holds_reports: l.supports_event_and_report_holding,
            max_rospecs: l.max_rospecs,
            max_inventory_specs_per_aispec: l.max_inventory_specs_per_aispec,
            country_code: r.country_code,
            power_table_dbm: levels
                .iter()
                .map(|p| f64::from(p.centi_dbm) / 100.0)
                .collect(),
            modes: r
                .modes
                .iter()
                .map(|m| ProbeMode {
                    id: m.id,
                    miller: 1 << m.m.min(3),
                    bdr_kbps: f64::from(m.bdr) / 1000.0,
                    tari_us: (
                        f64::from(m.min_tari) / 1000.0,
                        f64::from(m.max_tari) / 1000.0,
                    ),
                })
                .collect(),
            seconds: 0.0,
            per_antenna: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// The report as text for a terminal.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "reader      {}", self.address);
        let _ = writeln!(
            o,
            "identity    {} (PEN {}), model {}, firmware {}",
            self.vendor, self.manufacturer, self.model, self.firmware
        );
        let _ = writeln!(
            o,
            "antennas    {} ports; UTC clock: {}; holds reports while disconnected: {}",
            self.antennas, self.has_utc_clock, self.holds_reports
        );
        let _ = writeln!(
            o,
            "limits      {} ROSpec(s), {} InventoryParameterSpec per AISpec; country {}",
            self.max_rospecs, self.max_inventory_specs_per_aispec, self.country_code
        );
        match (self.power_table_dbm.first(), self.power_table_dbm.last()) {
            (Some(lo), Some(hi)) => {
                let _ = writeln!(
                    o,
                    "power       {lo:.2}..={hi:.2} dBm in {} steps (power_dbm, antenna_power_dbm)",
                    self.power_table_dbm.len()
                );
            }
            _ => {
                let _ = writeln!(o, "power       no power table");
            }
        }
        let _ = writeln!(o, "modes       (rf_mode = id)");
        for m in &self.modes {
            let _ = writeln!(
                o,
                "  {:>6}  M={} BLF/BDR {:.1} kbps, Tari {:.2}..{:.2} µs",
                m.id, m.miller, m.bdr_kbps, m.tari_us.0, m.tari_us.1
            );
        }
        let _ = writeln!(o, "inventory   {:.1} s on every antenna", self.seconds);
        for a in &self.per_antenna {
            let _ = writeln!(
                o,
                "  antenna {:>3}: {} reads, {} tags, {:.1} reads/s",
                a.antenna, a.reads, a.tags, a.reads_per_second
            );
        }
        for t in &self.tags {
            let rssi = t
                .rssi_max_dbm
                .map(|r| format!("{r:.2} dBm"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                o,
                "  {}  antenna {}  {} reads  {rssi}",
                t.epc, t.antenna, t.reads
            );
        }
        o
    }
}

/// Probes the reader at `address` (`host[:port]`, port 5084 by default), reading for
/// `duration` once the inventory runs.
pub async fn probe(address: &str, duration: Duration) -> Result<ProbeReport, ProbeError> {
    let address = if address.contains(':') && !address.ends_with(']') {
        address.to_owned()
    } else {
        format!("{address}:{}", super::DEFAULT_PORT)
    };
    let fail = |reason: String| ProbeError {
        address: address.clone(),
        reason,
    };
    let mut stream =
        match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(address.as_str()))
            .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(fail(format!("cannot connect: {e}"))),
            Err(_) => return Err(fail("no connection within 5s".into())),
        };
    let _ = stream.set_nodelay(true);
    let mut settings = LlrpSettings::new("probe", address.clone(), Vec::new());
    settings.keepalive = Duration::from_secs(5);
    let mut session = LlrpSession::new(settings);
    let (tx, mut rx) = mpsc::channel::<Record>(4096);
    let cancel = CancellationToken::new();
    let mut ctx = LinkContext::new(
        "probe",
        tx,
        Arc::new(ReaderHealth::new("probe")),
        cancel.clone(),
    );
    let stop = cancel.clone();
    let collector = tokio::spawn(async move {
        let mut up: Option<Instant> = None;
        let mut reads: BTreeMap<(Vec<u8>, u16), (u64, Option<f32>)> = BTreeMap::new();
        loop {
            let deadline = up.map(|t| t + duration);
            tokio::select! {
                record = rx.recv() => match record {
                    None => break,
                    Some(Record::Link { link: LinkState::Up, .. }) => up = Some(Instant::now()),
                    Some(Record::Read(read)) if up.is_some() => {
                        let e = reads.entry((read.epc, read.antenna)).or_insert((0, None));
                        e.0 += 1;
                        e.1 = match (e.1, read.rssi) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    Some(_) => {}
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))), if deadline.is_some() => {
                    stop.cancel();
                }
            }
        }
        (up.map(|t| t.elapsed()), reads)
    });
    let end = session.run(&mut stream, &mut ctx).await;
    drop(ctx);
    let (ran, reads) = collector
        .await
        .map_err(|e| fail(format!("collector failed: {e}")))?;
    if end != SessionEnd::Cancelled {
        let why = match end {
            SessionEnd::Disconnected(why) => why,
            other => format!("{other:?}"),
        };
        return Err(fail(why));
    }
    // Stop the inventory and say goodbye; wait briefly for CLOSE_CONNECTION_RESPONSE.
    for bytes in <LlrpSession as Session<TcpStream>>::shutdown_commands(&mut session) {
        let _ = stream.write_all(&bytes).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let mut s = MessageStream::new(1 << 20);
        let mut buf = vec![0u8; 8192];
        loop {
            while let Some(Ok((_, raw))) = s.next_message() {
                if let Ok(Message::Status {
                    reply: Reply::CloseConnection,
                    ..
                }) = Message::decode(&raw)
                {
                    return;
                }
            }
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 => s.feed(&buf[..n]),
                _ => return,
            }
        }
    })
    .await;
    let caps = session
        .capabilities()
        .ok_or_else(|| fail("no capabilities received".into()))?;
    let mut report = ProbeReport::from_caps(&address, caps);
    let seconds = ran.map(|d| d.as_secs_f64()).unwrap_or(0.0).max(1e-3);
    report.seconds = seconds;
    let mut per: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
    let mut best: BTreeMap<Vec<u8>, ProbeTag> = BTreeMap::new();
    for ((epc, antenna), (n, rssi)) in reads {
        let a = per.entry(antenna).or_default();
        a.0 += n;
        a.1 += 1;
        let tag = best.entry(epc.clone()).or_insert(ProbeTag {
            epc: to_hex(&epc),
            antenna,
            reads: 0,
            rssi_max_dbm: None,
        });
        tag.reads += n;
        if rssi > tag.rssi_max_dbm {
            tag.rssi_max_dbm = rssi;
            tag.antenna = antenna;
        }
    }
    report.per_antenna = per
        .into_iter()
        .map(|(antenna, (reads, tags))| ProbeAntenna {
            antenna,
            reads,
            tags,
            reads_per_second: reads as f64 / seconds,
        })
        .collect();
    report.tags = best.into_values().collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::TagReport;
    use crate::llrp::simulator::{SimReaderConfig, Vendor, spawn_llrp_simulator};

    #[tokio::test]
    async fn probe_reports_identity_tables_and_reads_then_closes() {
        let sim = spawn_llrp_simulator(
            SimReaderConfig::new(Vendor::Impinj),
            0,
            CancellationToken::new(),
        )
        .await
        .expect("listener");
        let rounds = sim.rounds();
        let feeder = tokio::spawn(async move {
            loop {
                let tags = vec![
                    TagReport {
                        antenna: 3,
                        epc: vec![0x30, 1, 2, 3],
                        rssi_dbm: Some(-48.5),
                        ..TagReport::default()
                    },
                    TagReport {
                        antenna: 1,
                        epc: vec![0x30, 1, 2, 4],
                        rssi_dbm: Some(-60.0),
                        ..TagReport::default()
                    },
                ];
                if rounds.send_round(tags).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let report = probe(&sim.address().to_string(), Duration::from_millis(600))
            .await
            .expect("probe");
        feeder.abort();
        assert_eq!((report.vendor.as_str(), report.antennas), ("impinj", 4));
        assert_eq!(report.power_table_dbm.len(), 81);
        assert_eq!(report.power_table_dbm.first(), Some(&10.0));
        assert!(report.modes.iter().any(|m| m.id == 1002));
        let antennas: Vec<u16> = report.per_antenna.iter().map(|a| a.antenna).collect();
        assert_eq!(antennas, [1, 3], "every antenna is inventoried");
        assert!(
            report
                .per_antenna
                .iter()
                .all(|a| a.reads > 0 && a.reads_per_second > 0.0)
        );
        let tag = report
            .tags
            .iter()
            .find(|t| t.epc == "30010203")
            .expect("tag");
        assert_eq!((tag.antenna, tag.rssi_max_dbm), (3, Some(-48.5)));
        let text = report.render_text();
        assert!(text.contains("10.00..=30.00 dBm in 81 steps"), "{text}");
        crate::llrp::session_tests::wait_for("CLOSE_CONNECTION", || {
            sim.stats()
                .closes
                .load(std::sync::atomic::Ordering::Relaxed)
                == 1
        })
        .await;
    }

    #[tokio::test]
    async fn a_refused_probe_says_why() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        drop(listener);
        let err = probe(&address, Duration::from_millis(100))
            .await
            .expect_err("nothing listens");
        assert!(
            err.to_string()
                .starts_with(&format!("probe of {address}: cannot connect")),
            "{err}"
        );
    }
}
