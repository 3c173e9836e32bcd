//! The GraphQL API: the schema split by domain and merged, thin resolvers over the
//! ledger, limits on depth and complexity. The HTTP side is `crate::graphql_http`.

mod documents;
pub mod guard;
mod inputs;
mod loaders;
mod mutation;
mod query;
mod scalars;
mod spans;
mod subscription;
mod types;

use async_graphql::dataloader::{DataLoader, LruCache};
use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::auth::{Reader, RequestAuth};
use crate::error::Error;
use crate::state::Services;

/// Deeper than any query a client needs: the schema's own types nest at most 6
/// (`me.accounts.transactions.edges.node.x`), and the standard introspection query that
/// GraphiQL sends (graphql-js 16's, nine `ofType`s under `__schema.types.fields.args.type`)
/// is 15 deep.
pub const MAX_DEPTH: usize = 16;
/// Enough for a dashboard with a page of history per account; an alias bomb is far above.
pub const MAX_COMPLEXITY: usize = 2000;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(query::UserQuery, query::AccountQuery, query::PayeeQuery);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    mutation::AuthMutation,
    mutation::LedgerMutation,
    mutation::AccountMutation,
    mutation::PayeeMutation,
);

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(subscription::LiveSubscription);

pub type BankSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(8)
    // Suggestions ("Did you mean …?") would name the schema's fields where introspection
    // is off; clients written against the contract do not need them.
    .disable_suggestions()
}

/// `documents`: where the guard keeps the documents it let through (the trusted path reads
/// them).
pub fn schema(services: Services, documents: guard::CheckedDocuments) -> BankSchema {
    // The guard first: nothing parses or validates a document it has not let through.
    let builder = builder()
        .extension(guard::DocumentGuard::new(
            builder().finish().names(),
            documents,
        ))
        .extension(spans::ResolverSpans)
        .extension(documents::DocumentCache::new());
    with_services(builder, services).finish()
}

/// The same schema without extensions, validating only what bounds the work (complexity
/// and depth, which depend on the variables; fragment cycles), for requests identical to
/// one the full schema let through (`graphql_http/trusted.rs` says why that is safe).
/// Without extensions async-graphql resolves fields on its fast path.
pub fn trusted_schema(services: Services) -> BankSchema {
    let builder = builder().validation_mode(async_graphql::ValidationMode::Fast);
    with_services(builder, services).finish()
}

fn with_services(
    builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>,
    services: Services,
) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    // Account numbers never change once issued, so the loader remembers them across
    // requests: a dashboard's counterparties usually cost no query at all.
    let mut builder = builder
        .data(DataLoader::with_cache(
            loaders::AccountNumbers(services.ledger.clone()),
            tokio::spawn,
            LruCache::new(loaders::REMEMBERED_NUMBERS),
        ))
        .data(services.clone());
    if !services.config.introspection {
        builder = builder.disable_introspection();
    }
    builder
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
