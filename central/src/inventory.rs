//! The one inventory, read and changed on behalf of the API: availability (on hand on the
//! floor and in the backroom, safety stock, open reservations, available-to-promise), counts
//! per location, EPC history, alerts, reservations, gateways, safety stock and demand.
//!
//! Every function is one short use of a [`Sql`] connection; who may call which is decided by
//! [`crate::api`], never here.

use crate::db::{self, Backend, DbError, Param, Sql};
use serde::Serialize;
use shelfd_core::timefmt::rfc3339_ms;
use std::collections::BTreeMap;

/// Where a location is, for availability.
#[derive(Debug, Clone)]
pub struct Areas {
    /// Location ids starting with one of these are backroom.
    pub backroom_prefixes: Vec<String>,
    /// ATP at or below this is `low`.
    pub low_level: u64,
}

impl Areas {
    /// `backroom` or `floor`.
    pub fn area(&self, location: &str) -> &'static str {
        if self
            .backroom_prefixes
            .iter()
            .any(|p| location.starts_with(p.as_str()))
        {
            "backroom"
        } else {
            "floor"
        }
    }
}

/// Stock level shown to customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// More than the low level available.
    InStock,
    /// Some, at most the low level.
    Low,
    /// Nothing available to promise.
    Out,
}

/// Availability of one GTIN in one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Store id.
    pub store: String,
    /// GTIN.
    pub gtin: String,
    /// On hand on the sales floor.
    pub on_hand_floor: u64,
    /// On hand in the backroom.
    pub on_hand_backroom: u64,
    /// Safety stock of the store for the GTIN.
    pub safety_stock: u64,
    /// Units held by open, unexpired reservations.
    pub reserved: u64,
    /// on hand − safety stock − reserved, never below 0.
    pub available_to_promise: u64,
    /// in_stock / low / out.
    pub level: Level,
    /// A gateway of the store is being resynced: the numbers may be behind.
    pub stale: bool,
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Availability of `gtin` in `stores` (every store that has it when `None`).
pub fn availability(
    db: &mut dyn Sql,
    areas: &Areas,
    gtin: &str,
    stores: Option<&[String]>,
    now_ms: u64,
) -> Result<Vec<Availability>, DbError> {
    let mut per: BTreeMap<String, Availability> = BTreeMap::new();
    let entry = |per: &mut BTreeMap<String, Availability>, store: &str| {
        per.entry(store.to_owned()).or_insert_with(|| Availability {
            store: store.to_owned(),
            gtin: gtin.to_owned(),
            on_hand_floor: 0,
            on_hand_backroom: 0,
            safety_stock: 0,
            reserved: 0,
            available_to_promise: 0,
            level: Level::Out,
            stale: false,
        });
    };
    if let Some(stores) = stores {
        for s in stores {
            entry(&mut per, s);
        }
    }
    for r in db.query(
        "SELECT store, location, CAST(SUM(count) AS BIGINT) FROM stock WHERE sku = $1 GROUP BY store, location",
        &[gtin.into()],
    )? {
        let store = r[0].text();
        if stores.is_some_and(|s| !s.contains(&store)) {
            continue;
        }
        entry(&mut per, &store);
        let a = per.get_mut(&store).expect("invariant: just inserted");
        let n = u(r[2].int());
        match areas.area(&r[1].text()) {
            "backroom" => a.on_hand_backroom += n,
            _ => a.on_hand_floor += n,
        }
    }
    for r in db.query(
        "SELECT store, qty FROM safety_stock WHERE sku = $1",
        &[gtin.into()],
    )? {
        if let Some(a) = per.get_mut(&r[0].text()) {
            a.safety_stock = u(r[1].int());
        }
    }
    for r in db.query(
        "SELECT store, CAST(SUM(qty) AS BIGINT) FROM reservations WHERE sku = $1 AND status = 'open' AND expires_ms > $2 GROUP BY store",
        &[gtin.into(), now_ms.into()],
    )? {
        if let Some(a) = per.get_mut(&r[0].text()) {
            a.reserved = u(r[1].int());
        }
    }
    for r in db.query("SELECT DISTINCT store FROM gateways WHERE stale = 1", &[])? {
        if let Some(a) = per.get_mut(&r[0].text()) {
            a.stale = true;
        }
    }
    Ok(per
        .into_values()
        .map(|mut a| {
            let on_hand = a.on_hand_floor + a.on_hand_backroom;
            a.available_to_promise = on_hand.saturating_sub(a.safety_stock + a.reserved);
            a.level = match a.available_to_promise {
                0 => Level::Out,
                n if n <= areas.low_level => Level::Low,
                _ => Level::InStock,
            };
            a
        })
        .collect())
}

