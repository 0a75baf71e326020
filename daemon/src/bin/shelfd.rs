//! `shelfd` command line: wires the library's commands to clap.
fn main() {}
