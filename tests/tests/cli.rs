//! scratch
#[test]
fn nested_build() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("cargo={cargo} exe={:?}", std::env::current_exe());
    let out = std::process::Command::new(cargo)
        .args(["build", "-p", "shelfd", "--bin", "shelfd"])
        .output()
        .expect("spawn");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
}