/// Count of one GTIN at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationCount {
    /// Location id.
    pub location: String,
    /// `floor` or `backroom`.
    pub area: &'static str,
    /// The gateway that reports it.
    pub gateway: String,
    /// GTIN (`null` for undecoded tags).
    pub gtin: String,
    /// Units there.
    pub count: u64,
}

/// Counts per location of a store (of one GTIN when given).
pub fn locations(
    db: &mut dyn Sql,
    areas: &Areas,
    store: &str,
    gtin: Option<&str>,
) -> Result<Vec<LocationCount>, DbError> {
    let rows = db.query(
        "SELECT location, gateway, sku, count FROM stock WHERE store = $1 AND count > 0 AND ($2 = '' OR sku = $2) ORDER BY location, sku",
        &[store.into(), gtin.unwrap_or("").into()],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| LocationCount {
            area: areas.area(&r[0].text()),
            location: r[0].text(),
            gateway: r[1].text(),
            gtin: r[2].text(),
            count: u(r[3].int()),
        })
        .collect())
}

/// The stock of every (store, gateway, location, sku) with a count above 0 (tests compare it
/// with the gateways' snapshots).
pub fn all_stock(db: &mut dyn Sql) -> Result<BTreeMap<(String, String, String), u64>, DbError> {
    let rows = db.query(
        "SELECT store, location, sku, CAST(SUM(count) AS BIGINT) FROM stock WHERE count > 0 GROUP BY store, location, sku",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| ((r[0].text(), r[1].text(), r[2].text()), u(r[3].int())))
        .collect())
}

/// One step of an item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryStep {
    /// Store id.
    pub store: String,
    /// Gateway id.
    pub gateway: String,
    /// The event's seq.
    pub seq: u64,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it is after the event (none after a departure).
    pub location: Option<String>,
    /// Where it came from.
    pub from: Option<String>,
    /// Event time.
    pub time: String,
}

/// Everything that happened to `epc`, oldest first, in the given stores (all when `None`).
pub fn history(
    db: &mut dyn Sql,
    epc: &str,
    stores: Option<&[String]>,
) -> Result<Vec<HistoryStep>, DbError> {
    let rows = db.query(
        "SELECT store, gateway, seq, kind, location, from_location, time_ms FROM history WHERE epc = $1 ORDER BY time_ms, store, gateway, seq",
        &[epc.into()],
    )?;
    Ok(rows
        .into_iter()
        .filter(|r| stores.is_none_or(|s| s.contains(&r[0].text())))
        .map(|r| HistoryStep {
            store: r[0].text(),
            gateway: r[1].text(),
            seq: u(r[2].int()),
            kind: r[3].text(),
            location: r[4].opt_text(),
            from: r[5].opt_text(),
            time: rfc3339_ms(u(r[6].int())),
        })
        .collect())
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The event type (`alert.low_stock`, `reader.status`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Gateway id.
    pub gateway: String,
    /// The event's seq.
    pub seq: u64,
    /// Location (or reader) id.
    pub location: Option<String>,
    /// GTIN.
    pub gtin: Option<String>,
    /// EPC.
    pub epc: Option<String>,
    /// Event time.
    pub time: String,
    /// The event as published.
    pub event: serde_json::Value,
}

/// The newest `limit` alerts of a store, newest first.
pub fn alerts(db: &mut dyn Sql, store: &str, limit: u64) -> Result<Vec<Alert>, DbError> {
    let rows = db.query(
        "SELECT kind, gateway, seq, location, sku, epc, time_ms, detail FROM alerts WHERE store = $1 ORDER BY time_ms DESC, seq DESC LIMIT $2",
        &[store.into(), limit.into()],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| Alert {
            kind: r[0].text(),
            gateway: r[1].text(),
            seq: u(r[2].int()),
            location: r[3].opt_text(),
            gtin: r[4].opt_text(),
            epc: r[5].opt_text(),
            time: rfc3339_ms(u(r[6].int())),
            event: serde_json::from_str(&r[7].text()).unwrap_or_default(),
        })
        .collect())
}

