//! The HTTP workload the `server` bench and the `per_request` example
//! share (the example includes this file with `#[path]`): one request,
//! a handler that answers at once, a poll without a runtime, and each
//! contender's subscriber and layer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{Request, Response};
use tower::{Layer, Service};
use tracing::Level;
use tracing_subscriber::prelude::*;

/// The request every contender serves.
pub(crate) fn request() -> Request<String> {
    Request::get("/users/12345")
        .header("x-request-id", "req-7f3a2b9c")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("user-agent", "bench/1.0")
        .body(String::new())
        .unwrap()
}

/// The handler: answers at once.
pub(crate) fn handler()
-> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    tower::service_fn(|_req: Request<String>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(String::from("ok"))))
    })
}

/// Polls a future that is ready at once (every contender's is).
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the handler answers at once"),
    }
}

/// One request through `service`, as a server drives it.
pub(crate) fn serve<S>(service: &mut S) -> S::Response
where
    S: Service<Request<String>>,
    S::Error: std::fmt::Debug,
{
    now(std::future::poll_fn(|cx| service.poll_ready(cx))).unwrap();
    now(service.call(request())).unwrap()
}

/// `none`: no subscriber.
pub(crate) fn no_subscriber() -> tracing::Dispatch {
    tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default())
}

/// `eventlog_http`: eventlog's layer to a discarding writer.
pub(crate) fn eventlog_subscriber() -> tracing::Dispatch {
    tracing::Dispatch::new(
        tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink)),
    )
}

/// `tower_http_trace`: `fmt().json()` at INFO to a discarding writer.
pub(crate) fn fmt_json_subscriber() -> tracing::Dispatch {
    tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .json()
            .with_max_level(Level::INFO)
            .with_writer(std::io::sink)
            .finish(),
    )
}

/// `tower_http_trace`'s layer: its span and response event at INFO (the
/// defaults are DEBUG, which a production INFO filter would drop).
pub(crate) fn tower_http_trace<S: Clone>(
    inner: S,
) -> <tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    tower_http::trace::DefaultMakeSpan,
    tower_http::trace::DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
> as Layer<S>>::Service {
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(tower_http::trace::DefaultMakeSpan::new().level(Level::INFO))
        .on_response(tower_http::trace::DefaultOnResponse::new().level(Level::INFO))
        .layer(inner)
}
