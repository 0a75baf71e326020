//! Turns the gateways' MQTT messages into the inventory, exactly once and in seq order.
//!
//! Per gateway central keeps `last_seq`, the last event applied. In one transaction with each
//! batch of messages:
//! - an event with `seq <= last_seq` is a duplicate (a re-send after a reconnect, a broker
//!   redelivery after central's crash): counted, never applied twice;
//! - the event `last_seq + 1` is applied (stock, sales, EPC history, alerts) and `last_seq`
//!   moves with it, then any parked successors are applied too;
//! - an event beyond it is parked in `pending` (with several central instances on a shared
//!   subscription, the next one may still be in flight at the other instance); if the hole is
//!   still there after `gap_wait_ms` ([`Applier::sweep`]) it is a gap: the missing seqs are
//!   counted, `last_seq` jumps, the gateway is marked stale and sent `cmd/resync`;
//! - a `stock.snapshot` replaces a location's counts when its `as_of_seq` is not older than
//!   what they reflect (`locations.as_of_seq`); a `stock.changed` sets one count only when its
//!   seq is newer than that. A resync's snapshots thus rebuild the numbers a gap made stale,
//!   and the `cmd/resync/result` that follows them clears the stale mark;
//! - a `status` records presence and outbox figures; `outbox.dropped` growing, or a new
//!   `boot_id` whose `outbox.last_seq` is below `last_seq` (the gateway lost its state and
//!   counts from 1 again: `last_seq` restarts at 0), is a gap too.
//!
//! This module owns that logic. It never talks MQTT (the caller acks a batch only after its
//! transaction committed, and publishes the commands returned) and never serves the API.

use crate::db::{self, DbError, Param, Sql};
use serde::Deserialize;
use shelfd_core::events::{Event, EventBody, StockSnapshot};
use shelfd_core::topics::{Topic, Topics};

/// What a message on `{prefix}/{store}/{gateway}/…` is.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// An event (`event/{type}`), with its payload as received.
    Event {
        /// Store id.
        store: String,
        /// Gateway id.
        gateway: String,
        /// The event.
        event: Event,
        /// The payload, kept while the event waits in `pending`.
        payload: String,
    },
    /// A retained `stock.snapshot`.
    Snapshot {
        /// Store id.
        store: String,
        /// Gateway id.
        gateway: String,
        /// The snapshot.
        snapshot: StockSnapshot,
    },
    /// A `status` document.
    Status {
        /// Store id.
        store: String,
        /// Gateway id.
        gateway: String,
        /// What it says.
        status: StatusIn,
    },
    /// A `cmd/resync/result`.
    ResyncResult {
        /// Store id.
        store: String,
        /// Gateway id.
        gateway: String,
        /// The id echoed.
        id: Option<String>,
        /// Success.
        ok: bool,
    },
    /// A topic central does not consume (other commands and results, EPCIS).
    Ignored,
}

/// The fields of the `status` document central reads (contract/schemas/status.json).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusIn {
    /// `online` or `offline`.
    pub state: String,
    /// New on every daemon run.
    pub boot_id: String,
    /// Outbox figures (`online` only).
    #[serde(default)]
    pub outbox: Option<OutboxIn>,
}

/// `status.outbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct OutboxIn {
    /// Events waiting for their PUBACK.
    pub entries: u64,
    /// Events dropped because the outbox was full, since the state dir was created.
    pub dropped: u64,
    /// The last seq assigned.
    pub last_seq: u64,
}

#[derive(Deserialize)]
struct ResultIn {
    id: Option<String>,
    ok: bool,
}

/// A message central cannot use, naming the topic and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{topic}: {reason}")]
pub struct Rejected {
    /// The topic.
    pub topic: String,
    /// Why.
    pub reason: String,
}

