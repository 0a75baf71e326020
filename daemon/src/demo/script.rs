//! The demo store's day, as a script of acts ([`StoreScript`]) over a seeded [`StoreSim`]: stock
//! on the shelves at opening (the baseline), a delivery at the dock that central announced with
//! an ASN (a `dock.receipt` matches it), a misplaced shirt (`alert.misplaced`), a sale at the
//! POS, the paid item leaving (no alert) and an unpaid one (alert), a cap that vanishes (departs
//! as missing; the caps shelf then runs below its safety stock), then an endless cycle of
//! restocking, sales, announced deliveries, a return and the odd theft; on the drinks shelf
//! shoppers take water bottles steadily (from the third act on, two every cycle) and staff
//! refill the lane once it is down to two (the bottles carry no tag: a shelf node's lane weighs
//! them). The drinks shelf has a safety stock, so its depletion forecast raises
//! `alert.stockout_forecast` before the count falls below it (`alert.low_stock`), and each
//! refill re-arms both. Each act changes where tags are and
//! says how long to watch; the timings are set so that, with the knobs of `config/demo.toml`,
//! every kind of event shows within a minute. Central's commands come out of
//! [`StoreScript::take_commands`].
//!
//! [`play`] runs the script in real time through the simulated readers ([`play_store_sim`]); a
//! test runs the same acts on a virtual clock through the engine. The script only moves tags in
//! the simulation: it never looks at what the engine made of them.

use super::describe::SkuNames;
use crate::config::{Config, Protocol};
use shelfd_core::sim::{StoreSim, TagProfile, sim_epc};
use shelfd_readers::pty_sim::{RoundSender, play_store_sim};
use shelfd_readers::shelf_link::sim::NodeBusControls;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Inventory round period of every simulated reader (ms).
pub const ROUND_MS: u64 = 250;
/// How often the player advances the simulation and sends rounds.
pub const TICK: Duration = Duration::from_millis(ROUND_MS);

/// One product of the demo store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Simulated product number (its GTIN is that of [`sim_epc`]).
    pub number: u32,
    /// Display name (the names of stock tables and events).
    pub name: &'static str,
    /// One item, in words ("a shirt", "a pair of jeans").
    pub one: &'static str,
    /// Several items, in words ("shirts").
    pub some: &'static str,
    /// The shelf it belongs on.
    pub home: &'static str,
}

/// The demo's products: shirts, jeans and caps.
pub const PRODUCTS: [Product; 3] = [
    Product {
        number: 1,
        name: "shirt",
        one: "a shirt",
        some: "shirts",
        home: "shelf-a1",
    },
    Product {
        number: 2,
        name: "jeans",
        one: "a pair of jeans",
        some: "pairs of jeans",
        home: "shelf-a2",
    },
    Product {
        number: 3,
        name: "cap",
        one: "a cap",
        some: "caps",
        home: "shelf-b1",
    },
];

const SHIRT: usize = 0;
const JEANS: usize = 1;
const CAP: usize = 2;
const BACKROOM: &str = "backroom";
const DOCK: &str = "dock-1";
const POS: &str = "pos-1";
const EXIT: &str = "exit-1";

/// The GTIN of the demo's water bottles (the drinks shelf's lane, `config/demo.toml`).
pub const WATER_GTIN: &str = "00614141000043";

/// SKU (GTIN-14) → product name for the demo's products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog(BTreeMap<String, &'static str>);

impl Catalog {
    /// The names of [`PRODUCTS`].
    pub fn demo() -> Self {
        Catalog(
            PRODUCTS
                .iter()
                .filter_map(|p| Some((shelfd_core::epc::gtin14(&sim_epc(p.number, 1))?, p.name)))
                .chain([(WATER_GTIN.to_owned(), "water")])
                .collect(),
        )
    }
}

impl SkuNames for Catalog {
    fn name(&self, sku: &str) -> Option<&str> {
        self.0.get(sku).copied()
    }
}

