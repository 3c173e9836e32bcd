//! Parsed documents remembered by their text. Clients send the same few operations over
//! and over (the web front end only sends its compiled-in ones), and parsing is a large
//! share of a small query's cost. Only documents that parsed and passed the parse-time
//! limits are kept, so a cached one skips nothing that could have refused it.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// Distinct documents kept; each is a few KiB at most.
const CAPACITY: u64 = 512;
/// Longer documents are parsed every time, so the cache cannot be filled with huge ones.
const MAX_CACHED_LEN: usize = 8 * 1024;

#[derive(Clone)]
pub struct DocumentCache(moka::sync::Cache<Arc<str>, ExecutableDocument>);

impl DocumentCache {
    pub fn new() -> DocumentCache {
        DocumentCache(moka::sync::Cache::new(CAPACITY))
    }
}

impl ExtensionFactory for DocumentCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for DocumentCache {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > MAX_CACHED_LEN {
            return next.run(ctx, query, variables).await;
        }
        if let Some(document) = self.0.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await?;
        self.0.insert(Arc::from(query), document.clone());
        Ok(document)
    }
}