/// Reads one message. Topics outside `{prefix}/{store}/{gateway}/…` and malformed payloads are
/// errors (logged and acknowledged by the caller: they can never become valid).
pub fn classify(prefix: &str, topic: &str, payload: &[u8]) -> Result<Message, Rejected> {
    let reject = |reason: String| Rejected {
        topic: topic.to_owned(),
        reason,
    };
    let rest = topic
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| reject(format!("not under the prefix {prefix:?}")))?;
    let mut levels = rest.splitn(3, '/');
    let (Some(store), Some(gateway), Some(_)) = (levels.next(), levels.next(), levels.next())
    else {
        return Err(reject("expected {prefix}/{store}/{gateway}/…".into()));
    };
    let parsed = Topics::new(prefix, store, gateway)
        .parse(topic)
        .ok_or_else(|| reject("not a shelfd topic".into()))?;
    let (store, gateway) = (store.to_owned(), gateway.to_owned());
    let same_origin = |s: &str, g: &str| {
        if s == store && g == gateway {
            Ok(())
        } else {
            Err(reject(format!(
                "payload says store {s:?} gateway {g:?}, the topic says {store:?} {gateway:?}"
            )))
        }
    };
    match parsed {
        Topic::Event(kind) => {
            let (origin, event) = Event::from_slice(payload).map_err(|e| reject(e.to_string()))?;
            same_origin(&origin.store, &origin.gateway)?;
            if event.body.kind() != kind {
                return Err(reject(format!(
                    "payload type {} on the topic of {kind}",
                    event.body.kind()
                )));
            }
            if event.seq == 0 {
                return Err(reject("seq 0 (seqs start at 1)".into()));
            }
            let payload = String::from_utf8_lossy(payload).into_owned();
            Ok(Message::Event {
                store,
                gateway,
                event,
                payload,
            })
        }
        Topic::Stock(location) => {
            let (origin, snapshot) =
                StockSnapshot::from_slice(payload).map_err(|e| reject(e.to_string()))?;
            same_origin(&origin.store, &origin.gateway)?;
            if snapshot.location != location {
                return Err(reject(format!(
                    "snapshot of {:?} on the topic of {location:?}",
                    snapshot.location
                )));
            }
            Ok(Message::Snapshot {
                store,
                gateway,
                snapshot,
            })
        }
        Topic::Status => {
            let status: StatusIn = serde_json::from_slice(payload)
                .map_err(|e| reject(format!("not a status document: {e}")))?;
            Ok(Message::Status {
                store,
                gateway,
                status,
            })
        }
        Topic::CmdResult(op) if op == "resync" => {
            let result: ResultIn = serde_json::from_slice(payload)
                .map_err(|e| reject(format!("not a command result: {e}")))?;
            Ok(Message::ResyncResult {
                store,
                gateway,
                id: result.id,
                ok: result.ok,
            })
        }
        Topic::Cmd(_) | Topic::CmdResult(_) | Topic::Epcis => Ok(Message::Ignored),
    }
}

/// A command central publishes (QoS 1, not retained).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Full topic.
    pub topic: String,
    /// JSON payload.
    pub payload: String,
}

/// One gateway's row.
#[derive(Debug, Clone, Default)]
struct Gw {
    store: String,
    gateway: String,
    last_seq: i64,
    epoch: i64,
    /// Events parked in `pending` (0: nothing to drain, no query needed).
    parked: i64,
    boot_id: Option<String>,
    online: i64,
    outbox_entries: i64,
    outbox_dropped: i64,
    outbox_last_seq: i64,
    stale: i64,
    resync_id: Option<String>,
    resync_sent_ms: i64,
    resyncs: i64,
    gaps: i64,
    gaps_healed: i64,
    missed: i64,
    duplicates: i64,
    events: i64,
    last_event_ms: i64,
    seen_ms: i64,
}

const GW_COLUMNS: &str = "last_seq, epoch, parked, boot_id, online, outbox_entries, outbox_dropped, outbox_last_seq, stale, resync_id, resync_sent_ms, resyncs, gaps, gaps_healed, missed, duplicates, events, last_event_ms, seen_ms";

