//! Packaging: the `cargo deb` metadata names files that exist and installs the example config as
//! a conffile without starting the service; the systemd unit keeps the directives an installer
//! relies on; and systemd itself accepts the unit (`systemd-analyze verify`) and scores its
//! hardening (`systemd-analyze security`), run against the binary these tests built; and the
//! daemon as packaged (no features) does not depend on the demo's embedded broker.

use std::path::Path;
use std::process::Command;

fn deb_metadata() -> toml::Table {
    let path = shelfd_testkit::workspace_root().join("daemon/Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("daemon/Cargo.toml");
    let manifest: toml::Table = text.parse().expect("daemon/Cargo.toml parses");
    manifest["package"]["metadata"]["deb"]
        .as_table()
        .expect("[package.metadata.deb]")
        .clone()
}

#[test]
fn deb_assets_exist_and_the_config_is_a_conffile_of_a_service_not_started() {
    let deb = deb_metadata();
    let daemon = shelfd_testkit::workspace_root().join("daemon");
    let assets = deb["assets"].as_array().expect("assets");
    let mut destinations = Vec::new();
    for asset in assets {
        let fields: Vec<&str> = asset
            .as_array()
            .expect("an asset is [source, destination, mode]")
            .iter()
            .map(|v| v.as_str().expect("asset fields are strings"))
            .collect();
        let [source, dest, mode] = fields[..] else {
            panic!("asset {fields:?} is not [source, destination, mode]");
        };
        assert!(
            u32::from_str_radix(mode, 8).is_ok(),
            "asset {source}: mode {mode} is not octal"
        );
        if source.starts_with("target/") {
            assert_eq!(
                (source, dest),
                ("target/release/shelfd", "usr/bin/"),
                "the only built asset is the binary"
            );
        } else {
            assert!(
                daemon.join(source).is_file(),
                "asset source {source} does not exist"
            );
        }
        destinations.push(format!("/{dest}"));
    }
    for conf in deb["conf-files"].as_array().expect("conf-files") {
        let conf = conf.as_str().expect("conf-file path");
        assert!(
            destinations.iter().any(|d| d == conf),
            "conf-file {conf} is not installed by any asset"
        );
    }
    assert!(destinations.iter().any(|d| d == "/etc/shelfd/shelfd.toml"));
    let units = deb["systemd-units"].as_table().expect("systemd-units");
    assert_eq!(
        units["enable"].as_bool(),
        Some(false),
        "not enabled on install"
    );
    assert_eq!(
        units["start"].as_bool(),
        Some(false),
        "not started on install"
    );
    let unit_dir = daemon.join(units["unit-scripts"].as_str().expect("unit-scripts"));
    assert!(unit_dir.join("shelfd.service").is_file());
    let postinst = daemon.join(
        deb["maintainer-scripts"]
            .as_str()
            .expect("maintainer-scripts"),
    );
    let postinst = std::fs::read_to_string(postinst.join("postinst")).expect("postinst");
    assert!(postinst.contains("#DEBHELPER#"));
    let commands: Vec<&str> = postinst
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert!(
        !commands.iter().any(|l| l.contains("systemctl")),
        "postinst must neither enable nor start the service: {commands:?}"
    );
}

fn unit_text() -> String {
    std::fs::read_to_string(shelfd_testkit::workspace_root().join("systemd/shelfd.service"))
        .expect("systemd/shelfd.service")
}

#[test]
fn unit_keeps_the_directives_the_service_relies_on() {
    let unit = unit_text();
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for want in [
        "Type=notify",
        "WatchdogSec=30s",
        "Restart=on-failure",
        "RestartPreventExitStatus=78",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=shelfd",
        "SupplementaryGroups=dialout gpio",
        "StateDirectory=shelfd",
        "ConfigurationDirectory=shelfd",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "DevicePolicy=closed",
        "DeviceAllow=char-ttyUSB rw",
        "DeviceAllow=char-ttyACM rw",
        "DeviceAllow=char-ttyAMA rw",
        "DeviceAllow=char-gpiochip rw",
        "SystemCallFilter=@system-service",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    ] {
        assert!(lines.contains(&want), "shelfd.service lacks `{want}`");
    }
    // The config directory names in the unit and in the files the package installs agree.
    assert!(unit.contains("/etc/shelfd/shelfd.toml"));
}

/// `systemd-analyze`; the test command (tests/run-all.sh) installs systemd when it is missing.
fn systemd_analyze(args: &[&str], unit: &Path) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .arg(unit)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run systemd-analyze ({e}): install systemd (tests/run-all.sh does)")
        })
}

#[test]
fn systemd_verifies_the_unit_and_scores_its_hardening() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The unit as installed, with ExecStart pointing at the binary these tests built (verify
    // checks that the executables exist).
    let bin = shelfd_testkit::shelfd_bin()
        .to_str()
        .expect("utf-8 binary path");
    let unit = unit_text().replace("/usr/bin/shelfd", bin);
    let path = dir.path().join("shelfd.service");
    std::fs::write(&path, unit).expect("write unit");

    let verify = systemd_analyze(&["verify", "--man=no"], &path);
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success(),
        "systemd-analyze verify failed: {complaints}"
    );
    let own: Vec<&str> = complaints
        .lines()
        .filter(|l| l.contains("shelfd.service"))
        .collect();
    assert!(own.is_empty(), "systemd-analyze verify complains: {own:?}");

    let security = systemd_analyze(&["security", "--offline=true", "--no-pager"], &path);
    let report = String::from_utf8_lossy(&security.stdout);
    let score: f64 = report
        .lines()
        .find_map(|l| l.split("Overall exposure level for shelfd.service:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {report}"));
    // 0 is fully locked down, 10 fully exposed; serial and GPIO access keep us above 0.
    assert!(score <= 2.0, "exposure level {score} > 2.0:\n{report}");
}

/// The names of the normal (non-dev, non-build) dependencies of `shelfd` with `features`, as
/// `cargo tree` resolves them from the lock file.
fn shelfd_dependencies(features: &[&str]) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(shelfd_testkit::workspace_root()).args([
        "tree",
        "--locked",
        "--offline",
        "-p",
        "shelfd",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.output().expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_daemon_without_features_does_not_depend_on_the_demo_broker() {
    let plain = shelfd_dependencies(&[]);
    assert!(plain.iter().any(|p| p == "rumqttc"), "{plain:?}");
    assert!(
        !plain.iter().any(|p| p == "rumqttd"),
        "rumqttd is a dependency of shelfd without features: {plain:?}"
    );
    let demo = shelfd_dependencies(&["demo"]);
    assert!(
        demo.iter().any(|p| p == "rumqttd"),
        "--features demo must bring the embedded broker: {demo:?}"
    );
}
