//! The one-inventory API in-process on a real socket, over a SQLite file filled through the
//! apply rules: the whole role × route matrix (allowed, 403, 401), staff scoped to their
//! stores, availability and ATP, reservations refused with the numbers, fulfilled, cancelled and
//! expiring by themselves, demand per day and per category, and `central/openapi.yaml` held to
//! the routes and roles the server enforces.

use serde_json::{Value, json};
use shelfd_central::api::{ApiState, Route, router};
use shelfd_central::apply::{Applier, Message, classify};
use shelfd_central::auth::{Role, Tokens, new_token};
use shelfd_central::db::{DbUrl, Pool};
use shelfd_central::inventory::Areas;
use shelfd_central::products::Products;
use shelfd_core::events::{Event, EventBody, Origin, StockSnapshot};
use shelfd_testkit::central::http;
use shelfd_testkit::wait_until;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const GTIN: &str = "80614141123458";
const GTIN2: &str = "00614141000012";
const EPC: &str = "3074257bf7194e4000001a85";

struct Api {
    port: u16,
    tokens: BTreeMap<&'static str, String>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn msg(topic_tail: &str, payload: String) -> Message {
    classify(
        "shelfd/v1",
        &format!("shelfd/v1/s1/g1/{topic_tail}"),
        payload.as_bytes(),
    )
    .expect("classifies")
}

fn event(seq: u64, time_ms: u64, body: EventBody) -> Message {
    let kind = body.kind();
    let origin = Origin {
        store: "s1".into(),
        gateway: "g1".into(),
    };
    msg(
        &format!("event/{kind}"),
        Event { seq, time_ms, body }.to_json(&origin),
    )
}