/// Applies messages (see the module docs).
#[derive(Debug, Clone)]
pub struct Applier {
    prefix: String,
    gap_wait_ms: u64,
    resync_retry_ms: u64,
    instance: String,
    counter: u64,
}

/// What one batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// Events applied (including parked ones that became next).
    pub applied: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// Commands to publish after the commit.
    pub commands: Vec<Outgoing>,
}

impl Applier {
    /// An applier for gateways under `prefix`; `instance` makes resync ids unique per central.
    pub fn new(prefix: &str, gap_wait_ms: u64, resync_retry_ms: u64, instance: &str) -> Self {
        Applier {
            prefix: prefix.to_owned(),
            gap_wait_ms,
            resync_retry_ms,
            instance: instance.to_owned(),
            counter: 0,
        }
    }

    /// Applies `messages` in one transaction (retried whole on a deadlock). The caller acks
    /// them after this returns `Ok`.
    pub fn apply_batch(
        &mut self,
        db: &mut dyn Sql,
        messages: &[Message],
        now_ms: u64,
    ) -> Result<BatchReport, DbError> {
        let start_counter = self.counter;
        db::transaction(db, |tx| {
            self.counter = start_counter;
            let mut report = BatchReport::default();
            for m in messages {
                self.apply_one(tx, m, now_ms, &mut report)?;
            }
            Ok(report)
        })
    }

    /// Declares the gaps whose wait is over and re-sends resyncs left unanswered; one
    /// transaction. Called periodically.
    pub fn sweep(&mut self, db: &mut dyn Sql, now_ms: u64) -> Result<BatchReport, DbError> {
        let start_counter = self.counter;
        db::transaction(db, |tx| {
            self.counter = start_counter;
            let mut report = BatchReport::default();
            let cutoff = now_ms.saturating_sub(self.gap_wait_ms);
            let holes = tx.query(
                "SELECT store, gateway FROM pending GROUP BY store, gateway HAVING MIN(received_ms) <= $1 ORDER BY store, gateway",
                &[cutoff.into()],
            )?;
            for row in holes {
                let mut gw = load(tx, &row[0].text(), &row[1].text())?;
                let first = tx.query(
                    "SELECT CAST(MIN(seq) AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM pending WHERE store = $1 AND gateway = $2",
                    &[(&gw.store).into(), (&gw.gateway).into()],
                )?;
                let Some((first, parked)) = first.first().map(|r| (r[0].int(), r[1].int())) else {
                    continue;
                };
                // Recounted here, so a count that drifted cannot leave events parked for good.
                gw.parked = parked;
                if first > gw.last_seq + 1 {
                    let missed = first - gw.last_seq - 1;
                    tracing::warn!(store = %gw.store, gateway = %gw.gateway, from = gw.last_seq + 1, to = first - 1, missed, "gap in a gateway's events");
                    gw.gaps += 1;
                    gw.missed += missed;
                    gw.last_seq = first - 1;
                    self.mark_stale(&mut gw, now_ms, &mut report);
                }
                drain(tx, &mut gw, &mut report)?;
                save(tx, &gw)?;
            }
            let retry = now_ms.saturating_sub(self.resync_retry_ms);
            let unanswered = tx.query(
                "SELECT store, gateway FROM gateways WHERE stale = 1 AND online = 1 AND resync_sent_ms <= $1 ORDER BY store, gateway",
                &[retry.into()],
            )?;
            for row in unanswered {
                let mut gw = load(tx, &row[0].text(), &row[1].text())?;
                self.send_resync(&mut gw, now_ms, &mut report);
                save(tx, &gw)?;
            }
            Ok(report)
        })
    }

