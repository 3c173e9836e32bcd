//! Building the web app: the router with its layers, one listener, and — in the
//! all-in-one — the api merged onto the same listener; `GET /metrics` on a listener of its
//! own (both processes' metrics in the all-in-one). `main` is a thin shim over this;
//! tests bind port 0.

#[cfg(feature = "embedded")]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use banking_common::server::{Listeners, ServerLimits, shutdown_signal};
use banking_common::telemetry;
use reqwest::Url;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::client::ApiClient;
use crate::config::{ApiTarget, Config};
use crate::error;
use crate::metrics::WebMetrics;
use crate::pages::{self, WebState};
use crate::session;

/// Forms are small; anything bigger is refused before it is read.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Sent with `COOKIE_SECURE=true`: HTTPS only for a year, subdomains included.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// No script at all, styles only from this site, forms only to this site, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Renders the metrics a scrape of the metrics port returns.
type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

pub struct Application {
    listeners: Listeners,
    render_metrics: RenderMetrics,
    limits: ServerLimits,
    router: Router,
    api_url: Url,
    embedded: bool,
    demo: Option<(String, String)>,
}

impl Application {
    /// Binds `config.bind` and builds the router; in the all-in-one also the api (its
    /// database, migrations, demo users), served on the same listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listeners =
            Listeners::bind(config.bind, "WEB_BIND", config.process.metrics_bind).await?;
        let embedded = config.is_embedded();
        let metrics = Arc::new(WebMetrics::new().context("registering metrics")?);
        let web_metrics = metrics.clone();
        let render_web: RenderMetrics = Arc::new(move || web_metrics.render());
        let (api_url, api_router, demo, render_metrics): (
            Url,
            Option<Router>,
            Option<(String, String)>,
            RenderMetrics,
        ) = match config.api {
            ApiTarget::Remote(url) => (url, None, None, render_web),
            #[cfg(feature = "embedded")]
            ApiTarget::Embedded(api_config) => {
                let demo = api_config.seed_demo.then(|| {
                    (
                        demo_users(&api::ledger::DEMO_USERS),
                        api::ledger::DEMO_PASSWORD.to_owned(),
                    )
                });
                let state = api::startup::build_state(*api_config)
                    .await
                    .context("starting the embedded api")?;
                // The web part reaches the api over HTTP even here, as it does when split.
                let local = listeners.local_addr();
                let url = Url::parse(&format!("http://{}/graphql", loopback(local)))
                    .context("the embedded api's URL")?;
                // One process, one scrape: the web's metrics, then the api's (their
                // names differ: banking_web_*, banking_api_*).
                let api_state = state.clone();
                let render: RenderMetrics =
                    Arc::new(move || render_web() + &api::startup::metrics_text(&api_state));
                (url, Some(api::startup::router(state)), demo, render)
            }
        };
        let state = WebState {
            api: ApiClient::new(api_url.clone())
                .context("building the HTTP client")?
                .with_metrics(metrics.clone())
                .with_trusted_proxies(config.process.trusted_proxies.clone()),
            demo_users: if demo.is_some() {
                demo_names()
            } else {
                Vec::new()
            },
            demo_password: demo.as_ref().map(|d| d.1.clone()).unwrap_or_default(),
        };
        let mut router = router(state, config.cookie_secure, metrics);
        if let Some(api_router) = api_router {
            router = router.merge(api_router);
        }
        if config.cookie_secure {
            // Cookies marked Secure mean the site is served over HTTPS: tell browsers to
            // never try it over plain HTTP (the api's answers in the all-in-one too).
            router = router.layer(SetResponseHeaderLayer::if_not_present(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
            ));
        }
        Ok(Application {
            listeners,
            render_metrics,
            limits: config.process.server,
            router,
            api_url,
            embedded,
            demo,
        })
    }

    /// Where it listens (a test's port 0 resolved).
    pub fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// The GraphQL URL the pages call.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded
    }

    /// The demo users ("alice, bob or carol") and their password, when they were seeded.
    pub fn demo_credentials(&self) -> Option<(&str, &str)> {
        self.demo.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let render = self.render_metrics;
        self.listeners
            .serve(self.router, move || render(), self.limits, stop)
            .await
    }
}

/// The web's routes with their layers: security headers and CSRF on every page. (The
/// api's routes, merged beside them in the all-in-one, keep their own: GraphiQL needs
/// its scripts.)
pub fn router(state: WebState, cookie_secure: bool, metrics: Arc<WebMetrics>) -> Router {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    pages::routes(state)
        // Innermost: an error's page is rendered in the request's language before the
        // layers below add cookies and headers to it.
        .layer(axum::middleware::from_fn(error::error_pages))
        .layer(axum::middleware::from_fn_with_state(
            cookie_secure,
            session::csrf_middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            cookie_secure,
            session::secure_cookies,
        ))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(header(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics.http.clone(),
            telemetry::observe,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

#[cfg(feature = "embedded")]
/// An address of this machine that reaches a listener bound to `local`.
fn loopback(local: SocketAddr) -> SocketAddr {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local.port())
}

/// The seeded demo users' names, for the sign-in page.
fn demo_names() -> Vec<String> {
    #[cfg(feature = "embedded")]
    {
        api::ledger::DEMO_USERS
            .iter()
            .map(|u| (*u).to_owned())
            .collect()
    }
    #[cfg(not(feature = "embedded"))]
    {
        Vec::new()
    }
}

#[cfg(feature = "embedded")]
/// "alice, bob or carol".
fn demo_users(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_api_is_reached_on_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(loopback(any).to_string(), "127.0.0.1:8080");
        let v6: SocketAddr = "[::]:8080".parse().expect("addr");
        assert_eq!(loopback(v6).to_string(), "[::1]:8080");
        let exact: SocketAddr = "10.1.2.3:80".parse().expect("addr");
        assert_eq!(loopback(exact), exact);
    }

    #[test]
    fn demo_users_read_as_a_list() {
        assert_eq!(
            demo_users(&["alice", "bob", "carol"]),
            "alice, bob or carol"
        );
        assert_eq!(demo_users(&["alice"]), "alice");
    }
}