/// A reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    /// Its id.
    pub id: String,
    /// The order it is for.
    pub order: String,
    /// Store id.
    pub store: String,
    /// GTIN.
    pub gtin: String,
    /// Units.
    pub qty: u64,
    /// `open`, `fulfilled`, `cancelled` or `expired`.
    pub status: String,
    /// Created at.
    pub created: String,
    /// Expires at (while open).
    pub expires: String,
}

/// Why a reservation was refused, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// What is wrong.
    pub error: String,
    /// Units asked for.
    pub requested: u64,
    /// On hand in the store (floor and backroom).
    pub on_hand: u64,
    /// Safety stock.
    pub safety_stock: u64,
    /// Already reserved.
    pub reserved: u64,
    /// What could be reserved.
    pub available: u64,
}

/// The outcome of a reservation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserve {
    /// Created.
    Created(Reservation),
    /// Refused: it would exceed on hand − safety stock − reserved.
    Refused(Refusal),
}

/// A request to reserve.
#[derive(Debug, Clone)]
pub struct ReserveRequest {
    /// The order.
    pub order: String,
    /// Store id.
    pub store: String,
    /// GTIN.
    pub gtin: String,
    /// Units (≥ 1).
    pub qty: u64,
    /// Expiry (ms since the epoch, in the future).
    pub expires_ms: u64,
}

fn lock_key(store: &str, gtin: &str) -> i64 {
    // FNV-1a: a stable 64-bit key for PostgreSQL's advisory lock.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in store.bytes().chain([0]).chain(gtin.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Reserves units if on hand − safety stock − open reservations allows it; one transaction
/// (serialised per store and GTIN), so two requests cannot both take the last unit.
pub fn reserve(
    db: &mut dyn Sql,
    areas: &Areas,
    req: &ReserveRequest,
    id: &str,
    now_ms: u64,
) -> Result<Reserve, DbError> {
    db::transaction(db, |tx| {
        if tx.backend() == Backend::Postgres {
            tx.query(
                "SELECT CAST(pg_advisory_xact_lock($1) AS TEXT)",
                &[lock_key(&req.store, &req.gtin).into()],
            )?;
        }
        let a = availability(
            tx,
            areas,
            &req.gtin,
            Some(std::slice::from_ref(&req.store)),
            now_ms,
        )?;
        let a = a
            .into_iter()
            .next()
            .expect("invariant: one store asked, one row");
        let on_hand = a.on_hand_floor + a.on_hand_backroom;
        let available = on_hand.saturating_sub(a.safety_stock + a.reserved);
        if req.qty > available {
            return Ok(Reserve::Refused(Refusal {
                error: format!(
                    "cannot reserve {} of {} in store {}: only {available} available (on hand {on_hand} − safety stock {} − reserved {})",
                    req.qty, req.gtin, req.store, a.safety_stock, a.reserved
                ),
                requested: req.qty,
                on_hand,
                safety_stock: a.safety_stock,
                reserved: a.reserved,
                available,
            }));
        }
        tx.exec(
            "INSERT INTO reservations (id, order_id, store, sku, qty, status, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
            &[
                id.into(),
                (&req.order).into(),
                (&req.store).into(),
                (&req.gtin).into(),
                req.qty.into(),
                now_ms.into(),
                req.expires_ms.into(),
            ],
        )?;
        Ok(Reserve::Created(Reservation {
            id: id.to_owned(),
            order: req.order.clone(),
            store: req.store.clone(),
            gtin: req.gtin.clone(),
            qty: req.qty,
            status: "open".into(),
            created: rfc3339_ms(now_ms),
            expires: rfc3339_ms(req.expires_ms),
        }))
    })
}

/// A reservation by id (expired ones read as `expired` even before the sweep marks them).
pub fn reservation(
    db: &mut dyn Sql,
    id: &str,
    now_ms: u64,
) -> Result<Option<Reservation>, DbError> {
    let rows = db.query(
        "SELECT id, order_id, store, sku, qty, status, created_ms, expires_ms FROM reservations WHERE id = $1",
        &[id.into()],
    )?;
    Ok(rows.into_iter().next().map(|r| {
        let expires = u(r[7].int());
        let mut status = r[5].text();
        if status == "open" && expires <= now_ms {
            status = "expired".into();
        }
        Reservation {
            id: r[0].text(),
            order: r[1].text(),
            store: r[2].text(),
            gtin: r[3].text(),
            qty: u(r[4].int()),
            status,
            created: rfc3339_ms(u(r[6].int())),
            expires: rfc3339_ms(expires),
        }
    }))
}

/// What closing a reservation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// It was open and is closed now (its new state).
    Done(Reservation),
    /// It was not open (fulfilled, cancelled or expired already): its state, unchanged.
    NotOpen(Reservation),
}