fn start() -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = DbUrl::parse(&format!("sqlite:{}", dir.path().join("c.db").display())).expect("url");
    let mut db = url.open_migrated().expect("db");
    // Store s1, gateway g1: 5 on the shelf and 3 in the backroom of GTIN; an item's life; sales
    // on two days; an alert.
    let origin = Origin {
        store: "s1".into(),
        gateway: "g1".into(),
    };
    let day1 = 1_795_341_600_000; // 2026-11-22
    let day2 = day1 + 86_400_000;
    let snap = |location: &str, n: u64| {
        msg(
            &format!("stock/{location}"),
            StockSnapshot {
                location: location.into(),
                time_ms: day1,
                counts: BTreeMap::from([(GTIN.to_string(), n)]),
                baseline: true,
                as_of_seq: 0,
                forecast: BTreeMap::new(),
            }
            .to_json(&origin),
        )
    };
    let sku = || Some(GTIN.to_string());
    let messages = vec![
        snap("shelf-a", 5),
        snap("backroom-1", 3),
        event(
            1,
            day1,
            EventBody::TagArrived {
                epc: EPC.into(),
                sku: sku(),
                location: "backroom-1".into(),
            },
        ),
        event(
            2,
            day1 + 1,
            EventBody::TagMoved {
                epc: EPC.into(),
                sku: sku(),
                from: "backroom-1".into(),
                to: "shelf-a".into(),
            },
        ),
        event(
            3,
            day1 + 2,
            EventBody::TagSold {
                epc: EPC.into(),
                sku: sku(),
                location: "pos-1".into(),
                from: "shelf-a".into(),
            },
        ),
        event(
            4,
            day2,
            EventBody::TagSold {
                epc: "3074257bf7194e4000001a86".into(),
                sku: sku(),
                location: "pos-1".into(),
                from: "shelf-a".into(),
            },
        ),
        event(
            5,
            day2,
            EventBody::TagSold {
                epc: "3074257bf7194e4000001a87".into(),
                sku: Some(GTIN2.into()),
                location: "pos-1".into(),
                from: "shelf-b".into(),
            },
        ),
        event(
            6,
            day2,
            EventBody::AlertLowStock {
                location: "shelf-b".into(),
                sku: Some(GTIN2.into()),
                count: 0,
                threshold: 2,
            },
        ),
    ];
    Applier::new("shelfd/v1", 1000, 10_000, "api-test")
        .apply_batch(db.as_mut(), &messages, day2)
        .expect("apply");
    let mut tokens = BTreeMap::new();
    let mut file = String::new();
    for (name, role, stores) in [
        ("customer", Role::Customer, vec![]),
        ("staff", Role::Staff, vec!["s1".to_string()]),
        ("staff-elsewhere", Role::Staff, vec!["s2".to_string()]),
        ("fulfilment", Role::Fulfilment, vec![]),
        ("admin", Role::Admin, vec![]),
    ] {
        let (token, entry) = new_token(name, role, &stores).expect("token");
        tokens.insert(name, token);
        file.push_str(&entry);
    }
    assert!(
        !file.contains(tokens["admin"].split_once('.').expect("dot").1),
        "secrets hashed"
    );
    let products = dir.path().join("products.toml");
    std::fs::write(
        &products,
        format!("[[product]]\ngtin = \"{GTIN}\"\ncategory = \"snacks\"\n[[product]]\ngtin = \"{GTIN2}\"\ncategory = \"drinks\"\n"),
    )
    .expect("products");
    let state = Arc::new(ApiState {
        pool: Pool::new(url),
        tokens: Tokens::parse(&file, std::path::Path::new("tokens.toml")).expect("tokens"),
        products: Products::load(&products).expect("products"),
        areas: Areas {
            backroom_prefixes: vec!["backroom".into()],
            low_level: 2,
        },
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    runtime.spawn(async move { axum::serve(listener, router(state)).await });
    Api {
        port,
        tokens,
        _dir: dir,
        _runtime: runtime,
    }
}

impl Api {
    fn call(
        &self,
        who: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = who.map(|w| self.tokens.get(w).cloned().unwrap_or_else(|| w.to_owned()));
        http(self.port, method, path, token.as_deref(), body.as_ref())
    }
}

/// A concrete request for each route, in store s1.
fn request(route: Route) -> (&'static str, String, Option<Value>) {
    let (method, _) = route.endpoint();
    let (path, body) = match route {
        Route::Availability => (format!("/v1/availability/{GTIN}?store=s1"), None),
        Route::Locations => ("/v1/stores/s1/locations".into(), None),
        Route::Alerts => ("/v1/stores/s1/alerts".into(), None),
        Route::History => (format!("/v1/epcs/{EPC}/history"), None),
        Route::ReservationCreate => (
            "/v1/reservations".into(),
            Some(json!({"order": "o-matrix", "store": "s1", "gtin": GTIN, "qty": 1, "ttl_s": 600})),
        ),
        Route::ReservationGet => ("/v1/reservations/r-none".into(), None),
        Route::ReservationFulfil => ("/v1/reservations/r-none/fulfil".into(), None),
        Route::ReservationCancel => ("/v1/reservations/r-none/cancel".into(), None),
        Route::DemandDaily => ("/v1/demand/daily?store=s1".into(), None),
        Route::DemandCategories => ("/v1/demand/categories?store=s1".into(), None),
        Route::Gateways => ("/v1/admin/gateways".into(), None),
        Route::SafetyStockList => ("/v1/admin/safety-stock".into(), None),
        Route::SafetyStockSet => (
            "/v1/admin/safety-stock".into(),
            Some(json!({"store": "s1", "gtin": GTIN2, "qty": 0})),
        ),
    };
    (method, path, body)
}

#[test]
fn every_role_reaches_exactly_its_routes() {
    let api = start();
    for route in Route::ALL {
        let (method, path, body) = request(route);
        // Unauthenticated and unknown tokens: 401.
        for who in [None, Some("admin.0000"), Some("nobody.1234")] {
            let (status, v) = api.call(who, method, &path, body.clone());
            assert_eq!(status, 401, "{method} {path} as {who:?}: {v}");
        }
        for (who, role) in [
            ("customer", Role::Customer),
            ("staff", Role::Staff),
            ("fulfilment", Role::Fulfilment),
            ("admin", Role::Admin),
        ] {
            let (status, v) = api.call(Some(who), method, &path, body.clone());
            if route.roles().contains(&role) {
                assert!(
                    status != 401 && status != 403 && status < 500,
                    "{method} {path} as {who}: {status} {v}"
                );
            } else {
                assert_eq!(status, 403, "{method} {path} as {who}: {v}");
                assert!(
                    v["error"]
                        .as_str()
                        .is_some_and(|e| e.contains(role.as_str())),
                    "{v}"
                );
            }
        }
        // Staff of another store: 403 where the route names a store.
        if path.contains("s1") && route.roles().contains(&Role::Staff) {
            let (status, v) = api.call(Some("staff-elsewhere"), method, &path, body.clone());
            assert_eq!(status, 403, "{method} {path} as staff of s2: {v}");
        }
    }
    let (status, _) = http(api.port, "GET", "/healthz", None, None);
    assert_eq!(status, 200);
}

fn availability(api: &Api, who: &str) -> Value {
    let (status, v) = api.call(
        Some(who),
        "GET",
        &format!("/v1/availability/{GTIN}?store=s1"),
        None,
    );
    assert_eq!(status, 200, "{v}");
    v["stores"][0].clone()
}

#[test]
fn availability_reservations_and_their_numbers() {
    let api = start();
    let a = availability(&api, "customer");
    assert_eq!(
        a,
        json!({"store": "s1", "gtin": GTIN, "on_hand_floor": 5, "on_hand_backroom": 3,
            "safety_stock": 0, "reserved": 0, "available_to_promise": 8, "level": "in_stock",
            "stale": false})
    );
    let text = a.to_string();
    assert!(
        !text.contains("shelf-a") && !text.contains(EPC),
        "no locations or EPCs: {text}"
    );
    let (s, _) = api.call(
        Some("admin"),
        "PUT",
        "/v1/admin/safety-stock",
        Some(json!({"store": "s1", "gtin": GTIN, "qty": 2})),
    );
    assert_eq!(s, 200);
    let reserve = |qty: u64, ttl: u64| {
        api.call(
            Some("fulfilment"),
            "POST",
            "/v1/reservations",
            Some(json!({"order": format!("o-{qty}"), "store": "s1", "gtin": GTIN, "qty": qty, "ttl_s": ttl})),
        )
    };
    let (s, r4) = reserve(4, 600);
    assert_eq!(s, 201, "{r4}");
    assert_eq!(r4["status"], "open");
    let a = availability(&api, "customer");
    assert_eq!(
        (
            a["reserved"].as_u64(),
            a["available_to_promise"].as_u64(),
            a["level"].as_str()
        ),
        (Some(4), Some(2), Some("low"))
    );
    // 3 more would exceed on hand − safety − reserved = 8 − 2 − 4 = 2: refused with the numbers.
    let (s, refusal) = reserve(3, 600);
    assert_eq!(s, 409);
    assert_eq!(
        (
            refusal["requested"].as_u64(),
            refusal["on_hand"].as_u64(),
            refusal["safety_stock"].as_u64(),
            refusal["reserved"].as_u64(),
            refusal["available"].as_u64()
        ),
        (Some(3), Some(8), Some(2), Some(4), Some(2)),
        "{refusal}"
    );
    assert!(
        refusal["error"]
            .as_str()
            .is_some_and(|e| e.contains("only 2 available")),
        "{refusal}"
    );
    // A short reservation takes the last 2, then releases itself when it expires.
    let (s, short) = reserve(2, 1);
    assert_eq!(s, 201, "{short}");
    assert_eq!(availability(&api, "customer")["level"], "out");
    wait_until(
        "the short reservation to expire",
        Duration::from_secs(10),
        || availability(&api, "customer")["available_to_promise"] == 2,
    );
    let id = short["id"].as_str().expect("id");
    let (s, v) = api.call(
        Some("fulfilment"),
        "POST",
        &format!("/v1/reservations/{id}/fulfil"),
        None,
    );
    assert_eq!(
        (s, v["reservation"]["status"].as_str()),
        (409, Some("expired")),
        "{v}"
    );
    // Fulfil and cancel close open ones once.
    let id4 = r4["id"].as_str().expect("id");
    let (s, v) = api.call(
        Some("fulfilment"),
        "POST",
        &format!("/v1/reservations/{id4}/fulfil"),
        None,
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("fulfilled")), "{v}");
    let (s, _) = api.call(
        Some("fulfilment"),
        "POST",
        &format!("/v1/reservations/{id4}/cancel"),
        None,
    );
    assert_eq!(s, 409);
    assert_eq!(availability(&api, "customer")["available_to_promise"], 6);
    let (s, v) = reserve(1, 600);
    assert_eq!(s, 201);
    let (s, v) = api.call(
        Some("admin"),
        "POST",
        &format!("/v1/reservations/{}/cancel", v["id"].as_str().expect("id")),
        None,
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("cancelled")));
    // Bad requests name the value.
    for (body, needle) in [
        (
            json!({"order": "o", "store": "s1", "gtin": "123", "qty": 1, "ttl_s": 5}),
            "\"123\"",
        ),
        (
            json!({"order": "o", "store": "s1", "gtin": GTIN, "qty": 0, "ttl_s": 5}),
            "qty",
        ),
        (
            json!({"order": "o", "store": "s1", "gtin": GTIN, "qty": 1}),
            "expires_at",
        ),
        (
            json!({"order": "o", "store": "s1", "gtin": GTIN, "qty": 1, "ttl_s": 5, "x": 1}),
            "unknown field",
        ),
    ] {
        let (s, v) = api.call(Some("fulfilment"), "POST", "/v1/reservations", Some(body));
        assert_eq!(s, 400, "{v}");
        assert!(
            v["error"].as_str().is_some_and(|e| e.contains(needle)),
            "{v} should name {needle}"
        );
    }
}

