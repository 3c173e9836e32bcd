//! The GraphQL API: the schema split by domain and merged, thin resolvers over the
//! ledger, limits on depth and complexity, and the HTTP handlers.

mod documents;
pub mod guard;
mod inputs;
mod loaders;
mod mutation;
mod query;
mod scalars;
mod spans;
mod types;

use async_graphql::dataloader::{DataLoader, LruCache};
use async_graphql::http::GraphiQLSource;
use async_graphql::{Context, EmptySubscription, MergedObject, Schema, SchemaBuilder};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::auth::{ClientAddress, Reader, RequestAuth};
use crate::error::Error;
use crate::state::{AppState, Services};

/// Deeper than any query a client needs (`me.accounts.transactions.edges.node.x` is 6).
pub const MAX_DEPTH: usize = 10;
/// Enough for a dashboard with a page of history per account; an alias bomb is far above.
pub const MAX_COMPLEXITY: usize = 2000;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(query::UserQuery, query::AccountQuery);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(mutation::AuthMutation, mutation::LedgerMutation);

pub type BankSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(8)
    // Suggestions ("Did you mean …?") would name the schema's fields where introspection
    // is off; clients written against the contract do not need them.
    .disable_suggestions()
}

pub fn schema(services: Services) -> BankSchema {
    // The guard first: nothing parses or validates a document it has not let through.
    let mut builder = builder()
        .extension(guard::DocumentGuard::new(builder().finish().names()))
        .extension(spans::ResolverSpans)
        .extension(documents::DocumentCache::new())
        // Account numbers never change once issued, so the loader remembers them across
        // requests: a dashboard's counterparties usually cost no query at all.
        .data(DataLoader::with_cache(
            loaders::AccountNumbers(services.ledger.clone()),
            tokio::spawn,
            LruCache::new(loaders::REMEMBERED_NUMBERS),
        ))
        .data(services.clone());
    if !services.config.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

fn state<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

fn request_auth<'a>(ctx: &Context<'a>) -> &'a RequestAuth {
    ctx.data_unchecked::<RequestAuth>()
}

async fn reader(ctx: &Context<'_>) -> Result<Reader, Error> {
    request_auth(ctx).reader().await
}

/// `POST /graphql`.
pub async fn execute(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let auth = RequestAuth::from_header(state.services.auth.clone(), bearer);
    let request = request.into_inner();
    let operation = request.operation_name.clone();
    if let Some(name) = &operation {
        tracing::Span::current().record("graphql.operation", name.as_str());
    }
    let mut response = state.schema.execute(request.data(auth).data(client)).await;
    // Errors raised by async-graphql itself (syntax, validation, limits, variable types)
    // carry no code; they are all the client's doing.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
    let outcome = response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|ext| match ext.get("code") {
            Some(async_graphql::Value::String(code)) => Some(code.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "ok".to_owned());
    state
        .services
        .metrics
        .graphql_operation(operation.as_deref(), &outcome);
    // A document refused by the guards is refused as a whole request, like a body over
    // the size limit.
    let status = if response.errors.iter().any(guard::is_refusal) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, GraphQLResponse::from(response)).into_response()
}

/// `GET /graphql`: GraphiQL when enabled.
pub async fn graphiql(State(state): State<AppState>) -> Response {
    if state.services.config.graphiql {
        Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response()
    } else {
        axum::http::StatusCode::NOT_FOUND.into_response()
    }
}
