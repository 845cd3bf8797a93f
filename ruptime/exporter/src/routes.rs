//! The exporter's answers: `/probe`, `/metrics`, `/`, and errors; every
//! request authenticated first when the web configuration names users.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ALLOW, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use ruptime::metrics::{self, CONTENT_TYPE as METRICS};

use crate::State;
use crate::connections::{Busy, Connection};
use crate::probe::{self, Log};
use crate::request::{self, SCRAPE_TIMEOUT};
use crate::self_metrics::Rejection;
use crate::web::auth::Verdict;

/// The page at `/`.
const INDEX: &str = "<!DOCTYPE html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>ruptime exporter</title></head>
<body>
<h1>ruptime exporter</h1>
<p>Asks <code>ruptimed</code> hosts for their uptime, for Prometheus.</p>
<ul>
<li><a href=\"/probe?target=localhost\">/probe?target=localhost</a>: one host
(<code>target=HOST[:PORT]</code>, <code>mode=stream|fork|dgram</code>,
<code>debug=true</code> for the probe's log)</li>
<li><a href=\"/metrics\">/metrics</a>: the exporter's own metrics</li>
</ul>
</body>
</html>
";

/// The answer to `request` on `connection`, which is busy (not to be let
/// go to make room) once its credentials are found right: a request
/// waiting for its password check holds no room.
pub(crate) async fn respond(
    request: Request<Incoming>,
    state: Arc<State>,
    connection: Arc<Connection>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let came = Instant::now();
    let Ok(web) = state.web.current() else {
        return Ok(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the exporter's web configuration is broken: see its log\n".into(),
        ));
    };
    let authorization = request
        .headers()
        .get(AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let mut response = match state.auth.check(&web.settings.users, authorization).await {
        Verdict::Admitted => {
            let _busy = Busy::new(&connection);
            route(&request, &state, came).await
        }
        Verdict::Refused => {
            state.metrics.rejected(Rejection::Unauthorized);
            let mut response = text(StatusCode::UNAUTHORIZED, "Unauthorized\n".into());
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ruptime-exporter\", charset=\"UTF-8\""),
            );
            response
        }
        Verdict::Busy => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many passwords to check at once\n".into(),
        ),
    };
    for (name, value) in &web.settings.headers {
        // Checked when the file was read.
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

/// The answer of the page asked for, the request having come at `came`.
async fn route(
    request: &Request<Incoming>,
    state: &Arc<State>,
    came: Instant,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match request.uri().path() {
        "/" => answer(StatusCode::OK, "text/html; charset=utf-8", INDEX.into()),
        "/metrics" => answer(StatusCode::OK, METRICS, state.metrics.text()),
        "/probe" => probe(request, state, came).await,
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /, /probe or /metrics\n".into(),
        ),
    }
}

/// Probes the host a `/probe` request names, its time counted from when
/// it came (its password check included).
async fn probe(
    request: &Request<Incoming>,
    state: &Arc<State>,
    came: Instant,
) -> Response<Full<Bytes>> {
    let header = request
        .headers()
        .get(SCRAPE_TIMEOUT)
        .map(HeaderValue::as_bytes);
    let probe = match request::parse(request.uri().query(), header, &state.defaults) {
        Ok(probe) => probe,
        Err(why) => {
            state.metrics.rejected(Rejection::BadRequest);
            return text(StatusCode::BAD_REQUEST, format!("{why}\n"));
        }
    };
    let deadline = came + probe.budget;
    let slot = Arc::clone(&state.probes).acquire_owned();
    let Ok(Ok(permit)) = tokio::time::timeout_at(deadline.into(), slot).await else {
        state.metrics.rejected(Rejection::Busy);
        let why = format!(
            "too many probes at once: {} went on until the deadline\n",
            state.max_probes
        );
        return text(StatusCode::SERVICE_UNAVAILABLE, why);
    };
    let debug = probe.debug;
    // The probe runs on a task of its own, which holds the slot and counts
    // as in flight until the probe is over (by its deadline), even when the
    // client has gone.
    let task = {
        let state = Arc::clone(state);
        tokio::spawn(async move {
            let _slot = permit;
            let _counted = state.metrics.begun();
            let mode = probe.mode;
            let log = debug.then(|| Log::new(came));
            let family = state.defaults.family;
            let (row, log) = probe::run(probe, family, &state.names, deadline, log).await;
            state
                .metrics
                .ended(mode, !row.is_down(), row.took.unwrap_or_default());
            (row, log)
        })
    };
    match task.await {
        Ok((row, Some(log))) => text(
            StatusCode::OK,
            format!(
                "Logs for the probe:\n{}\n\nMetrics that would have been returned:\n{}",
                log.text(),
                metrics::probe(&row, SystemTime::now())
            ),
        ),
        Ok((row, None)) => answer(
            StatusCode::OK,
            METRICS,
            metrics::probe(&row, SystemTime::now()),
        ),
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
