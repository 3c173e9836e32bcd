//! Spans for GraphQL execution and resolvers. async-graphql's own `Tracing` extension
//! records the document with its variables, which can hold a password; this one records
//! only operation and field names.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{Response, ServerResult, Value};
use tracing::Instrument;

pub struct ResolverSpans;

impl ExtensionFactory for ResolverSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResolverSpans)
    }
}

/// Fields that do I/O get a span; plain fields of a loaded value would only add noise.
fn worth_a_span(info: &ResolveInfo<'_>) -> bool {
    !info.is_for_introspection
        && (matches!(info.parent_type, "Query" | "Mutation")
            || matches!(info.name, "accounts" | "transactions"))
}

#[async_trait::async_trait]
impl Extension for ResolverSpans {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let span = tracing::info_span!(
            target: "banking",
            "graphql.execute",
            otel.name = %format!("graphql {}", operation_name.unwrap_or("anonymous")),
            graphql.operation = operation_name.unwrap_or("anonymous"),
        );
        next.run(ctx, operation_name).instrument(span).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if !worth_a_span(&info) {
            return next.run(ctx, info).await;
        }
        let span = tracing::info_span!(
            target: "banking",
            "graphql.resolve",
            otel.name = %format!("{}.{}", info.parent_type, info.name),
            graphql.field = info.name,
            graphql.parent_type = info.parent_type,
        );
        next.run(ctx, info).instrument(span).await
    }
}