    fn apply_one(
        &mut self,
        tx: &mut dyn Sql,
        m: &Message,
        now: u64,
        report: &mut BatchReport,
    ) -> Result<(), DbError> {
        match m {
            Message::Event {
                store,
                gateway,
                event,
                payload,
            } => {
                let mut gw = load(tx, store, gateway)?;
                gw.seen_ms = now as i64;
                let seq = event.seq as i64;
                if seq <= gw.last_seq {
                    gw.duplicates += 1;
                    report.duplicates += 1;
                } else if seq > gw.last_seq + 1 {
                    gw.parked += tx.exec(
                        "INSERT INTO pending (store, gateway, seq, payload, received_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store, gateway, seq) DO NOTHING",
                        &[store.into(), gateway.into(), seq.into(), payload.into(), now.into()],
                    )? as i64;
                } else {
                    apply_event(tx, &mut gw, event, payload)?;
                    report.applied += 1;
                    drain(tx, &mut gw, report)?;
                }
                save(tx, &gw)
            }
            Message::Snapshot {
                store,
                gateway,
                snapshot,
            } => {
                let mut gw = load(tx, store, gateway)?;
                gw.seen_ms = now as i64;
                apply_snapshot(tx, &gw, snapshot)?;
                save(tx, &gw)
            }
            Message::Status {
                store,
                gateway,
                status,
            } => {
                let mut gw = load(tx, store, gateway)?;
                gw.seen_ms = now as i64;
                self.apply_status(tx, &mut gw, status, now, report)?;
                save(tx, &gw)
            }
            Message::ResyncResult {
                store,
                gateway,
                id,
                ok,
            } => {
                let mut gw = load(tx, store, gateway)?;
                if *ok && id.is_some() && *id == gw.resync_id {
                    // The snapshots the resync republished came before its result.
                    gw.stale = 0;
                    gw.resync_id = None;
                    gw.gaps_healed += 1;
                    tracing::info!(store = %gw.store, gateway = %gw.gateway, "gateway resynced");
                }
                save(tx, &gw)
            }
            Message::Ignored => Ok(()),
        }
    }

    fn apply_status(
        &mut self,
        tx: &mut dyn Sql,
        gw: &mut Gw,
        status: &StatusIn,
        now: u64,
        report: &mut BatchReport,
    ) -> Result<(), DbError> {
        gw.online = i64::from(status.state == "online");
        let known = gw.boot_id.is_some();
        let new_boot = gw.boot_id.as_deref() != Some(status.boot_id.as_str());
        if let Some(outbox) = status.outbox {
            let last = outbox.last_seq as i64;
            if known && new_boot && last < gw.last_seq {
                tracing::warn!(store = %gw.store, gateway = %gw.gateway, was = gw.last_seq, now = last, "gateway lost its state (new boot, lower seq): rebuilding from snapshots");
                gw.last_seq = 0;
                gw.epoch += 1;
                gw.gaps += 1;
                let key = [Param::from(&gw.store), Param::from(&gw.gateway)];
                tx.exec(
                    "DELETE FROM pending WHERE store = $1 AND gateway = $2",
                    &key,
                )?;
                gw.parked = 0;
                tx.exec(
                    "UPDATE locations SET as_of_seq = 0 WHERE store = $1 AND gateway = $2",
                    &key,
                )?;
                self.mark_stale(gw, now, report);
            } else if known && (outbox.dropped as i64) > gw.outbox_dropped {
                tracing::warn!(store = %gw.store, gateway = %gw.gateway, dropped = outbox.dropped, "gateway dropped events (outbox full)");
                gw.gaps += 1;
                self.mark_stale(gw, now, report);
            }
            gw.outbox_entries = outbox.entries as i64;
            gw.outbox_dropped = outbox.dropped as i64;
            gw.outbox_last_seq = last;
        }
        gw.boot_id = Some(status.boot_id.clone());
        if gw.stale == 1
            && gw.online == 1
            && now.saturating_sub(gw.resync_sent_ms as u64) >= self.resync_retry_ms
        {
            // The gateway subscribes with a clean session: a resync sent while it was away
            // is lost; send it again now that it is back.
            self.send_resync(gw, now, report);
        }
        Ok(())
    }

