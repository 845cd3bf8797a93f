//! The exporter's answers: `/probe`, `/metrics`, `/`, and errors.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::State;
use super::exposition::{self, CONTENT_TYPE as METRICS};
use super::own::Rejection;
use super::probe;
use super::request::{self, SCRAPE_TIMEOUT};

/// The page at `/`.
const INDEX: &str = "<!DOCTYPE html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>ruptime exporter</title></head>
<body>
<h1>ruptime exporter</h1>
<p>Asks <code>ruptimed</code> hosts for their uptime, for Prometheus.</p>
<ul>
<li><a href=\"/probe?target=localhost\">/probe?target=localhost</a>: one host
(<code>target=HOST[:PORT]</code>, <code>mode=stream|fork|dgram</code>)</li>
<li><a href=\"/metrics\">/metrics</a>: the exporter's own metrics</li>
</ul>
</body>
</html>
";

/// The answer to `request`.
pub(super) async fn respond(
    request: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(response);
    }
    Ok(match request.uri().path() {
        "/" => answer(StatusCode::OK, "text/html; charset=utf-8", INDEX.into()),
        "/metrics" => answer(StatusCode::OK, METRICS, state.own.text()),
        "/probe" => probe(&request, &state).await,
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /, /probe or /metrics\n".into(),
        ),
    })
}

/// Probes the host a `/probe` request names.
async fn probe(request: &Request<Incoming>, state: &Arc<State>) -> Response<Full<Bytes>> {
    let came = Instant::now();
    let header = request
        .headers()
        .get(SCRAPE_TIMEOUT)
        .map(HeaderValue::as_bytes);
    let probe = match request::parse(request.uri().query(), header, &state.defaults) {
        Ok(probe) => probe,
        Err(why) => {
            state.own.rejected(Rejection::BadRequest);
            return text(StatusCode::BAD_REQUEST, format!("{why}\n"));
        }
    };
    let deadline = came + probe.budget;
    let slot = Arc::clone(&state.probes).acquire_owned();
    let Ok(Ok(permit)) = tokio::time::timeout_at(deadline.into(), slot).await else {
        state.own.rejected(Rejection::Busy);
        let why = format!(
            "too many probes at once: {} went on until the deadline\n",
            state.max_probes
        );
        return text(StatusCode::SERVICE_UNAVAILABLE, why);
    };
    // The probe runs on a task of its own, which holds the slot and counts
    // as in flight until the probe is over (by its deadline), even when the
    // client has gone.
    let task = {
        let state = Arc::clone(state);
        tokio::spawn(async move {
            let _slot = permit;
            let _counted = state.own.begun();
            let mode = probe.mode;
            let row = probe::run(
                probe,
                &state.options,
                &state.lookups,
                &state.children,
                deadline,
            )
            .await;
            state
                .own
                .ended(mode, !row.is_down(), row.took.unwrap_or_default());
            row
        })
    };
    match task.await {
        Ok(row) => answer(StatusCode::OK, METRICS, exposition::probe(&row)),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the probe failed: {e}\n"),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    answer(status, "text/plain; charset=utf-8", body)
}

fn answer(status: StatusCode, kind: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    response
}
