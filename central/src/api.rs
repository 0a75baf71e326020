//! The one-inventory HTTP/JSON API (documented in `central/openapi.yaml`, checked by a test).
//!
//! Every route but `/healthz` needs `Authorization: Bearer {token}`: no or an unknown token is
//! 401, a role the route does not allow (or a staff token outside its stores) is 403. Which
//! role may call which route is one table, [`Route::roles`], that the handlers enforce and the
//! role × route matrix test walks.
//!
//! Database work runs on blocking threads through the pool ([`crate::db::Pool`]).

use crate::auth::{Principal, Role, Tokens};
use crate::db::{DbError, Pool};
use crate::inventory::{self, Areas, Closed, DemandFilter, Reserve, ReserveRequest, SafetyStock};
use crate::products::Products;
use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Every authenticated route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /v1/availability/{gtin}`.
    Availability,
    /// `GET /v1/stores/{store}/locations`.
    Locations,
    /// `GET /v1/stores/{store}/alerts`.
    Alerts,
    /// `GET /v1/epcs/{epc}/history`.
    History,
    /// `POST /v1/reservations`.
    ReservationCreate,
    /// `GET /v1/reservations/{id}`.
    ReservationGet,
    /// `POST /v1/reservations/{id}/fulfil`.
    ReservationFulfil,
    /// `POST /v1/reservations/{id}/cancel`.
    ReservationCancel,
    /// `GET /v1/demand/daily`.
    DemandDaily,
    /// `GET /v1/demand/categories`.
    DemandCategories,
    /// `GET /v1/admin/gateways`.
    Gateways,
    /// `GET /v1/admin/safety-stock`.
    SafetyStockList,
    /// `PUT /v1/admin/safety-stock`.
    SafetyStockSet,
}

use Role::{Admin, Customer, Fulfilment, Staff};

impl Route {
    /// Every route.
    pub const ALL: [Route; 13] = [
        Route::Availability,
        Route::Locations,
        Route::Alerts,
        Route::History,
        Route::ReservationCreate,
        Route::ReservationGet,
        Route::ReservationFulfil,
        Route::ReservationCancel,
        Route::DemandDaily,
        Route::DemandCategories,
        Route::Gateways,
        Route::SafetyStockList,
        Route::SafetyStockSet,
    ];

    /// (method, path template as in the OpenAPI file).
    pub const fn endpoint(self) -> (&'static str, &'static str) {
        match self {
            Route::Availability => ("GET", "/v1/availability/{gtin}"),
            Route::Locations => ("GET", "/v1/stores/{store}/locations"),
            Route::Alerts => ("GET", "/v1/stores/{store}/alerts"),
            Route::History => ("GET", "/v1/epcs/{epc}/history"),
            Route::ReservationCreate => ("POST", "/v1/reservations"),
            Route::ReservationGet => ("GET", "/v1/reservations/{id}"),
            Route::ReservationFulfil => ("POST", "/v1/reservations/{id}/fulfil"),
            Route::ReservationCancel => ("POST", "/v1/reservations/{id}/cancel"),
            Route::DemandDaily => ("GET", "/v1/demand/daily"),
            Route::DemandCategories => ("GET", "/v1/demand/categories"),
            Route::Gateways => ("GET", "/v1/admin/gateways"),
            Route::SafetyStockList => ("GET", "/v1/admin/safety-stock"),
            Route::SafetyStockSet => ("PUT", "/v1/admin/safety-stock"),
        }
    }

    /// The roles allowed (staff only within their stores where the route names a store).
    pub const fn roles(self) -> &'static [Role] {
        match self {
            Route::Availability => &[Customer, Staff, Fulfilment, Admin],
            Route::Locations | Route::Alerts | Route::History => &[Staff, Admin],
            Route::ReservationCreate
            | Route::ReservationGet
            | Route::ReservationFulfil
            | Route::ReservationCancel => &[Fulfilment, Admin],
            Route::DemandDaily | Route::DemandCategories => &[Staff, Admin],
            Route::Gateways | Route::SafetyStockList | Route::SafetyStockSet => &[Admin],
        }
    }
}

/// What the handlers share.
pub struct ApiState {
    /// Database connections.
    pub pool: Pool,
    /// API tokens.
    pub tokens: Tokens,
    /// GTIN → category.
    pub products: Products,
    /// Floor / backroom and the low level.
    pub areas: Areas,
}

/// An API error: a status and a JSON body `{"error": …}` (or the numbers of a refusal).
#[derive(Debug)]
pub struct ApiError(StatusCode, serde_json::Value);

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError(status, json!({ "error": message.into() }))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "database error serving a request");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "database error")
    }
}

type Shared = State<Arc<ApiState>>;
type ApiResult = Result<Response, ApiError>;

/// The caller, from `Authorization: Bearer …` (401 when missing or unknown).
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized =
            || ApiError::new(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(unauthorized)?
            .trim()
            .to_owned();
        let state = state.clone();
        let principal = tokio::task::spawn_blocking(move || state.tokens.verify(&token))
            .await
            .ok()
            .flatten()
            .ok_or_else(unauthorized)?;
        Ok(Caller(principal))
    }
}

impl Caller {
    /// 403 unless the role may call `route` (and, for staff, `store` is theirs).
    fn allow(&self, route: Route, store: Option<&str>) -> Result<(), ApiError> {
        let p = &self.0;
        if !route.roles().contains(&p.role) {
            let (method, path) = route.endpoint();
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("role {} may not call {method} {path}", p.role),
            ));
        }
        if let Some(store) = store {
            if !p.sees_store(store) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("token {:?} is not scoped to store {store:?}", p.name),
                ));
            }
        }
        Ok(())
    }

    /// The stores this caller may see (`None`: all).
    fn scope(&self) -> Option<Vec<String>> {
        (self.0.role == Role::Staff).then(|| self.0.stores.clone())
    }
}

async fn blocking<T: Send + 'static>(
    state: &Arc<ApiState>,
    f: impl FnOnce(&ApiState) -> Result<T, DbError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "worker failed"))?
        .map_err(ApiError::from)
}

fn ok(value: impl serde::Serialize) -> ApiResult {
    Ok(Json(value).into_response())
}

fn check_gtin(gtin: &str) -> Result<(), ApiError> {
    if gtin.len() == 14 && gtin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("gtin {gtin:?} is not 14 digits"),
        ))
    }
}

fn check_day(what: &str, day: Option<&str>) -> Result<(), ApiError> {
    match day {
        Some(d)
            if !(d.len() == 10
                && shelfd_core::timefmt::parse_rfc3339_ms(&format!("{d}T00:00:00.000Z"))
                    .is_some()) =>
        {
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{what} {d:?} is not a YYYY-MM-DD day"),
            ))
        }
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
struct StoreQuery {
    store: Option<String>,
}

async fn availability(
    State(state): Shared,
    caller: Caller,
    Path(gtin): Path<String>,
    Query(q): Query<StoreQuery>,
) -> ApiResult {
    caller.allow(Route::Availability, q.store.as_deref())?;
    check_gtin(&gtin)?;
    let stores = match (q.store, caller.scope()) {
        (Some(s), _) => Some(vec![s]),
        (None, scope) => scope,
    };
    let now = crate::now_ms();
    let rows = blocking(&state, move |s| {
        s.pool
            .with(|db| inventory::availability(db, &s.areas, &gtin, stores.as_deref(), now))
    })
    .await?;
    // Numbers per store only: no locations, no EPCs (what customers may see).
    ok(json!({ "stores": rows }))
}

#[derive(Deserialize)]
struct GtinQuery {
    gtin: Option<String>,
}

async fn locations(
    State(state): Shared,
    caller: Caller,
    Path(store): Path<String>,
    Query(q): Query<GtinQuery>,
) -> ApiResult {
    caller.allow(Route::Locations, Some(&store))?;
    if let Some(g) = &q.gtin {
        check_gtin(g)?;
    }
    let rows = blocking(&state, move |s| {
        s.pool
            .with(|db| inventory::locations(db, &s.areas, &store, q.gtin.as_deref()))
    })
    .await?;
    ok(json!({ "locations": rows }))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<u64>,
}

async fn alerts(
    State(state): Shared,
    caller: Caller,
    Path(store): Path<String>,
    Query(q): Query<LimitQuery>,
) -> ApiResult {
    caller.allow(Route::Alerts, Some(&store))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = blocking(&state, move |s| {
        s.pool.with(|db| inventory::alerts(db, &store, limit))
    })
    .await?;
    ok(json!({ "alerts": rows }))
}

async fn history(State(state): Shared, caller: Caller, Path(epc): Path<String>) -> ApiResult {
    caller.allow(Route::History, None)?;
    if epc.is_empty() || epc.len() % 4 != 0 || !epc.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("epc {epc:?} is not hex of whole 16-bit words"),
        ));
    }
    let epc = epc.to_ascii_lowercase();
    let scope = caller.scope();
    let rows = blocking(&state, move |s| {
        s.pool
            .with(|db| inventory::history(db, &epc, scope.as_deref()))
    })
    .await?;
    ok(json!({ "history": rows }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReserveBody {
    order: String,
    store: String,
    gtin: String,
    qty: u64,
    /// RFC 3339 expiry, or
    expires_at: Option<String>,
    /// seconds from now.
    ttl_s: Option<u64>,
}

async fn reserve(
    State(state): Shared,
    caller: Caller,
    body: Result<Json<ReserveBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    caller.allow(Route::ReservationCreate, None)?;
    let Json(b) = body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    check_gtin(&b.gtin)?;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, m);
    if b.order.is_empty() || b.store.is_empty() {
        return Err(bad("order and store must not be empty".into()));
    }
    if b.qty == 0 {
        return Err(bad("qty must be at least 1".into()));
    }
    let now = crate::now_ms();
    let expires_ms = match (&b.expires_at, b.ttl_s) {
        (Some(at), None) => shelfd_core::timefmt::parse_rfc3339_ms(at).ok_or_else(|| {
            bad(format!(
                "expires_at {at:?} is not RFC 3339 with milliseconds"
            ))
        })?,
        (None, Some(ttl)) => now.saturating_add(ttl.saturating_mul(1000)),
        _ => return Err(bad("give exactly one of expires_at and ttl_s".into())),
    };
    if expires_ms <= now {
        return Err(bad("the reservation would already be expired".into()));
    }
    let id = format!(
        "r-{}",
        &crate::auth::new_secret()
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no randomness"))?[..16]
    );
    let req = ReserveRequest {
        order: b.order,
        store: b.store,
        gtin: b.gtin,
        qty: b.qty,
        expires_ms,
    };
    let out = blocking(&state, move |s| {
        s.pool
            .with(|db| inventory::reserve(db, &s.areas, &req, &id, now))
    })
    .await?;
    match out {
        Reserve::Created(r) => Ok((StatusCode::CREATED, Json(r)).into_response()),
        Reserve::Refused(r) => Ok((StatusCode::CONFLICT, Json(r)).into_response()),
    }
}

async fn reservation_get(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.allow(Route::ReservationGet, None)?;
    let now = crate::now_ms();
    let r = blocking(&state, move |s| {
        s.pool.with(|db| inventory::reservation(db, &id, now))
    })
    .await?;
    match r {
        Some(r) => ok(r),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no such reservation")),
    }
}

async fn close(state: Arc<ApiState>, id: String, to: &'static str) -> ApiResult {
    let now = crate::now_ms();
    let r = blocking(&state, move |s| {
        s.pool
            .with(|db| inventory::close_reservation(db, &id, to, now))
    })
    .await?;
    match r {
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no such reservation")),
        Some(Closed::Done(r)) => ok(r),
        Some(Closed::NotOpen(r)) => Err(ApiError(
            StatusCode::CONFLICT,
            json!({ "error": format!("reservation {} is {}, not open", r.id, r.status), "reservation": r }),
        )),
    }
}

async fn fulfil(State(state): Shared, caller: Caller, Path(id): Path<String>) -> ApiResult {
    caller.allow(Route::ReservationFulfil, None)?;
    close(state, id, "fulfilled").await
}

async fn cancel(State(state): Shared, caller: Caller, Path(id): Path<String>) -> ApiResult {
    caller.allow(Route::ReservationCancel, None)?;
    close(state, id, "cancelled").await
}

#[derive(Deserialize)]
struct DemandQuery {
    store: Option<String>,
    gtin: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn demand_filter(caller: &Caller, route: Route, q: DemandQuery) -> Result<DemandFilter, ApiError> {
    caller.allow(route, q.store.as_deref())?;
    if let Some(g) = &q.gtin {
        check_gtin(g)?;
    }
    check_day("from", q.from.as_deref())?;
    check_day("to", q.to.as_deref())?;
    let stores = match (q.store, caller.scope()) {
        (Some(s), _) => Some(vec![s]),
        (None, scope) => scope,
    };
    Ok(DemandFilter {
        stores,
        gtin: q.gtin,
        from: q.from,
        to: q.to,
    })
}

async fn demand_daily(
    State(state): Shared,
    caller: Caller,
    Query(q): Query<DemandQuery>,
) -> ApiResult {
    let f = demand_filter(&caller, Route::DemandDaily, q)?;
    let rows = blocking(&state, move |s| {
        s.pool.with(|db| inventory::demand_daily(db, &f))
    })
    .await?;
    ok(json!({ "days": rows }))
}

async fn demand_categories(
    State(state): Shared,
    caller: Caller,
    Query(q): Query<DemandQuery>,
) -> ApiResult {
    let f = demand_filter(&caller, Route::DemandCategories, q)?;
    let rows = blocking(&state, move |s| {
        s.pool
            .with(|db| inventory::demand_by_category(db, &f, &s.products))
    })
    .await?;
    ok(json!({ "categories": rows }))
}

async fn gateways(State(state): Shared, caller: Caller) -> ApiResult {
    caller.allow(Route::Gateways, None)?;
    let rows = blocking(&state, |s| s.pool.with(inventory::gateways)).await?;
    ok(json!({ "gateways": rows }))
}

async fn safety_list(State(state): Shared, caller: Caller) -> ApiResult {
    caller.allow(Route::SafetyStockList, None)?;
    let rows = blocking(&state, |s| s.pool.with(inventory::safety_stocks)).await?;
    ok(json!({ "safety_stock": rows }))
}

async fn safety_set(
    State(state): Shared,
    caller: Caller,
    body: Result<Json<SafetyStock>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    caller.allow(Route::SafetyStockSet, None)?;
    let Json(s) = body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    check_gtin(&s.gtin)?;
    if s.store.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "store must not be empty",
        ));
    }
    let echo = s.clone();
    blocking(&state, move |st| {
        st.pool.with(|db| inventory::set_safety_stock(db, &s))
    })
    .await?;
    ok(echo)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// The router over `state`.
pub fn router(state: Arc<ApiState>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/availability/{gtin}", get(availability))
        .route("/v1/stores/{store}/locations", get(locations))
        .route("/v1/stores/{store}/alerts", get(alerts))
        .route("/v1/epcs/{epc}/history", get(history))
        .route("/v1/reservations", post(reserve))
        .route("/v1/reservations/{id}", get(reservation_get))
        .route("/v1/reservations/{id}/fulfil", post(fulfil))
        .route("/v1/reservations/{id}/cancel", post(cancel))
        .route("/v1/demand/daily", get(demand_daily))
        .route("/v1/demand/categories", get(demand_categories))
        .route("/v1/admin/gateways", get(gateways))
        .route("/v1/admin/safety-stock", get(safety_list).put(safety_set))
        .with_state(state)
}