    fn mark_stale(&mut self, gw: &mut Gw, now: u64, report: &mut BatchReport) {
        let fresh = gw.stale == 0;
        gw.stale = 1;
        if fresh || now.saturating_sub(gw.resync_sent_ms as u64) >= self.resync_retry_ms {
            self.send_resync(gw, now, report);
        }
    }

    fn send_resync(&mut self, gw: &mut Gw, now: u64, report: &mut BatchReport) {
        self.counter += 1;
        let id = format!("central-{}-{now}-{}", self.instance, self.counter);
        let topics = Topics::new(&self.prefix, &gw.store, &gw.gateway);
        report.commands.push(Outgoing {
            topic: topics.build(&Topic::Cmd("resync".into())),
            payload: serde_json::json!({ "id": id }).to_string(),
        });
        gw.resync_id = Some(id);
        gw.resync_sent_ms = now as i64;
        gw.resyncs += 1;
    }
}

/// The gateway's row, created when first heard of, locked for the transaction (PostgreSQL).
fn load(tx: &mut dyn Sql, store: &str, gateway: &str) -> Result<Gw, DbError> {
    let key = [Param::from(store), Param::from(gateway)];
    let sql = format!(
        "SELECT {GW_COLUMNS} FROM gateways WHERE store = $1 AND gateway = $2{}",
        tx.backend().for_update()
    );
    let mut rows = tx.query(&sql, &key)?;
    if rows.is_empty() {
        tx.exec(
            "INSERT INTO gateways (store, gateway) VALUES ($1, $2) ON CONFLICT (store, gateway) DO NOTHING",
            &key,
        )?;
        rows = tx.query(&sql, &key)?;
    }
    let r = rows.first().ok_or_else(|| DbError::Statement {
        sql: sql.clone(),
        reason: format!("gateway {store}/{gateway} vanished"),
    })?;
    Ok(Gw {
        store: store.to_owned(),
        gateway: gateway.to_owned(),
        last_seq: r[0].int(),
        epoch: r[1].int(),
        parked: r[2].int(),
        boot_id: r[3].opt_text(),
        online: r[4].int(),
        outbox_entries: r[5].int(),
        outbox_dropped: r[6].int(),
        outbox_last_seq: r[7].int(),
        stale: r[8].int(),
        resync_id: r[9].opt_text(),
        resync_sent_ms: r[10].int(),
        resyncs: r[11].int(),
        gaps: r[12].int(),
        gaps_healed: r[13].int(),
        missed: r[14].int(),
        duplicates: r[15].int(),
        events: r[16].int(),
        last_event_ms: r[17].int(),
        seen_ms: r[18].int(),
    })
}

fn save(tx: &mut dyn Sql, gw: &Gw) -> Result<(), DbError> {
    tx.exec(
        "UPDATE gateways SET last_seq = $1, epoch = $2, parked = $3, boot_id = $4, online = $5, outbox_entries = $6, outbox_dropped = $7, outbox_last_seq = $8, stale = $9, resync_id = $10, resync_sent_ms = $11, resyncs = $12, gaps = $13, gaps_healed = $14, missed = $15, duplicates = $16, events = $17, last_event_ms = $18, seen_ms = $19 WHERE store = $20 AND gateway = $21",
        &[
            gw.last_seq.into(),
            gw.epoch.into(),
            gw.parked.into(),
            Param::Text(gw.boot_id.clone()),
            gw.online.into(),
            gw.outbox_entries.into(),
            gw.outbox_dropped.into(),
            gw.outbox_last_seq.into(),
            gw.stale.into(),
            Param::Text(gw.resync_id.clone()),
            gw.resync_sent_ms.into(),
            gw.resyncs.into(),
            gw.gaps.into(),
            gw.gaps_healed.into(),
            gw.missed.into(),
            gw.duplicates.into(),
            gw.events.into(),
            gw.last_event_ms.into(),
            gw.seen_ms.into(),
            (&gw.store).into(),
            (&gw.gateway).into(),
        ],
    )?;
    Ok(())
}

