//! The api client: one typed GraphQL operation per file under `queries/`, checked
//! against `schema.graphql` at compile time, and the one REST call the pages make (an
//! account's statement as CSV, streamed), sent over one pooled HTTP client.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use graphql_client::GraphQLQuery;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{RequestBuilder, StatusCode, Url};
use serde::Deserialize;

use tracing::Instrument;

use banking_common::client_address::TrustedProxies;
use banking_common::error_code::ErrorCode;
use banking_common::telemetry::inject_trace;

use crate::client_address::Origin;
use crate::error::Error;
use crate::metrics::WebMetrics;

/// How long one api call may take before the page says the bank is unavailable.
pub const API_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement may take to arrive, from the request to its last byte: a year of
/// a busy account streams for longer than a page's call may take.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Custom scalars travel as strings: money is never a float here.
pub type Money = String;
pub type DateTime = String;

macro_rules! operation {
    ($name:ident, $file:tt) => {
        #[derive(GraphQLQuery)]
        #[graphql(
                                                            schema_path = "../schema.graphql",
                                                            query_path = $file,
                                                            response_derives = "Debug, Clone",
                                                            variables_derives = "Debug, Clone"
                                                        )]
        pub struct $name;
    };
}

operation!(Login, "queries/login.graphql");
operation!(Signup, "queries/signup.graphql");
operation!(Logout, "queries/logout.graphql");
operation!(Dashboard, "queries/dashboard.graphql");
operation!(AccountPage, "queries/account_page.graphql");
operation!(Accounts, "queries/accounts.graphql");
operation!(Transfer, "queries/transfer.graphql");
operation!(Deposit, "queries/deposit.graphql");
operation!(
    CreateReadOnlyToken,
    "queries/create_read_only_token.graphql"
);
operation!(Payees, "queries/payees.graphql");
operation!(AddPayee, "queries/add_payee.graphql");
operation!(RemovePayee, "queries/remove_payee.graphql");
operation!(OpenAccount, "queries/open_account.graphql");

/// Who is asking: the session token (if signed in), the trace to continue, and where
/// the browser's request came from.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub token: Option<String>,
    pub traceparent: Option<HeaderValue>,
    pub origin: Option<Origin>,
}

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    graphql: Url,
    ready: Url,
    metrics: Option<Arc<WebMetrics>>,
    trusted_proxies: TrustedProxies,
}

