//! The trusted path: a query identical to one that already passed every check runs on a
//! copy of the schema without extensions.
//!
//! Why: async-graphql resolves each field through every extension's `resolve` hook, with
//! a `ResolveInfo` built from registry look-ups, as soon as the schema has one extension
//! at all; only an extension-free schema takes its fast path. Measured with callgrind on
//! `{ accounts { id accountNumber type balance } }` (two accounts, cached), the per-field
//! chains were a quarter of the request's instructions (docs/benchmarks-notes.md).
//!
//! Why it is safe: what the extensions decide is a pure function of what the admission is
//! keyed on - the document's text, the operation name and the variables - against a schema
//! that does not change while the process runs. The guard's refusals (nesting, expansion,
//! fragments, sign-ins per request, unknown types, variable nesting) and async-graphql's
//! strict validation look at nothing else, and a request is admitted only after it ran on
//! the full schema: its answer carried data, which async-graphql produces only past
//! validation. The trusted schema still checks what bounds the work (complexity and depth,
//! which count `first: $n`, and fragment cycles: `ValidationMode::Fast`), and its resolvers
//! ask for the caller's capability exactly as before. Only queries are admitted (nothing
//! with a password or a one-off idempotency key is kept), and only while no trace exporter
//! is configured: with one, every request keeps its per-field spans.

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Request, Response};

use crate::graphql::BankSchema;
use crate::graphql::guard::CheckedDocuments;

/// Distinct (document, operation, variables) remembered as trusted: the web sends a
/// handful of fixed documents, each with few distinct variable values per customer page.
const ADMITTED: u64 = 256;
/// Longer documents or variables are never admitted, so the cache stays small.
const MAX_DOCUMENT_LEN: usize = 8 * 1024;
const MAX_VARIABLES_LEN: usize = 1024;

pub struct Trusted {
    schema: BankSchema,
    /// The parsed document of each admitted request, by its key.
    admitted: moka::sync::Cache<Arc<str>, ExecutableDocument>,
    /// The documents the full schema's guard let through, by their text: a client sends a
    /// few documents with many different variables (one per customer), and each admission
    /// would otherwise parse its text again (a tenth of a history page's instructions at
    /// 10^6 customers).
    documents: CheckedDocuments,
}

impl Trusted {
    /// `schema` must be the full schema's roots and data without its extensions
    /// (`graphql::trusted_schema`); `documents`, the full schema's guard's.
    pub fn new(schema: BankSchema, documents: CheckedDocuments) -> Trusted {
        Trusted {
            schema,
            admitted: moka::sync::Cache::new(ADMITTED),
            documents,
        }
    }

    /// What a request is admitted under, when it may be at all: a query (a document that
    /// does not start with `mutation` or `subscription`; the parse at admission decides)
    /// of bounded size.
    pub fn key(request: &Request) -> Option<Arc<str>> {
        let text = request.query.trim_start();
        if request.query.len() > MAX_DOCUMENT_LEN
            || text.starts_with("mutation")
            || text.starts_with("subscription")
        {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        if variables.len() > MAX_VARIABLES_LEN {
            return None;
        }
        let operation = request.operation_name.as_deref().unwrap_or("");
        // The text cannot hold a NUL outside a string literal, and JSON escapes one inside
        // it, so the parts cannot run into each other.
        Some(Arc::from(format!(
            "{operation}\0{variables}\0{}",
            request.query
        )))
    }

    /// Readies the request for the trusted schema (its document already parsed) when an
    /// identical one was admitted; false: it goes to the full schema.
    pub fn prepare(&self, key: &str, request: &mut Request) -> bool {
        match self.admitted.get(key) {
            Some(document) => {
                request.set_parsed_query(document);
                true
            }
            None => false,
        }
    }

    pub fn schema(&self) -> &BankSchema {
        &self.schema
    }

    /// After a run on the full schema: remembers the request when it was a query that
    /// got through every check (its answer has data).
    pub fn admit(&self, key: Arc<str>, query: &str, operation: Option<&str>, response: &Response) {
        if matches!(response.data, async_graphql::Value::Null) || self.admitted.contains_key(&key) {
            return;
        }
        // Parsed again only when the guard has let the document go from its cache since.
        let Some(document) = self
            .documents
            .get(query)
            .or_else(|| async_graphql::parser::parse_query(query).ok())
        else {
            return;
        };
        if runs_a_query(&document, operation) {
            self.admitted.insert(key, document);
        }
    }
}

/// Whether the operation `name` selects is a query (the full schema already refused an
/// unclear selection, or there would be no data).
fn runs_a_query(document: &ExecutableDocument, name: Option<&str>) -> bool {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|operation| operation.node.ty == OperationType::Query)
}
