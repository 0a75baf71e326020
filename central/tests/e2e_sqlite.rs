//! The fleet with faults (see `fleet/mod.rs`) against central on SQLite.

mod fleet;

#[test]
fn fleet_with_faults_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", tmp.path().join("central.db").display());
    fleet::run_fleet(tmp.path(), &url);
}