impl ApiClient {
    /// `graphql` is the api's GraphQL endpoint; its readiness check lives at `/ready` beside it.
    pub fn new(graphql: Url) -> anyhow::Result<ApiClient> {
        let http = reqwest::Client::builder()
            .timeout(API_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            // Below the api's IDLE_TIMEOUT_SECS (60 by default), so the web never sends a
            // request on a connection the api is closing as idle.
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("banking-web/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mut ready = graphql.clone();
        ready.set_path("/ready");
        ready.set_query(None);
        Ok(ApiClient {
            http,
            graphql,
            ready,
            metrics: None,
            trusted_proxies: TrustedProxies::loopback(),
        })
    }

    /// Whose `X-Forwarded-For` to believe when working out the browser's address.
    pub fn with_trusted_proxies(mut self, trusted: TrustedProxies) -> ApiClient {
        self.trusted_proxies = trusted;
        self
    }

    /// Counts every call by operation and outcome.
    pub fn with_metrics(mut self, metrics: Arc<WebMetrics>) -> ApiClient {
        self.metrics = Some(metrics);
        self
    }

    pub fn graphql_url(&self) -> &Url {
        &self.graphql
    }

    /// Runs one operation. A GraphQL error becomes the web error for its `extensions.code`.
    pub async fn run<Q: GraphQLQuery>(
        &self,
        caller: &Caller,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData, Error> {
        let body = Q::build_query(variables);
        let operation = body.operation_name;
        let span = tracing::info_span!(
            target: "banking",
            "api.call",
            otel.name = %format!("POST /graphql {operation}"),
            otel.kind = "client",
            graphql.operation = operation,
        );
        let result = self
            .send::<Q>(caller, body, &span)
            .instrument(span.clone())
            .await;
        if let Some(metrics) = &self.metrics {
            metrics.api_call(
                operation,
                result.as_ref().err().map_or("ok", |e| e.code().as_str()),
            );
        }
        result
    }

    async fn send<Q: GraphQLQuery>(
        &self,
        caller: &Caller,
        body: graphql_client::QueryBody<Q::Variables>,
        span: &tracing::Span,
    ) -> Result<Q::ResponseData, Error> {
        let request = self.http.post(self.graphql.clone()).json(&body);
        let response = self
            .on_behalf_of(request, caller, span)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, operation = body.operation_name, "api call failed");
                Error::Unavailable
            })?;
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(%status, operation = body.operation_name, "api answered an error");
            return Err(Error::Unavailable);
        }
        let bytes = response.bytes().await.map_err(|e| {
            tracing::error!(error = %e, %status, operation = body.operation_name, "unreadable api answer");
            if e.is_timeout() {
                Error::Unavailable
            } else {
                Error::Internal
            }
        })?;
        // The common answer (data, no errors) is read straight into the typed shape.
        if let Ok(graphql_client::Response {
            data: Some(data),
            errors: None,
            ..
        }) = serde_json::from_slice::<graphql_client::Response<Q::ResponseData>>(&bytes)
        {
            return Ok(data);
        }
        // Errors first: with an error, `data` may be partial and not fit the typed shape.
        let parsed: graphql_client::Response<serde_json::Value> = serde_json::from_slice(&bytes)
            .map_err(|e| {
                tracing::error!(error = %e, %status, operation = body.operation_name, "unreadable api answer");
                Error::Internal
            })?;
        if let Some(error) = parsed.errors.as_deref().and_then(<[_]>::first) {
            // The code and the input it concerns; the message is for the api's log
            // readers, never for the page.
            let extension = |name: &str| {
                error
                    .extensions
                    .as_ref()
                    .and_then(|ext| ext.get(name))
                    .and_then(|value| value.as_str())
            };
            let code = extension("code").unwrap_or(ErrorCode::Internal.as_str());
            let err = Error::from_api(code, extension("field"));
            if matches!(err, Error::Internal) {
                tracing::error!(code, message = %error.message, operation = body.operation_name, "api error");
            }
            return Err(err);
        }
        let data = parsed.data.ok_or_else(|| {
            tracing::error!(
                operation = body.operation_name,
                "api answered neither data nor errors"
            );
            Error::Internal
        })?;
        serde_json::from_value(data).map_err(|e| {
            tracing::error!(error = %e, operation = body.operation_name, "api answer does not fit the query");
            Error::Internal
        })
    }

    /// The token, the browser's address and the trace, on a request to the api.
    fn on_behalf_of(
        &self,
        mut request: RequestBuilder,
        caller: &Caller,
        span: &tracing::Span,
    ) -> RequestBuilder {
        if let Some(token) = &caller.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        // The api throttles sign-ins by the browser's address; it believes this header
        // because this server is one of its trusted proxies. One address, worked out
        // here by the same rule, so nothing the browser wrote passes through unchecked.
        if let Some(origin) = &caller.origin {
            let client = origin.client(&self.trusted_proxies);
            request = request.header("x-forwarded-for", client.to_string());
        }
        // This call's own span continues the page's trace; without an exporter it has no
        // trace context, and the caller's traceparent is passed on as it came.
        let mut headers = reqwest::header::HeaderMap::new();
        inject_trace(span, &mut headers);
        match (headers.get("traceparent"), &caller.traceparent) {
            (Some(own), _) => request.header("traceparent", own.clone()),
            (None, Some(incoming)) => request.header("traceparent", incoming.clone()),
            (None, None) => request,
        }
    }

    /// One account's statement from `from` to `to` (whole UTC days) as the api's CSV
    /// (`GET /api/accounts/{id}/statement.csv`): the response as soon as its headers are
    /// in, its body still arriving, so the caller can pass it on or read it a chunk at a
    /// time. Allowed [`STATEMENT_TIMEOUT`] to its last byte rather than [`API_TIMEOUT`].
    /// A refusal (`{detail, code, field}`) becomes the web error for its code and field. `account_id` must
    /// be digits (the pages check it first).
    pub async fn statement(
        &self,
        caller: &Caller,
        account_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<reqwest::Response, Error> {
        const OPERATION: &str = "Statement";
        let span = tracing::info_span!(
            target: "banking",
            "api.call",
            otel.name = "GET /api/accounts/{id}/statement.csv",
            otel.kind = "client",
            graphql.operation = OPERATION,
        );
        let mut url = self.graphql.clone();
        url.set_path(&format!("/api/accounts/{account_id}/statement.csv"));
        url.set_query(Some(&format!(
            "from={}&to={}",
            from.format("%Y-%m-%d"),
            to.format("%Y-%m-%d")
        )));
        let request = self.http.get(url).timeout(STATEMENT_TIMEOUT);
        let result = async {
            let response = self
                .on_behalf_of(request, caller, &span)
                .send()
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, operation = OPERATION, "api call failed");
                    Error::Unavailable
                })?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status.is_server_error() {
                tracing::warn!(%status, operation = OPERATION, "api answered an error");
                return Err(Error::Unavailable);
            }
            Err(refusal(status, response).await)
        }
        .instrument(span.clone())
        .await;
        if let Some(metrics) = &self.metrics {
            metrics.api_call(
                OPERATION,
                result.as_ref().err().map_or("ok", |e| e.code().as_str()),
            );
        }
        result
    }

    /// Whether the api answers its readiness check.
    pub async fn ready(&self) -> bool {
        match self
            .http
            .get(self.ready.clone())
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            Ok(response) => response.status().is_success(),
            Err(e) => {
                tracing::warn!(error = %e, "api readiness check failed");
                false
            }
        }
    }
}

/// A REST refusal's body (`{"detail", "code", "field"}`); the detail is not read.
#[derive(Deserialize)]
struct Refusal {
    code: String,
    #[serde(default)]
    field: Option<String>,
}

/// The web error for a REST refusal: its `code`, or failing that its status.
async fn refusal(status: StatusCode, response: reqwest::Response) -> Error {
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<Refusal>(&body) {
        Ok(refusal) => Error::from_api(&refusal.code, refusal.field.as_deref()),
        Err(_) => match status {
            StatusCode::UNAUTHORIZED => Error::SessionEnded,
            StatusCode::NOT_FOUND => Error::NotFound(None),
            _ => {
                tracing::error!(%status, "the api refused a statement without a code");
                Error::Internal
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readiness_url_is_beside_the_graphql_url() {
        let url = Url::parse("http://banking-backend:8000/graphql").expect("url");
        let client = ApiClient::new(url).expect("client");
        assert_eq!(client.ready.as_str(), "http://banking-backend:8000/ready");
    }
}
