//! Simulated node hardware for the host: a seeded, noisy load cell and a whole node on
//! simulated scales that speaks shelf-link bytes. The daemon's node simulator (over a PTY) and
//! this crate's end-to-end tests run the real [`Node`] on it. Owns only the simulation (weights,
//! noise, time); it never touches real hardware or a real clock, and the same seed always gives
//! the same bytes.

use crate::link::FirmwareVersion;
use crate::node::{Node, NodeConfig};
use crate::scale::{NOMINAL_COUNTS_PER_KG, SensorFault, WeightSensor};

/// Events a simulated node keeps unacknowledged.
pub const SIM_QUEUE: usize = 32;

/// A small deterministic generator (xorshift64*), so simulations repeat exactly.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator from `seed` (any value). Distinct seeds give distinct streams: the seed goes
    /// through splitmix64's finaliser, a bijection, and the one seed it maps to 0 (a dead state
    /// for xorshift) is moved off it.
    pub fn new(seed: u64) -> SimRng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        SimRng(if z == 0 { 0x9E37_79B9_7F4A_7C15 } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Roughly normal noise with standard deviation `sigma` (a sum of four uniforms).
    pub fn noise(&mut self, sigma: i64) -> i64 {
        if sigma == 0 {
            return 0;
        }
        // Four uniforms on [-s, s] have variance 4 s²/3; s = sigma·√3/2 gives sigma.
        let span = (sigma * 866 / 1000).max(1);
        (0..4)
            .map(|_| self.below(2 * span as u64 + 1) as i64 - span)
            .sum()
    }
}

/// A load cell on an HX711 that never was: the weight the simulation puts on it, converted to
/// counts with a fixed offset and factor, plus seeded noise, one sample per period.
#[derive(Debug, Clone)]
pub struct SimulatedScale {
    weight_mg: i64,
    /// Reading of the empty lane.
    pub offset_counts: i32,
    /// Counts per kilogram.
    pub counts_per_kg: i32,
    /// Standard deviation of the noise, in milligrams.
    pub noise_mg: i64,
    /// Time between samples, in ms (100: an HX711 at 10 samples/s).
    pub period_ms: u64,
    now_ms: u64,
    next_sample_ms: u64,
    failed: bool,
    rng: SimRng,
}

impl SimulatedScale {
    /// An empty scale with an offset of 84 000 counts, the nominal factor, 300 mg of noise and
    /// 10 samples/s.
    pub fn new(seed: u64) -> SimulatedScale {
        SimulatedScale {
            weight_mg: 0,
            offset_counts: 84_000,
            counts_per_kg: NOMINAL_COUNTS_PER_KG,
            noise_mg: 300,
            period_ms: 100,
            now_ms: 0,
            next_sample_ms: 0,
            failed: false,
            rng: SimRng::new(seed),
        }
    }

    /// The weight on the scale, in milligrams.
    pub fn weight_mg(&self) -> i64 {
        self.weight_mg
    }

    /// Puts `mg` on the scale (replacing what was there).
    pub fn set_weight_mg(&mut self, mg: i64) {
        self.weight_mg = mg;
    }

    /// Adds (or with a negative value removes) `mg`.
    pub fn add_mg(&mut self, mg: i64) {
        self.weight_mg += mg;
    }

    /// Stops (or restarts) conversions, as a chip with a broken supply would.
    pub fn set_failed(&mut self, failed: bool) {
        self.failed = failed;
    }

    /// Moves the scale's clock.
    pub fn set_time(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    fn counts(&mut self) -> i32 {
        let mg = self.weight_mg + self.rng.noise(self.noise_mg);
        let counts = i64::from(self.offset_counts) + mg * i64::from(self.counts_per_kg) / 1_000_000;
        counts.clamp(-8_388_608, 8_388_607) as i32
    }
}

impl WeightSensor for SimulatedScale {
    fn poll_sample(&mut self) -> Option<Result<i32, SensorFault>> {
        if self.failed || self.now_ms < self.next_sample_ms {
            return None;
        }
        self.next_sample_ms = self.now_ms + self.period_ms;
        Some(Ok(self.counts()))
    }
}

/// A whole node on simulated scales: the real [`Node`] state machine, time that moves only when
/// told, and bytes in, bytes out.
///
/// ```
/// use shelf_node::link::{Command, Frame, FrameAccumulator, Report};
/// use shelf_node::sim::NodeSimulator;
///
/// let mut sim = NodeSimulator::<2>::with_address(5, 42);
/// let mut poll = [0u8; shelf_node::link::MAX_FRAME_LEN];
/// let n = Frame::new(5, 0, Command::Poll).encode(&mut poll).unwrap();
/// let mut answers = FrameAccumulator::new();
/// let mut got = None;
/// sim.on_bytes(&poll[..n], |bytes| answers.feed_each(bytes, |f| got = Some(f.unwrap().decode::<Report>().unwrap())));
/// assert!(matches!(got.unwrap().message, Report::Hello { lanes: 2, .. }));
/// ```
#[derive(Debug, Clone)]
pub struct NodeSimulator<const LANES: usize> {
    node: Node<LANES, SIM_QUEUE>,
    scales: [SimulatedScale; LANES],
    now_ms: u64,
}

impl<const LANES: usize> NodeSimulator<LANES> {
    /// A node booted at time 0 on empty simulated scales (seeded from `seed`).
    pub fn new(config: NodeConfig, seed: u64) -> Self {
        NodeSimulator {
            node: Node::new(config, 0),
            scales: core::array::from_fn(|lane| {
                SimulatedScale::new(seed.wrapping_mul(31).wrapping_add(lane as u64))
            }),
            now_ms: 0,
        }
    }

    /// A node at `address` with node id `0x5100_0000 + address`, firmware 1.0.0 and event
    /// numbers starting from `seed` (a different boot, a different start).
    pub fn with_address(address: u8, seed: u64) -> Self {
        let config = NodeConfig::new(
            address,
            0x5100_0000 + u64::from(address),
            FirmwareVersion {
                major: 1,
                minor: 0,
                patch: 0,
            },
            seed as u16,
        );
        Self::new(config, seed)
    }

    /// The node.
    pub fn node(&self) -> &Node<LANES, SIM_QUEUE> {
        &self.node
    }

    /// The node, to change it (tag reads, calibration).
    pub fn node_mut(&mut self) -> &mut Node<LANES, SIM_QUEUE> {
        &mut self.node
    }

    /// A lane's simulated scale (`None` past the last lane).
    pub fn scale_mut(&mut self, lane: usize) -> Option<&mut SimulatedScale> {
        self.scales.get_mut(lane)
    }

    /// Simulated time since boot, in ms.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Lets `ms` of simulated time pass in 10 ms steps, sampling the scales as they convert.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        while self.now_ms < end {
            self.now_ms = (self.now_ms + 10).min(end);
            for scale in &mut self.scales {
                scale.set_time(self.now_ms);
            }
            self.node.poll_sensors(self.now_ms, &mut self.scales);
        }
    }

    /// Bytes from the bus in; `send` gets each answer's bytes.
    pub fn on_bytes(&mut self, bytes: &[u8], send: impl FnMut(&[u8])) {
        self.node.on_bytes(self.now_ms, bytes, send);
    }

    /// Bytes from the bus in, the answers' bytes out (host helper).
    #[cfg(feature = "std")]
    pub fn on_bytes_vec(&mut self, bytes: &[u8]) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        self.on_bytes(bytes, |answer| out.extend_from_slice(answer));
        out
    }
}
