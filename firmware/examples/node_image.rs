//! The smallest shelf-node firmware: the real [`Node`] state machine with four HX711 lanes and
//! its RS-485 UART, over dummy HAL implementations whose inputs the optimiser cannot predict
//! (`core::hint::black_box`). It does nothing useful; it exists so that the size of what the
//! crate puts on a microcontroller can be measured (BENCHMARKS.md, "Shelf-node footprint"):
//!
//! ```sh
//! cargo build -p shelf-node --target thumbv7em-none-eabihf --release --example node_image
//! llvm-size -A target/thumbv7em-none-eabihf/release/examples/node_image
//! ```
//!
//! On `thumbv7em-none-eabihf` it is a `no_std`, `no_main` image linked with cortex-m-rt (vector
//! table, reset handler, `.data`/`.bss` set-up) for the memory map in `examples/memory.x`; the
//! node lives in a `static` (`.bss`), so its RAM shows in the image's size. On the host it
//! builds as an ordinary program that runs the same loop for a simulated second, so
//! `cargo test --workspace` keeps compiling it.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

use core::convert::Infallible;
use core::hint::black_box;
use shelf_node::hx711::{Hx711, Hx711Config};
use shelf_node::link::FirmwareVersion;
use shelf_node::node::{Node, NodeConfig};

/// Load-cell lanes of the example board.
const LANES: usize = 4;
/// Unacknowledged events the node keeps.
const QUEUE: usize = 16;

/// A GPIO pin of the dummy board: writes go nowhere, reads are opaque to the optimiser.
struct BoardPin;

impl embedded_hal::digital::ErrorType for BoardPin {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for BoardPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        black_box(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        black_box(true);
        Ok(())
    }
}

impl embedded_hal::digital::InputPin for BoardPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(black_box(false))
    }
    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!black_box(false))
    }
}

/// The dummy board's microsecond timer.
struct BoardDelay;

impl embedded_hal::delay::DelayNs for BoardDelay {
    fn delay_ns(&mut self, ns: u32) {
        black_box(ns);
    }
}

/// The dummy board's RS-485 UART: `arrive` puts bytes in its receive buffer, writes are
/// swallowed.
struct BoardUart {
    rx: [u8; 32],
    len: usize,
    at: usize,
}

impl BoardUart {
    fn arrive(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.rx.len());
        self.rx[..n].copy_from_slice(&bytes[..n]);
        self.len = n;
        self.at = 0;
    }
}

impl embedded_io::ErrorType for BoardUart {
    type Error = Infallible;
}

impl embedded_io::Read for BoardUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.len - self.at);
        buf[..n].copy_from_slice(&self.rx[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl embedded_io::ReadReady for BoardUart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.at < self.len)
    }
}

impl embedded_io::Write for BoardUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(black_box(buf).len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

type Lane = Hx711<BoardPin, BoardPin, BoardDelay>;

/// The board: its lanes, its UART and a millisecond clock.
struct Board {
    lanes: [Lane; LANES],
    uart: BoardUart,
    now_ms: u64,
}

impl Board {
    fn new() -> Board {
        Board {
            lanes: core::array::from_fn(|_| {
                Hx711::new(BoardPin, BoardPin, BoardDelay, Hx711Config::default())
                    .expect("invariant: the board's pins cannot fail")
            }),
            uart: BoardUart {
                rx: [0; 32],
                len: 0,
                at: 0,
            },
            now_ms: 0,
        }
    }

    fn config() -> NodeConfig {
        NodeConfig::new(
            black_box(1),
            black_box(0x5100_0001),
            FirmwareVersion {
                major: 1,
                minor: 0,
                patch: 0,
            },
            black_box(0),
        )
    }

    /// One pass of the main loop: sample the lanes, serve the bus, blink.
    fn step(&mut self, node: &mut Node<LANES, QUEUE>) {
        self.now_ms += 1;
        node.poll_sensors(self.now_ms, &mut self.lanes);
        let mut received = [0u8; 16];
        black_box(&mut received);
        self.uart.arrive(&received);
        if let Err(never) = node.serve_uart(self.now_ms, &mut self.uart) {
            match never {}
        }
        black_box(node.identifying(self.now_ms));
    }
}

#[cfg(target_os = "none")]
#[cortex_m_rt::entry]
fn main() -> ! {
    static mut NODE: Option<Node<LANES, QUEUE>> = None;
    let node = NODE.insert(Node::new(Board::config(), 0));
    let mut board = Board::new();
    loop {
        board.step(node);
    }
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    let mut node = Node::<LANES, QUEUE>::new(Board::config(), 0);
    let mut board = Board::new();
    for _ in 0..1_000 {
        board.step(&mut node);
    }
    println!(
        "node image on the host: {} bytes of node state, {} events queued after 1 s",
        core::mem::size_of::<Node<LANES, QUEUE>>(),
        node.queued()
    );
}