/// Closes an open reservation as `fulfilled` or `cancelled`; `None` when there is no such
/// reservation.
pub fn close_reservation(
    db: &mut dyn Sql,
    id: &str,
    to: &str,
    now_ms: u64,
) -> Result<Option<Closed>, DbError> {
    db::transaction(db, |tx| {
        let changed = tx.exec(
            "UPDATE reservations SET status = $1, closed_ms = $2 WHERE id = $3 AND status = 'open' AND expires_ms > $2",
            &[to.into(), now_ms.into(), id.into()],
        )?;
        let now = reservation(tx, id, now_ms)?;
        Ok(now.map(|r| {
            if changed == 1 {
                Closed::Done(r)
            } else {
                Closed::NotOpen(r)
            }
        }))
    })
}

/// Marks open reservations past their expiry `expired` (they stopped counting already).
pub fn expire_reservations(db: &mut dyn Sql, now_ms: u64) -> Result<u64, DbError> {
    db.exec(
        "UPDATE reservations SET status = 'expired', closed_ms = $1 WHERE status = 'open' AND expires_ms <= $1",
        &[now_ms.into()],
    )
}

/// A gateway as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayView {
    /// Store id.
    pub store: String,
    /// Gateway id.
    pub gateway: String,
    /// Its retained status says online.
    pub online: bool,
    /// The last event seq applied.
    pub last_seq: u64,
    /// Events the gateway reported (its outbox's last seq) not applied yet.
    pub lag: u64,
    /// Gaps found (seq jumps, dropped events, lost state).
    pub gaps: u64,
    /// Resyncs completed.
    pub gaps_healed: u64,
    /// Events never received (the seqs the gaps skipped).
    pub missed: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// Waiting for a resync: its numbers may be behind.
    pub stale: bool,
    /// Events waiting in the gateway's outbox (last status).
    pub outbox_entries: u64,
    /// Events the gateway dropped because its outbox was full.
    pub outbox_dropped: u64,
    /// The gateway's current run.
    pub boot_id: Option<String>,
    /// Time of the last event applied.
    pub last_event: Option<String>,
}

/// Every gateway.
pub fn gateways(db: &mut dyn Sql) -> Result<Vec<GatewayView>, DbError> {
    let rows = db.query(
        "SELECT store, gateway, online, last_seq, outbox_last_seq, gaps, gaps_healed, missed, duplicates, stale, outbox_entries, outbox_dropped, boot_id, last_event_ms FROM gateways ORDER BY store, gateway",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| GatewayView {
            store: r[0].text(),
            gateway: r[1].text(),
            online: r[2].int() == 1,
            last_seq: u(r[3].int()),
            lag: u(r[4].int() - r[3].int()),
            gaps: u(r[5].int()),
            gaps_healed: u(r[6].int()),
            missed: u(r[7].int()),
            duplicates: u(r[8].int()),
            stale: r[9].int() == 1,
            outbox_entries: u(r[10].int()),
            outbox_dropped: u(r[11].int()),
            boot_id: r[12].opt_text(),
            last_event: (r[13].int() > 0).then(|| rfc3339_ms(u(r[13].int()))),
        })
        .collect())
}