/// Items taken from (negative) or put on (positive) a shelf node's lane by an act.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneMove {
    /// The shelf-link reader (bus).
    pub reader: String,
    /// Node address.
    pub node: u8,
    /// Lane on the node.
    pub lane: u8,
    /// Items added (> 0) or taken (< 0); 0 for the opening stock.
    pub units: i16,
    /// Weight of one item, in grams.
    pub unit_weight: f64,
    /// Items on the lane after the move.
    pub after: u32,
}

/// The lane the script stocks and shops from (the first `[[lane]]` of the config).
#[derive(Debug, Clone, PartialEq)]
struct ShelfLane {
    reader: String,
    node: u8,
    lane: u8,
    unit_weight: f64,
    location: String,
    items: u32,
}

/// One act: what happens in the store now, and how long to watch before the next act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    /// What a person in the store would see, in words.
    pub say: String,
    /// How long the act lasts.
    pub hold: Duration,
}

#[derive(Debug, Clone)]
struct Item {
    epc: Vec<u8>,
    product: usize,
    at: Option<&'static str>,
}

/// The script. See the module docs.
#[derive(Debug, Clone)]
pub struct StoreScript {
    items: Vec<Item>,
    /// Acts played so far.
    step: usize,
    /// Items at the POS or the exit, to be carried off by the next act.
    leaving: Vec<usize>,
    /// Items delivered to the dock, to be carried to the backroom.
    delivered: Vec<usize>,
    /// The jeans sold in the opening acts, brought back once in the first cycle.
    to_return: Option<usize>,
    /// The weighed lane, if the config has one.
    lane: Option<ShelfLane>,
    /// Lane moves of the acts played, not yet taken by the player.
    lane_moves: Vec<LaneMove>,
    /// Commands central sends with the acts played, not yet taken by the player.
    commands: Vec<CentralCommand>,
    /// Shipments announced so far.
    shipments: u32,
}

/// A command central sends to the gateway (over MQTT in the live demo, as a read-log command in
/// the tests): an `asn` announcing each delivery before it is unloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct CentralCommand {
    /// The command (`asn`): the last level of its `cmd/{op}` topic.
    pub op: &'static str,
    /// Its JSON body.
    pub body: serde_json::Value,
}

