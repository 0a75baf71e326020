//! Build script of `shelf-node`: only for bare-metal Arm targets, puts the example board's
//! memory map (`examples/memory.x`) on the linker's search path and links the examples with
//! cortex-m-rt's `link.x`, so `examples/node_image.rs` links into a real image. It does nothing
//! for the library itself and nothing on the host.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=examples/memory.x");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os == "none" && arch == "arm" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        println!("cargo:rustc-link-search={dir}/examples");
        println!("cargo:rustc-link-arg-examples=-Tlink.x");
    }
}