/// Applies the parked events that are next, in order.
fn drain(tx: &mut dyn Sql, gw: &mut Gw, report: &mut BatchReport) -> Result<(), DbError> {
    if gw.parked <= 0 {
        return Ok(());
    }
    let (store, gateway) = (gw.store.clone(), gw.gateway.clone());
    let key3 = |seq: i64| [Param::from(&store), Param::from(&gateway), seq.into()];
    let stale_parked = tx.exec(
        "DELETE FROM pending WHERE store = $1 AND gateway = $2 AND seq <= $3",
        &key3(gw.last_seq),
    )?;
    gw.parked -= stale_parked as i64;
    loop {
        let next = gw.last_seq + 1;
        let rows = tx.query(
            "SELECT payload FROM pending WHERE store = $1 AND gateway = $2 AND seq = $3",
            &key3(next),
        )?;
        let Some(row) = rows.first() else {
            return Ok(());
        };
        let payload = row[0].text();
        tx.exec(
            "DELETE FROM pending WHERE store = $1 AND gateway = $2 AND seq = $3",
            &key3(next),
        )?;
        gw.parked -= 1;
        match Event::from_json(&payload) {
            Ok((_, event)) => {
                apply_event(tx, gw, &event, &payload)?;
                report.applied += 1;
            }
            Err(e) => {
                // It parsed when it was parked; a payload that no longer does is skipped as
                // a one-event gap rather than blocking the gateway forever.
                tracing::error!(seq = next, error = %e, "parked event no longer parses");
                gw.last_seq = next;
                gw.missed += 1;
            }
        }
    }
}

/// The `YYYY-MM-DD` (UTC) of a time.
fn day_of(time_ms: u64) -> String {
    shelfd_core::timefmt::rfc3339_ms(time_ms)[..10].to_owned()
}

fn apply_event(tx: &mut dyn Sql, gw: &mut Gw, event: &Event, payload: &str) -> Result<(), DbError> {
    let seq = event.seq as i64;
    let epoch = gw.epoch;
    let (store, gateway) = (gw.store.clone(), gw.gateway.clone());
    let time = event.time_ms as i64;
    let history = |tx: &mut dyn Sql,
                   epc: &str,
                   location: Option<&str>,
                   from: Option<&str>|
     -> Result<u64, DbError> {
        tx.exec(
            "INSERT INTO history (store, gateway, epoch, seq, epc, kind, location, from_location, time_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (store, gateway, epoch, seq) DO NOTHING",
            &[
                (&store).into(),
                (&gateway).into(),
                epoch.into(),
                seq.into(),
                epc.into(),
                event.body.kind().as_str().into(),
                location.into(),
                from.into(),
                time.into(),
            ],
        )
    };
    match &event.body {
        EventBody::StockChanged {
            location,
            sku,
            count,
            ..
        } => {
            let sku = sku.as_deref().unwrap_or("null");
            let as_of = location_as_of(tx, &store, &gateway, location)?;
            if as_of.is_none_or(|a| seq > a) {
                tx.exec(
                    "INSERT INTO stock (store, gateway, location, sku, count) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store, gateway, location, sku) DO UPDATE SET count = excluded.count",
                    &[
                        (&store).into(),
                        (&gateway).into(),
                        location.into(),
                        sku.into(),
                        (*count).into(),
                    ],
                )?;
                set_location_as_of(tx, &store, &gateway, location, seq)?;
            }
        }
        EventBody::TagSold {
            epc,
            sku,
            location,
            from,
        } => {
            tx.exec(
                "INSERT INTO sales (store, gateway, epoch, seq, epc, sku, pos, from_location, day, time_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (store, gateway, epoch, seq) DO NOTHING",
                &[
                    (&store).into(),
                    (&gateway).into(),
                    epoch.into(),
                    seq.into(),
                    epc.into(),
                    sku.as_deref().unwrap_or("null").into(),
                    location.into(),
                    from.into(),
                    day_of(event.time_ms).into(),
                    time.into(),
                ],
            )?;
            history(tx, epc, Some(location), Some(from))?;
        }
        EventBody::TagArrived { epc, location, .. }
        | EventBody::TagReturned { epc, location, .. } => {
            history(tx, epc, Some(location), None)?;
        }
        EventBody::TagMoved { epc, from, to, .. } => {
            history(tx, epc, Some(to), Some(from))?;
        }
        EventBody::TagDeparted { epc, from, .. } => {
            history(tx, epc, None, Some(from))?;
        }
        EventBody::AlertExit {
            epc,
            location,
            from,
            ..
        } => {
            history(tx, epc, Some(location), Some(from))?;
        }
        _ => {}
    }
    if event.body.kind().as_str().starts_with("alert.")
        || event.body.kind().as_str() == "reader.status"
    {
        // Every alert kind (present and future) by the fields they share.
        let json: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
        let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        tx.exec(
            "INSERT INTO alerts (store, gateway, epoch, seq, kind, location, sku, epc, time_ms, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (store, gateway, epoch, seq) DO NOTHING",
            &[
                (&store).into(),
                (&gateway).into(),
                epoch.into(),
                seq.into(),
                event.body.kind().as_str().into(),
                Param::Text(field("location").or_else(|| field("reader"))),
                Param::Text(field("sku")),
                Param::Text(field("epc")),
                time.into(),
                payload.into(),
            ],
        )?;
    }
    gw.last_seq = seq;
    gw.events += 1;
    gw.last_event_ms = time;
    Ok(())
}