/// Acts before the cycle starts.
const OPENING_ACTS: usize = 6;
/// Acts per cycle.
const CYCLE_ACTS: usize = 5;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl StoreScript {
    /// The demo store of `config` (one simulated reader per configured reader, antennas as
    /// configured) with its opening stock, and the script at its first act.
    pub fn new(seed: u64, start_ms: u64, config: &Config) -> (StoreScript, StoreSim) {
        let mut sim = StoreSim::new(seed, start_ms);
        for reader in config
            .readers
            .iter()
            .filter(|r| r.protocol() != Protocol::ShelfLink)
        {
            let antennas: Vec<(u16, &str)> = reader
                .antennas
                .iter()
                .map(|(port, location)| (*port, location.as_str()))
                .collect();
            sim.reader(&reader.id, ROUND_MS, &antennas, true);
        }
        // Shelf-a1 and shelf-a2 sit on one fixture: their antennas see a little of each other.
        sim.cross_read("shelf-a1", "shelf-a2", 0.15, 14.0);
        sim.cross_read("shelf-a2", "shelf-a1", 0.15, 14.0);
        let mut script = StoreScript {
            items: Vec::new(),
            step: 0,
            leaving: Vec::new(),
            delivered: Vec::new(),
            to_return: None,
            lane: config.lanes.first().map(|l| ShelfLane {
                reader: l.reader.clone().unwrap_or_default(),
                node: l.node,
                lane: l.lane,
                unit_weight: l.unit_weight,
                location: l.location.clone(),
                items: super::rig::LANE_STOCK,
            }),
            lane_moves: Vec::new(),
            commands: Vec::new(),
            shipments: 0,
        };
        // The lane's opening stock (the node reports it as its starting weight).
        script.lane_move(0);
        for (product, n, at) in [
            (SHIRT, 6, "shelf-a1"),
            (JEANS, 5, "shelf-a2"),
            (CAP, 4, "shelf-b1"),
            (SHIRT, 4, BACKROOM),
            (JEANS, 4, BACKROOM),
        ] {
            script.add(&mut sim, product, n, at);
        }
        (script, sim)
    }

    /// The commands central sends with the acts played since the last call.
    pub fn take_commands(&mut self) -> Vec<CentralCommand> {
        std::mem::take(&mut self.commands)
    }

    /// Announces a delivery of `qty` items of `product` to the dock (a class-level ASN) and
    /// returns its shipment id.
    fn announce(&mut self, product: usize, qty: u32) -> String {
        self.shipments += 1;
        let shipment = format!("SHP-{}", 1000 + self.shipments);
        let sku = shelfd_core::epc::gtin14(&sim_epc(PRODUCTS[product].number, 1))
            .expect("invariant: demo EPCs are SGTINs");
        self.commands.push(CentralCommand {
            op: "asn",
            body: serde_json::json!({
                "id": format!("demo-{shipment}"),
                "shipment": shipment,
                "dock": DOCK,
                "lines": [{"sku": sku, "qty": qty}],
            }),
        });
        shipment
    }

    /// The lane moves of the acts played since the last call (the player puts them on the
    /// simulated shelf node; tests turn them into lane records).
    pub fn take_lane_moves(&mut self) -> Vec<LaneMove> {
        std::mem::take(&mut self.lane_moves)
    }

    /// Records `units` items put on (or taken from) the weighed lane; returns the words for it.
    fn lane_move(&mut self, units: i16) -> Option<String> {
        let lane = self.lane.as_mut()?;
        let after = i64::from(lane.items) + i64::from(units);
        if after < 0 {
            return None;
        }
        lane.items = after as u32;
        self.lane_moves.push(LaneMove {
            reader: lane.reader.clone(),
            node: lane.node,
            lane: lane.lane,
            units,
            unit_weight: lane.unit_weight,
            after: lane.items,
        });
        let place = &lane.location;
        Some(match units {
            -1 => format!("a shopper takes a bottle of water from {place}"),
            u if u < 0 => format!("a shopper takes {} bottles of water from {place}", -u),
            u => format!("staff refill {place} with {u} bottles of water"),
        })
    }

    /// Applies the next act to `sim` and returns it. Never ends: after the opening acts the
    /// store cycles through restocking, sales and deliveries.
    pub fn next_act(&mut self, sim: &mut StoreSim) -> Act {
        let step = self.step;
        self.step += 1;
        let mut act = match step {
            0 => Act {
                say: "the store opens with stock on its shelves and in the backroom: \
                      shelfd reports it as a baseline snapshot, not as arrivals"
                    .into(),
                hold: secs(12),
            },
            1 => {
                let shipment = self.announce(CAP, 4);
                self.delivered = self.add(sim, CAP, 4, DOCK);
                Act {
                    say: format!(
                        "central announces shipment {shipment} (4 caps) for {DOCK}; \
                         it is unloaded at the receiving dock"
                    ),
                    hold: secs(4),
                }
            }
            2 => {
                let shirt = self.find(SHIRT, "shelf-a1");
                self.place(sim, shirt, Some("shelf-b1"));
                let jeans = self.find(JEANS, "shelf-a2");
                self.place(sim, jeans, Some(POS));
                self.leaving.extend(jeans);
                self.to_return = jeans;
                Act {
                    say: "a shopper leaves a shirt on the caps shelf (shelf-b1); \
                          another pays for a pair of jeans at the POS"
                        .into(),
                    hold: secs(3),
                }
            }
            3 => {
                let shirt = self.find(SHIRT, "shelf-a1");
                self.place(sim, shirt, Some(EXIT));
                self.leaving.extend(shirt);
                for i in self.leaving.clone() {
                    self.place(sim, Some(i), Some(EXIT));
                }
                Act {
                    say: "the paid jeans go out through the exit (no alarm); \
                          a shirt goes out unpaid (alarm)"
                        .into(),
                    hold: secs(3),
                }
            }
            4 => {
                self.carry_off(sim);
                let cap = self.find(CAP, "shelf-b1");
                self.place(sim, cap, None);
                Act {
                    say: "a cap vanishes from shelf-b1: it will depart as missing".into(),
                    hold: secs(3),
                }
            }
            5 => {
                for i in std::mem::take(&mut self.delivered) {
                    self.place(sim, Some(i), Some(BACKROOM));
                }
                Act {
                    say: "staff carry the delivered caps to the backroom".into(),
                    hold: secs(10),
                }
            }
            _ => {
                let n = step - OPENING_ACTS;
                self.cycle_act(sim, n / CYCLE_ACTS, n % CYCLE_ACTS)
            }
        };
        // From the third act on, shoppers take water steadily: the drinks shelf's forecast
        // learns the rate and warns before the lane runs low.
        if (2..OPENING_ACTS).contains(&step) {
            if let Some(water) = self.lane_move(-1) {
                act.say = format!("{}; {water}", act.say);
            }
        }
        act
    }

    /// Act `act` of cycle `cycle`.
    fn cycle_act(&mut self, sim: &mut StoreSim, cycle: usize, act: usize) -> Act {
        let restock = PRODUCTS[cycle % PRODUCTS.len()];
        let sale = (cycle + 1) % PRODUCTS.len();
        let deliver = cycle % 2 == 1;
        match act {
            0 => {
                let item = self.find(cycle % PRODUCTS.len(), BACKROOM);
                self.place(sim, item, Some(restock.home));
                let say = match item {
                    Some(_) => format!(
                        "restocking: staff bring {} from the backroom to {}",
                        restock.one, restock.home
                    ),
                    None => format!("the backroom has no {} left to restock", restock.some),
                };
                let low = self.lane.as_ref().is_some_and(|l| l.items <= 2);
                let refill = low
                    .then(|| {
                        let items = self.lane.as_ref().map_or(0, |l| l.items);
                        let units = super::rig::LANE_STOCK.saturating_sub(items);
                        self.lane_move(i16::try_from(units).unwrap_or(0))
                    })
                    .flatten();
                let say = match refill {
                    Some(refill) => format!("{say}; {refill}"),
                    None => say,
                };
                Act { say, hold: secs(6) }
            }
            1 => {
                let item = self
                    .find(sale, PRODUCTS[sale].home)
                    .or_else(|| self.find_on_shelves());
                self.place(sim, item, Some(POS));
                self.leaving.extend(item);
                let mut say = match item {
                    Some(i) => format!(
                        "a shopper pays for {} at the POS",
                        PRODUCTS[self.items[i].product].one
                    ),
                    None => "the shelves are empty: nothing to sell".into(),
                };
                if let Some(jeans) = self.to_return.take() {
                    self.place(sim, Some(jeans), Some(PRODUCTS[JEANS].home));
                    say.push_str("; a customer brings back the jeans bought earlier");
                }
                if let Some(water) = self.lane_move(-1) {
                    say.push_str("; ");
                    say.push_str(&water);
                }
                Act { say, hold: secs(3) }
            }
            2 => {
                for i in self.leaving.clone() {
                    self.place(sim, Some(i), Some(EXIT));
                }
                let mut say = "the shopper leaves with the paid item (no alarm)".to_owned();
                if cycle % 3 == 2 {
                    let thief = cycle % PRODUCTS.len();
                    if let Some(i) = self.find(thief, PRODUCTS[thief].home) {
                        self.place(sim, Some(i), Some(EXIT));
                        self.leaving.push(i);
                        say = format!(
                            "{say}; someone walks out with {} unpaid (alarm)",
                            PRODUCTS[thief].one
                        );
                    }
                }
                Act { say, hold: secs(3) }
            }
            3 => {
                self.carry_off(sim);
                if deliver {
                    let product = PRODUCTS[cycle % PRODUCTS.len()];
                    let shipment = self.announce(cycle % PRODUCTS.len(), 2);
                    self.delivered = self.add(sim, cycle % PRODUCTS.len(), 2, DOCK);
                    Act {
                        say: format!(
                            "shipment {shipment} (2 {}) is unloaded at the dock",
                            product.some
                        ),
                        hold: secs(5),
                    }
                } else {
                    Act {
                        say: "a quiet moment in the store".into(),
                        hold: secs(4),
                    }
                }
            }
            _ => {
                let delivered = std::mem::take(&mut self.delivered);
                let mut say: String = if delivered.is_empty() {
                    "shoppers browse".into()
                } else {
                    "staff carry the delivery to the backroom".into()
                };
                if let Some(water) = self.lane_move(-1) {
                    say.push_str("; ");
                    say.push_str(&water);
                }
                for i in delivered {
                    self.place(sim, Some(i), Some(BACKROOM));
                }
                Act { say, hold: secs(5) }
            }
        }
    }

    /// Adds `n` new items of `product` at `at`; returns their indices.
    fn add(
        &mut self,
        sim: &mut StoreSim,
        product: usize,
        n: usize,
        at: &'static str,
    ) -> Vec<usize> {
        let epcs = sim.add_tags(n, PRODUCTS[product].number, at, TagProfile::SHELF);
        epcs.into_iter()
            .map(|epc| {
                self.items.push(Item {
                    epc,
                    product,
                    at: Some(at),
                });
                self.items.len() - 1
            })
            .collect()
    }

    /// The first item of `product` at `at`.
    fn find(&self, product: usize, at: &str) -> Option<usize> {
        self.items
            .iter()
            .position(|i| i.product == product && i.at == Some(at))
    }

    /// The first item on any product's home shelf.
    fn find_on_shelves(&self) -> Option<usize> {
        self.items
            .iter()
            .position(|i| PRODUCTS.iter().any(|p| i.at == Some(p.home)))
    }

    fn place(&mut self, sim: &mut StoreSim, item: Option<usize>, to: Option<&'static str>) {
        if let Some(item) = item.and_then(|i| self.items.get_mut(i)) {
            item.at = to;
            sim.move_tag(&item.epc, to);
        }
    }

    /// Everything at the POS or the exit leaves the store.
    fn carry_off(&mut self, sim: &mut StoreSim) {
        for i in std::mem::take(&mut self.leaving) {
            self.place(sim, Some(i), None);
        }
    }
}