#[test]
fn staff_see_where_it_is_its_history_alerts_and_demand() {
    let api = start();
    let (s, v) = api.call(Some("staff"), "GET", "/v1/stores/s1/locations", None);
    assert_eq!(s, 200);
    assert_eq!(
        v["locations"],
        json!([
            {"location": "backroom-1", "area": "backroom", "gateway": "g1", "gtin": GTIN, "count": 3},
            {"location": "shelf-a", "area": "floor", "gateway": "g1", "gtin": GTIN, "count": 5},
        ])
    );
    let (_, v) = api.call(
        Some("staff"),
        "GET",
        &format!("/v1/epcs/{EPC}/history"),
        None,
    );
    let steps: Vec<(&str, Option<&str>)> = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| (h["type"].as_str().expect("type"), h["location"].as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("tag.arrived", Some("backroom-1")),
            ("tag.moved", Some("shelf-a")),
            ("tag.sold", Some("pos-1"))
        ]
    );
    let (_, v) = api.call(
        Some("staff-elsewhere"),
        "GET",
        &format!("/v1/epcs/{EPC}/history"),
        None,
    );
    assert_eq!(
        v["history"],
        json!([]),
        "another store's staff sees none of it"
    );
    let (_, v) = api.call(Some("staff"), "GET", "/v1/stores/s1/alerts", None);
    assert_eq!(v["alerts"][0]["type"], "alert.low_stock");
    assert_eq!(v["alerts"][0]["gtin"], GTIN2);
    let (_, v) = api.call(Some("staff"), "GET", "/v1/demand/daily", None);
    assert_eq!(
        v["days"],
        json!([
            {"store": "s1", "gtin": GTIN2, "day": "2026-11-23", "sold": 1},
            {"store": "s1", "gtin": GTIN, "day": "2026-11-22", "sold": 1},
            {"store": "s1", "gtin": GTIN, "day": "2026-11-23", "sold": 1},
        ])
    );
    let (_, v) = api.call(
        Some("admin"),
        "GET",
        &format!("/v1/demand/daily?gtin={GTIN}&from=2026-11-23"),
        None,
    );
    assert_eq!(v["days"].as_array().map(Vec::len), Some(1), "{v}");
    let (s, v) = api.call(
        Some("admin"),
        "GET",
        "/v1/demand/daily?from=yesterday",
        None,
    );
    assert_eq!(s, 400, "{v}");
    let (_, v) = api.call(Some("staff"), "GET", "/v1/demand/categories?store=s1", None);
    assert_eq!(
        v["categories"],
        json!([{"category": "drinks", "sold": 1}, {"category": "snacks", "sold": 2}])
    );
    let (_, v) = api.call(
        Some("staff-elsewhere"),
        "GET",
        "/v1/demand/categories",
        None,
    );
    assert_eq!(
        v["categories"],
        json!([]),
        "scoped to s2: nothing sold there"
    );
    let (_, v) = api.call(Some("admin"), "GET", "/v1/admin/gateways", None);
    let g = &v["gateways"][0];
    assert_eq!(
        (
            g["store"].as_str(),
            g["last_seq"].as_u64(),
            g["stale"].as_bool()
        ),
        (Some("s1"), Some(6), Some(false)),
        "{v}"
    );
}

#[test]
fn openapi_file_lists_exactly_the_routes_and_their_roles() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("central/openapi.yaml");
    let doc: Value = serde_yaml::from_str(&text).expect("openapi.yaml is YAML");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let roles: Vec<String> = op["x-roles"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no x-roles"))
                .iter()
                .map(|r| r.as_str().expect("role").to_owned())
                .collect();
            documented.push((method.to_uppercase(), path.clone(), roles));
        }
    }
    for route in Route::ALL {
        let (method, path) = route.endpoint();
        let roles: Vec<String> = route
            .roles()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned(), roles.clone())),
            "{method} {path} with roles {roles:?} is not in openapi.yaml"
        );
    }
    assert_eq!(
        documented.len(),
        Route::ALL.len() + 1,
        "only the routes and /healthz"
    );
}