/// Safety stock of one store and GTIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SafetyStock {
    /// Store id.
    pub store: String,
    /// GTIN.
    pub gtin: String,
    /// Units kept back from promising.
    pub qty: u64,
}

/// Sets (upserts) a safety stock.
pub fn set_safety_stock(db: &mut dyn Sql, s: &SafetyStock) -> Result<(), DbError> {
    db.exec(
        "INSERT INTO safety_stock (store, sku, qty) VALUES ($1, $2, $3) ON CONFLICT (store, sku) DO UPDATE SET qty = excluded.qty",
        &[(&s.store).into(), (&s.gtin).into(), s.qty.into()],
    )?;
    Ok(())
}

/// Every safety stock.
pub fn safety_stocks(db: &mut dyn Sql) -> Result<Vec<SafetyStock>, DbError> {
    Ok(db
        .query(
            "SELECT store, sku, qty FROM safety_stock ORDER BY store, sku",
            &[],
        )?
        .into_iter()
        .map(|r| SafetyStock {
            store: r[0].text(),
            gtin: r[1].text(),
            qty: u(r[2].int()),
        })
        .collect())
}

/// Units sold of one GTIN in one store on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailySales {
    /// Store id.
    pub store: String,
    /// GTIN.
    pub gtin: String,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Units sold (`tag.sold` events).
    pub sold: u64,
}

/// A demand filter (all optional; days inclusive).
#[derive(Debug, Clone, Default)]
pub struct DemandFilter {
    /// Only these stores (all when `None`).
    pub stores: Option<Vec<String>>,
    /// Only this GTIN.
    pub gtin: Option<String>,
    /// From this day.
    pub from: Option<String>,
    /// To this day.
    pub to: Option<String>,
}

/// Sales per store, GTIN and day.
pub fn demand_daily(db: &mut dyn Sql, f: &DemandFilter) -> Result<Vec<DailySales>, DbError> {
    let rows = db.query(
        "SELECT store, sku, day, CAST(COUNT(*) AS BIGINT) FROM sales WHERE ($1 = '' OR sku = $1) AND ($2 = '' OR day >= $2) AND ($3 = '' OR day <= $3) GROUP BY store, sku, day ORDER BY store, sku, day",
        &[
            Param::from(f.gtin.as_deref().unwrap_or("")),
            Param::from(f.from.as_deref().unwrap_or("")),
            Param::from(f.to.as_deref().unwrap_or("")),
        ],
    )?;
    Ok(rows
        .into_iter()
        .filter(|r| f.stores.as_ref().is_none_or(|s| s.contains(&r[0].text())))
        .map(|r| DailySales {
            store: r[0].text(),
            gtin: r[1].text(),
            day: r[2].text(),
            sold: u(r[3].int()),
        })
        .collect())
}

/// Units sold per category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategorySales {
    /// Category (from the products file).
    pub category: String,
    /// Units sold.
    pub sold: u64,
}

/// Sales per category (the products file maps GTIN → category).
pub fn demand_by_category(
    db: &mut dyn Sql,
    f: &DemandFilter,
    products: &crate::products::Products,
) -> Result<Vec<CategorySales>, DbError> {
    let mut per: BTreeMap<String, u64> = BTreeMap::new();
    for d in demand_daily(db, f)? {
        *per.entry(products.category(&d.gtin).to_owned())
            .or_default() += d.sold;
    }
    Ok(per
        .into_iter()
        .map(|(category, sold)| CategorySales { category, sold })
        .collect())
}

/// Total units sold per store (tests compare it with the `tag.sold` events published).
pub fn sales_per_store(db: &mut dyn Sql) -> Result<BTreeMap<String, u64>, DbError> {
    Ok(db
        .query(
            "SELECT store, CAST(COUNT(*) AS BIGINT) FROM sales GROUP BY store",
            &[],
        )?
        .into_iter()
        .map(|r| (r[0].text(), u(r[1].int())))
        .collect())
}
