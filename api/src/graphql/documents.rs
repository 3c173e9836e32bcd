//! Validations remembered by document text, operation and variables. Clients send the
//! same few operations over and over (the web front end only sends its compiled-in ones),
//! and validating is a large share of a small query's cost. (Parsed documents are
//! remembered by `guard`, which parses them.)
//!
//! A validation is a pure function of what is cached on: the text, the operation name and
//! the variables (complexity counts `first: $n`), against a schema that never changes while
//! the process runs. Only successes are kept, so a cached validation skips nothing that
//! could have refused the request.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextValidation,
};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult};

/// Distinct validations kept.
const CAPACITY: u64 = 512;
/// Longer documents are validated afresh every time, so the cache cannot be filled with
/// huge ones.
const MAX_CACHED_LEN: usize = 8 * 1024;
/// Requests with more variables than this are validated afresh.
const MAX_CACHED_VARIABLES_LEN: usize = 1024;

#[derive(Clone)]
pub struct DocumentCache {
    validations: moka::sync::Cache<Arc<str>, ValidationResult>,
}

impl DocumentCache {
    pub fn new() -> DocumentCache {
        DocumentCache {
            validations: moka::sync::Cache::new(CAPACITY),
        }
    }
}

impl ExtensionFactory for DocumentCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ForRequest {
            cache: self.clone(),
            validation_key: Mutex::new(None),
        })
    }
}

/// The extension as one request sees it: the caches, and what this request's validation
/// would be remembered under.
struct ForRequest {
    cache: DocumentCache,
    validation_key: Mutex<Option<Arc<str>>>,
}

impl ForRequest {
    fn validation_key(&self) -> Option<Arc<str>> {
        self.validation_key.lock().ok().and_then(|key| key.clone())
    }
}

#[async_trait::async_trait]
impl Extension for ForRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if request.query.len() <= MAX_CACHED_LEN
            && let Ok(variables) = serde_json::to_string(&request.variables)
            && variables.len() <= MAX_CACHED_VARIABLES_LEN
            && let Ok(mut key) = self.validation_key.lock()
        {
            let operation = request.operation_name.as_deref().unwrap_or("");
            // The query text cannot contain a NUL outside a string literal, and JSON
            // escapes it inside one, so the parts cannot run into each other.
            *key = Some(Arc::from(format!(
                "{operation}\0{variables}\0{}",
                request.query
            )));
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let key = self.validation_key();
        if let Some(key) = &key
            && let Some(result) = self.cache.validations.get(key)
        {
            return Ok(result);
        }
        let result = next.run(ctx).await?;
        if let Some(key) = key {
            self.cache.validations.insert(key, result);
        }
        Ok(result)
    }
}
