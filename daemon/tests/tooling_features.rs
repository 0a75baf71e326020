//! `shelfd demo` and `shelfd bench` in a binary built without their features (`cargo test -p
//! shelfd`): the subcommands exist, print one line naming the cargo command that has them and
//! exit 2. Under `cargo test --workspace` the e2e crate turns the features on and these checks
//! have nothing to check (the e2e tests run the real demo).

use std::process::Command;

/// Runs the package's own binary with `args`; (exit code, stderr).
fn shelfd(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shelfd"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run shelfd");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    (
        out.status.code(),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

#[test]
fn demo_without_its_feature_says_how_to_get_it() {
    if cfg!(feature = "demo") {
        return;
    }
    let (code, stderr) = shelfd(&["demo", "--for", "1s"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "shelfd demo: not built into this binary; run `cargo run --release -p shelfd \
         --features demo -- demo`\n"
    );
}

#[test]
fn bench_without_its_feature_says_how_to_get_it() {
    if cfg!(feature = "bench") {
        return;
    }
    let (code, stderr) = shelfd(&["bench", "--only", "engine"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "shelfd bench: not built into this binary; run `cargo run --release -p shelfd \
         --features bench -- bench`\n"
    );
}
