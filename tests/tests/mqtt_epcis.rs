//! GS1 EPCIS 2.0 output of `shelfd run` against a real Mosquitto: with `[epcis]` enabled, every
//! event that has an EPCIS meaning is followed by its EPCISDocument on the `epcis` topic, with
//! the eventID of the event's seq, and a broker restart mid-stream loses no document (an entry
//! leaves the outbox only when both its packets were acknowledged).

use serde_json::Value;
use shelfd::publish::epcis::{MAPPED_TYPES, epc_uri, event_id::event_id};
use shelfd_testkit::Daemon;
use shelfd_testkit::Mosquitto;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use shelfd_testkit::{Msg, Subscriber};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const EPCIS_TOPIC: &str = "shelfd/v1/s1/gw-1/epcis";

fn setup(dir: &Path, tags: usize, speed: f64, port: u16) -> std::path::PathBuf {
    churn_log(&dir.join("reads.jsonl"), 11, tags, 100, 5_000);
    churn_config(speed)
        .mqtt_port(port)
        .table("epcis", "enabled", true)
        .table("epcis", "time_zone_offset", "+01:00")
        .table("epcis", "location_uri_prefix", "urn:example:s1:loc:")
        .write(dir)
}

fn documents(msgs: &[Msg]) -> Vec<&Value> {
    msgs.iter()
        .filter(|m| m.topic == EPCIS_TOPIC)
        .map(|m| &m.json)
        .collect()
}

fn doc_event(doc: &Value) -> &Value {
    &doc["epcisBody"]["eventList"][0]
}

#[test]
fn one_document_per_mappable_event_with_its_seq_as_event_id_through_a_broker_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-epcis", "shelfd/v1/s1/gw-1/#");
    let config = setup(tmp.path(), 120, 3.0, broker.port);
    let mut daemon = Daemon::start(&config);
    sub.wait_for("the first EPCIS documents", LONG, |m| {
        documents(m).len() >= 10
    });
    broker.stop();
    daemon.wait_log("lost the broker connection", LONG);
    broker.restart();
    daemon.wait_log("replay source finished", LONG);
    daemon.stop();
    let last = daemon.final_next_seq() - 1;
    sub.wait_for("every event", LONG, |_| {
        sub.seqs().iter().collect::<BTreeSet<_>>().len() as u64 >= last
    });

    // The events as received (first copy of each seq): which of them have an EPCIS meaning.
    let msgs = sub.msgs();
    let mut events: BTreeMap<u64, &Value> = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.topic.contains("/event/")) {
        let seq = m.json["seq"].as_u64().expect("seq");
        events.entry(seq).or_insert(&m.json);
    }
    assert_eq!(
        events.keys().copied().collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>(),
        "every event arrived"
    );
    let mappable: BTreeMap<String, &Value> = events
        .iter()
        .filter(|(_, e)| {
            MAPPED_TYPES
                .iter()
                .any(|k| e["type"].as_str() == Some(k.as_str()))
        })
        .map(|(seq, e)| (event_id("s1", "gw-1", *seq), *e))
        .collect();
    assert!(
        mappable.len() >= 60,
        "expected arrivals of most of the 120 tags, got {}",
        mappable.len()
    );
    sub.wait_for("a document for every mappable event", LONG, |m| {
        documents(m)
            .iter()
            .filter_map(|d| doc_event(d)["eventID"].as_str())
            .collect::<BTreeSet<_>>()
            .len()
            >= mappable.len()
    });

    let msgs = sub.msgs();
    let docs = documents(&msgs);
    let mut first_copy: BTreeMap<&str, &Value> = BTreeMap::new();
    for doc in &docs {
        let e = doc_event(doc);
        let id = e["eventID"].as_str().expect("eventID");
        match first_copy.get(id) {
            // A re-sent document (its PUBACK was lost with the broker) is the same document.
            Some(first) => assert_eq!(first, doc, "a re-sent document differs"),
            None => {
                first_copy.insert(id, doc);
            }
        }
    }
    assert_eq!(
        first_copy.keys().copied().collect::<Vec<_>>(),
        mappable.keys().map(String::as_str).collect::<Vec<_>>(),
        "exactly the mappable events have documents, matched by eventID"
    );
    for (id, doc) in &first_copy {
        let event = mappable[*id];
        assert_eq!(doc["@context"][0], shelfd::publish::epcis::CONTEXT);
        assert_eq!(
            (doc["type"].as_str(), doc["schemaVersion"].as_str()),
            (Some("EPCISDocument"), Some("2.0"))
        );
        assert_eq!(doc["creationDate"], event["time"]);
        let e = doc_event(doc);
        assert_eq!(e["eventTime"], event["time"]);
        assert_eq!(e["eventTimeZoneOffset"], "+01:00");
        assert_eq!(e["action"], "OBSERVE");
        assert_eq!(
            event["type"], "tag.arrived",
            "the churn log only stocks shelves"
        );
        assert_eq!(
            (e["bizStep"].as_str(), e["disposition"].as_str()),
            (Some("stocking"), Some("sellable_accessible"))
        );
        let location = event["location"].as_str().expect("location");
        let uri = format!("urn:example:s1:loc:{location}");
        assert_eq!(e["readPoint"]["id"], uri);
        assert_eq!(e["bizLocation"]["id"], uri);
        let epc = epc_uri(event["epc"].as_str().expect("epc")).expect("hex EPC");
        assert_eq!(e["epcList"], serde_json::json!([epc]));
    }
    // Documents are published unretained.
    assert!(
        msgs.iter()
            .filter(|m| m.topic == EPCIS_TOPIC)
            .all(|m| !m.retain)
    );
}