fn location_as_of(
    tx: &mut dyn Sql,
    store: &str,
    gateway: &str,
    location: &str,
) -> Result<Option<i64>, DbError> {
    let rows = tx.query(
        "SELECT as_of_seq FROM locations WHERE store = $1 AND gateway = $2 AND location = $3",
        &[store.into(), gateway.into(), location.into()],
    )?;
    Ok(rows.first().map(|r| r[0].int()))
}

fn set_location_as_of(
    tx: &mut dyn Sql,
    store: &str,
    gateway: &str,
    location: &str,
    seq: i64,
) -> Result<(), DbError> {
    tx.exec(
        "INSERT INTO locations (store, gateway, location, as_of_seq) VALUES ($1, $2, $3, $4) ON CONFLICT (store, gateway, location) DO UPDATE SET as_of_seq = excluded.as_of_seq",
        &[store.into(), gateway.into(), location.into(), seq.into()],
    )?;
    Ok(())
}

fn apply_snapshot(tx: &mut dyn Sql, gw: &Gw, s: &StockSnapshot) -> Result<(), DbError> {
    let as_of = s.as_of_seq as i64;
    let current = location_as_of(tx, &gw.store, &gw.gateway, &s.location)?;
    if current.is_some_and(|c| as_of < c) {
        // Older than what the counts already reflect: applying it would undo newer events.
        return Ok(());
    }
    tx.exec(
        "DELETE FROM stock WHERE store = $1 AND gateway = $2 AND location = $3",
        &[
            (&gw.store).into(),
            (&gw.gateway).into(),
            (&s.location).into(),
        ],
    )?;
    for (sku, count) in &s.counts {
        tx.exec(
            "INSERT INTO stock (store, gateway, location, sku, count) VALUES ($1, $2, $3, $4, $5)",
            &[
                (&gw.store).into(),
                (&gw.gateway).into(),
                (&s.location).into(),
                sku.into(),
                (*count).into(),
            ],
        )?;
    }
    set_location_as_of(tx, &gw.store, &gw.gateway, &s.location, as_of)
}