/// Plays `script` in real time through the simulated `readers` (reader id → rounds) and
/// shelf-node `buses` (reader id → remote) until `cancel`, sending each act's words to
/// `narration` as it starts; returns the simulation.
pub async fn play(
    mut script: StoreScript,
    mut sim: StoreSim,
    readers: HashMap<String, RoundSender>,
    buses: HashMap<String, NodeBusControls>,
    cancel: CancellationToken,
    narration: mpsc::UnboundedSender<String>,
    commands: mpsc::UnboundedSender<CentralCommand>,
) -> StoreSim {
    while !cancel.is_cancelled() {
        let act = script.next_act(&mut sim);
        for command in script.take_commands() {
            let _ = commands.send(command);
        }
        for moved in script.take_lane_moves() {
            // The opening stock is already on the simulated lane.
            if moved.units == 0 {
                continue;
            }
            if let Some(bus) = buses.get(&moved.reader) {
                let grams = f64::from(moved.units) * moved.unit_weight;
                if let Err(e) = bus.add_grams(moved.node, moved.lane, grams).await {
                    tracing::debug!(reader = %moved.reader, "lane move not played: {e}");
                }
            }
        }
        let _ = narration.send(act.say);
        let stop = cancel.child_token();
        let hold = act.hold;
        let timer = async {
            tokio::select! {
                _ = tokio::time::sleep(hold) => {}
                _ = cancel.cancelled() => {}
            }
            stop.cancel();
        };
        let (played, ()) = tokio::join!(
            play_store_sim(sim, readers.clone(), TICK, stop.clone()),
            timer
        );
        sim = played;
    }
    sim
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_store::EngineStore;
    use crate::store::MemoryStore;
    use shelfd_core::events::{DepartCause, Event, EventBody, ReceiptStatus};
    use shelfd_core::readlog::{LaneChange, LaneRecord, Record};

    const START: u64 = 1_795_338_000_000;

    /// Plays the script for `seconds` on a virtual clock through the real engine.
    fn events_of(seed: u64, seconds: u64) -> Vec<Event> {
        let config = super::super::demo_config();
        let (mut script, mut sim) = StoreScript::new(seed, START, &config);
        let mut es = EngineStore::open(&config, MemoryStore::new()).expect("engine");
        let mut events = Vec::new();
        while sim.now() < START + seconds * 1000 {
            let act = script.next_act(&mut sim);
            for c in script.take_commands() {
                es.feed(&Record::Command {
                    t: sim.now(),
                    op: c.op.into(),
                    command: c.body,
                })
                .expect("a valid command");
            }
            // What the shelf node would report: the pick or put once settled, then the weight.
            for moved in script.take_lane_moves() {
                let t = sim.now() + 1_500;
                let record = |change| {
                    Record::Lane(LaneRecord {
                        t,
                        reader: moved.reader.clone(),
                        node: moved.node,
                        lane: moved.lane,
                        change,
                    })
                };
                if moved.units != 0 {
                    let grams = f64::from(moved.units) * moved.unit_weight;
                    es.feed(&record(LaneChange::Units {
                        units: moved.units,
                        grams,
                    }))
                    .expect("known reader");
                }
                let grams = f64::from(moved.after) * moved.unit_weight;
                es.feed(&record(LaneChange::Weight { grams }))
                    .expect("known reader");
            }
            sim.run_for(u64::try_from(act.hold.as_millis()).expect("ms"));
            for record in sim.take_records() {
                es.feed(&record).expect("known reader");
            }
            events.extend(es.commit().expect("commit").0);
        }
        events
    }

    fn first(events: &[Event], pred: impl Fn(&EventBody) -> bool) -> Option<u64> {
        events
            .iter()
            .find(|e| pred(&e.body))
            .map(|e| (e.time_ms - START) / 1000)
    }

    #[test]
    fn every_kind_of_event_shows_within_forty_seconds() {
        for seed in [42, 7, 1234] {
            let events = events_of(seed, 40);
            let kinds: Vec<(&str, Option<u64>)> = vec![
                (
                    "arrived",
                    first(&events, |b| matches!(b, EventBody::TagArrived { .. })),
                ),
                (
                    "moved",
                    first(&events, |b| matches!(b, EventBody::TagMoved { .. })),
                ),
                (
                    "sold",
                    first(&events, |b| matches!(b, EventBody::TagSold { .. })),
                ),
                (
                    "exit",
                    first(&events, |b| matches!(b, EventBody::AlertExit { .. })),
                ),
                (
                    "missing",
                    first(&events, |b| {
                        matches!(
                            b,
                            EventBody::TagDeparted {
                                cause: DepartCause::Missing,
                                ..
                            }
                        )
                    }),
                ),
                (
                    "stock",
                    first(&events, |b| matches!(b, EventBody::StockChanged { .. })),
                ),
                (
                    "misplaced",
                    first(&events, |b| matches!(b, EventBody::AlertMisplaced { .. })),
                ),
                (
                    "low stock",
                    first(&events, |b| matches!(b, EventBody::AlertLowStock { .. })),
                ),
                (
                    "receipt",
                    first(&events, |b| {
                        matches!(
                            b,
                            EventBody::DockReceipt {
                                shipment: Some(s),
                                status: ReceiptStatus::Complete,
                                received: 4,
                                ..
                            } if s == "SHP-1001"
                        )
                    }),
                ),
            ];
            for (kind, at) in &kinds {
                assert!(
                    at.is_some_and(|s| s < 35),
                    "seed {seed}: {kind} at {at:?} s; events:\n{}",
                    events
                        .iter()
                        .map(super::super::describe)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            // Nothing arrives during the baseline; only one alarm (the unpaid shirt, not
            // the paid jeans); no stationary tag departs.
            assert!(
                first(&events, |b| matches!(b, EventBody::TagArrived { .. }))
                    .is_some_and(|s| s >= 12),
                "seed {seed}"
            );
            let alerts = events
                .iter()
                .filter(|e| matches!(e.body, EventBody::AlertExit { .. }))
                .count();
            assert_eq!(alerts, 1, "seed {seed}");
            let missing = events
                .iter()
                .filter(|e| {
                    matches!(
                        e.body,
                        EventBody::TagDeparted {
                            cause: DepartCause::Missing,
                            ..
                        }
                    )
                })
                .count();
            assert_eq!(missing, 1, "seed {seed}: a stationary tag departed");
            // The opening moves: the misplaced shirt and the caps to the backroom (the
            // restocking at 35 s starts the cycle).
            let moves: Vec<(&str, &str)> = events
                .iter()
                .filter(|e| e.time_ms < START + 35_000)
                .filter_map(|e| match &e.body {
                    EventBody::TagMoved { from, to, .. } => Some((from.as_str(), to.as_str())),
                    _ => None,
                })
                .collect();
            assert_eq!(moves.len(), 5, "seed {seed}: {moves:?}");
            assert!(moves.contains(&("shelf-a1", "shelf-b1")), "{moves:?}");
            assert_eq!(
                moves.iter().filter(|m| **m == (DOCK, BACKROOM)).count(),
                4,
                "{moves:?}"
            );
        }
    }

    #[test]
    fn the_cycle_keeps_going_with_sales_returns_and_deliveries() {
        let events = events_of(42, 10 * 60);
        let count = |pred: fn(&EventBody) -> bool| events.iter().filter(|e| pred(&e.body)).count();
        assert!(count(|b| matches!(b, EventBody::TagSold { .. })) >= 20);
        assert_eq!(count(|b| matches!(b, EventBody::TagReturned { .. })), 1);
        assert!(count(|b| matches!(b, EventBody::AlertExit { .. })) >= 5);
        assert!(count(|b| matches!(b, EventBody::TagArrived { .. })) >= 20);
        // Seqs are contiguous (the engine's contract, here over a long script).
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
        }
    }

    #[test]
    fn the_water_bottles_are_counted_by_weight() {
        let events = events_of(42, 5 * 60);
        let water: Vec<(i64, u64)> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::StockChanged {
                    location,
                    sku: Some(sku),
                    delta,
                    count,
                } if location == "shelf-c1" && sku == WATER_GTIN => Some((*delta, *count)),
                _ => None,
            })
            .collect();
        // Bottles taken steadily, the lane refilled once it is down to two, from 8 at opening
        // (the baseline); every published count follows from the deltas.
        assert!(water.len() >= 5, "{water:?}");
        assert!(water.iter().any(|w| w.0 < 0) && water.iter().any(|w| w.0 > 0));
        let mut count = 8i64;
        for (delta, published) in &water {
            count += delta;
            assert_eq!(count, *published as i64, "{water:?}");
        }
    }

    #[test]
    fn the_drinks_forecast_warns_before_the_low_stock_it_predicts() {
        for seed in [42, 7] {
            let events = events_of(seed, 4 * 60);
            let at_c1 = |pred: fn(&EventBody) -> bool| -> Vec<u64> {
                events
                    .iter()
                    .filter(|e| pred(&e.body))
                    .map(|e| (e.time_ms - START) / 1000)
                    .collect()
            };
            let forecast = at_c1(|b| {
                matches!(b, EventBody::AlertStockoutForecast { location, sku: Some(s), .. }
                    if location == "shelf-c1" && s == WATER_GTIN)
            });
            let low = at_c1(
                |b| matches!(b, EventBody::AlertLowStock { location, .. } if location == "shelf-c1"),
            );
            let lines = || {
                events
                    .iter()
                    .map(super::super::describe)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            // Within the 40 s of the live demo, and before every low-stock alert of the shelf;
            // each refill re-arms both, so the pattern repeats.
            assert!(
                forecast.first().is_some_and(|s| *s < 40),
                "seed {seed}: {forecast:?} {low:?}\n{}",
                lines()
            );
            assert!(low.len() >= 2, "seed {seed}: {low:?}\n{}", lines());
            for l in &low {
                assert!(
                    forecast.iter().filter(|f| *f < l).count()
                        > low.iter().filter(|m| *m < l).count(),
                    "seed {seed}: a low-stock alert at {l} s without a forecast alert before it: \
                     forecasts {forecast:?}, low {low:?}\n{}",
                    lines()
                );
            }
        }
    }

    #[test]
    fn catalog_names_the_demo_gtins() {
        let catalog = Catalog::demo();
        assert_eq!(catalog.name("00614141000012"), Some("shirt"));
        assert_eq!(catalog.name("00614141000029").map(str::len), Some(5));
        assert_eq!(catalog.name("12345678901231"), None);
    }
}
