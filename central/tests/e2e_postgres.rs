//! The fleet with faults (see `fleet/mod.rs`) against central on a real PostgreSQL.

mod fleet;

#[test]
fn fleet_with_faults_on_postgres() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pg = shelfd_testkit::Postgres::start();
    let url = pg.create_db("central");
    fleet::run_fleet(tmp.path(), &url);
}
