//! Guards that run before async-graphql does any work a document could make expensive.
//!
//! async-graphql's parser recurses once per nesting level of a value (`[[[…]]]`,
//! `{a:{a:…}}`, `[[Int]]` types), so a few kilobytes of brackets overflow a worker's stack
//! and abort the process. Its validation and complexity rules expand fragment spreads
//! without memoisation, so `F0 = F1 F1, F1 = F2 F2, …` costs 2ⁿ. Neither is bounded by
//! the depth or complexity limits, which count fields, not values, and see `__typename`
//! as free.
//!
//! So every document is first scanned as text (one pass, no recursion) for its bracket
//! nesting, and once parsed, its size with every fragment spread expanded is counted
//! with memoisation (linear in the document, also without recursion). Anything over the
//! limits is refused before validation or execution starts. The same pass enforces one
//! sign-in per request: aliases must not turn one request into a hundred password
//! guesses or a batch of new customers.

use banking_common::error_code::ErrorCode;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{
    ErrorExtensionValues, Name, Request, ServerError, ServerResult, Value, Variables,
};

/// Brackets, braces and parentheses open at once. The deepest document a client sends
/// (`me.accounts.transactions.edges.node` with arguments) nests about ten; the parser
/// overflowed at 2,000.
pub const MAX_NESTING: usize = 64;
/// Fields, spreads and inline fragments of one operation (or fragment) with every spread
/// expanded. The web's dashboard document has about 30.
pub const MAX_SELECTIONS: usize = 1_000;
/// Fragment definitions in one document.
pub const MAX_FRAGMENTS: usize = 100;
/// Mutations that verify a password or create a customer, per request.
const SIGN_IN_FIELDS: [&str; 2] = ["login", "signup"];

/// The extension key that marks a refusal of this module: the transport answers such a
/// request 400, whatever media type was asked for, as it does a body over the size limit.
pub const LIMIT_EXTENSION: &str = "limit";

/// Why a document was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Nesting,
    Selections,
    Fragments,
    FragmentCycle,
    SignIns,
    UnknownType,
}

impl Refusal {
    fn message(self) -> String {
        match self {
            Refusal::Nesting => format!(
                "the document nests brackets, braces or parentheses more than {MAX_NESTING} deep"
            ),
            Refusal::Selections => format!(
                "the document selects more than {MAX_SELECTIONS} fields once its fragments are expanded"
            ),
            Refusal::Fragments => {
                format!("the document defines more than {MAX_FRAGMENTS} fragments")
            }
            Refusal::FragmentCycle => {
                "the document's fragments spread each other in a cycle".into()
            }
            Refusal::SignIns => "sign in or sign up once per request".into(),
            Refusal::UnknownType => {
                "a variable is declared with a type the schema does not have".into()
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Refusal::Nesting => "nesting",
            Refusal::Selections => "selections",
            Refusal::Fragments => "fragments",
            Refusal::FragmentCycle => "fragment_cycle",
            Refusal::SignIns => "sign_ins",
            Refusal::UnknownType => "unknown_type",
        }
    }

    fn into_error(self) -> ServerError {
        let mut error = ServerError::new(self.message(), None);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", ErrorCode::BadUserInput.as_str());
        extensions.set(LIMIT_EXTENSION, self.name());
        error.extensions = Some(extensions);
        error
    }
}

/// Whether an error in a response is one of this module's refusals.
pub fn is_refusal(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get(LIMIT_EXTENSION).is_some())
}

/// The deepest nesting of `[`, `{` and `(` in a document's text, outside strings and
/// comments; stops counting once past `MAX_NESTING`.
pub fn check_nesting(text: &str) -> Result<(), Refusal> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refusal::Nesting);
                }
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The nesting of lists and objects in the request's variables, counted without
/// recursion (serde_json already refuses JSON nested past 128).
pub fn check_variables(variables: &Variables) -> Result<(), Refusal> {
    let mut stack: Vec<(&Value, usize)> = variables.values().map(|v| (v, 1)).collect();
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_NESTING {
            return Err(Refusal::Nesting);
        }
        match value {
            Value::List(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(fields) => stack.extend(fields.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// What one selection set holds before spreads are expanded: its own selections, the
/// fragments it spreads (with how often), and the sign-in fields at its root level.
#[derive(Default)]
struct Shape<'a> {
    own: usize,
    spreads: HashMap<&'a str, usize>,
    root_sign_ins: usize,
    root_spreads: HashMap<&'a str, usize>,
}

/// Walks a selection set without recursion. Inline fragments at the root stay at the
/// root (their fields are root fields); fields open a deeper level.
fn shape(set: &SelectionSet) -> Shape<'_> {
    let mut shape = Shape::default();
    let mut stack: Vec<(&SelectionSet, bool)> = vec![(set, true)];
    while let Some((set, root)) = stack.pop() {
        for item in &set.items {
            shape.own += 1;
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if root && SIGN_IN_FIELDS.contains(&field.name.node.as_str()) {
                        shape.root_sign_ins += 1;
                    }
                    stack.push((&field.selection_set.node, false));
                }
                Selection::InlineFragment(fragment) => {
                    stack.push((&fragment.node.selection_set.node, root));
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    *shape.spreads.entry(name).or_default() += 1;
                    if root {
                        *shape.root_spreads.entry(name).or_default() += 1;
                    }
                }
            }
        }
    }
    shape
}

/// Expanded sizes of fragments, computed once each.
struct Expansion<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    shapes: HashMap<&'a str, Shape<'a>>,
    /// Fragment → (selections when expanded, sign-in fields at the root when expanded).
    done: HashMap<&'a str, (usize, usize)>,
}

impl<'a> Expansion<'a> {
    fn new(document: &'a ExecutableDocument) -> Result<Expansion<'a>, Refusal> {
        if document.fragments.len() > MAX_FRAGMENTS {
            return Err(Refusal::Fragments);
        }
        let shapes = document
            .fragments
            .iter()
            .map(|(name, fragment)| (name.as_str(), shape(&fragment.node.selection_set.node)))
            .collect();
        Ok(Expansion {
            fragments: &document.fragments,
            shapes,
            done: HashMap::new(),
        })
    }

    /// Computes every fragment's expanded size in post-order with an explicit stack;
    /// a spread of a fragment still being computed is a cycle.
    fn expand_all(&mut self) -> Result<(), Refusal> {
        let names: Vec<&'a str> = self.fragments.keys().map(|n| n.as_str()).collect();
        for start in names {
            let mut in_progress: Vec<&'a str> = Vec::new();
            let mut stack: Vec<(&'a str, bool)> = vec![(start, false)];
            while let Some((name, children_done)) = stack.pop() {
                if self.done.contains_key(name) {
                    continue;
                }
                let Some(shape) = self.shapes.get(name) else {
                    // An unknown fragment: validation reports it; it expands to nothing.
                    self.done.insert(name, (0, 0));
                    continue;
                };
                if children_done {
                    in_progress.retain(|n| *n != name);
                    let sizes = self.sizes(shape)?;
                    self.done.insert(name, sizes);
                    continue;
                }
                // Entered but unfinished fragments are exactly the path from `start`.
                if in_progress.contains(&name) {
                    return Err(Refusal::FragmentCycle);
                }
                in_progress.push(name);
                stack.push((name, true));
                for &spread in shape.spreads.keys() {
                    if self.done.contains_key(spread) {
                        continue;
                    }
                    if in_progress.contains(&spread) {
                        return Err(Refusal::FragmentCycle);
                    }
                    stack.push((spread, false));
                }
            }
        }
        Ok(())
    }

    /// A shape's expanded selections and root sign-ins, its spreads already computed.
    fn sizes(&self, shape: &Shape<'a>) -> Result<(usize, usize), Refusal> {
        let mut selections = shape.own;
        for (name, times) in &shape.spreads {
            let (size, _) = self.done.get(name).copied().unwrap_or((0, 0));
            selections = selections.saturating_add(size.saturating_mul(*times));
        }
        let mut sign_ins = shape.root_sign_ins;
        for (name, times) in &shape.root_spreads {
            let (_, inner) = self.done.get(name).copied().unwrap_or((0, 0));
            sign_ins = sign_ins.saturating_add(inner.saturating_mul(*times));
        }
        if selections > MAX_SELECTIONS {
            return Err(Refusal::Selections);
        }
        Ok((selections, sign_ins))
    }
}

/// Refuses a parsed document whose expansion is too large, whose fragments form a cycle,
/// whose mutation signs in more than once, or whose variables name a type the schema does
/// not have (async-graphql's validation panics on a default value of such a type).
pub fn check_document(
    document: &ExecutableDocument,
    known_types: &HashSet<String>,
) -> Result<(), Refusal> {
    let mut expansion = Expansion::new(document)?;
    expansion.expand_all()?;
    for (_, operation) in document.operations.iter() {
        for variable in &operation.node.variable_definitions {
            let mut ty = &variable.node.var_type.node;
            // Nesting is bounded by the text scan; this walks it without recursion.
            let name = loop {
                match &ty.base {
                    BaseType::Named(name) => break name,
                    BaseType::List(inner) => ty = inner,
                }
            };
            if !known_types.contains(name.as_str()) {
                return Err(Refusal::UnknownType);
            }
        }
        let shape = shape(&operation.node.selection_set.node);
        let (_, sign_ins) = expansion.sizes(&shape)?;
        if operation.node.ty == OperationType::Mutation && sign_ins > 1 {
            return Err(Refusal::SignIns);
        }
    }
    Ok(())
}

/// Documents this long or shorter are remembered once parsed and checked: clients send
/// the same few operations over and over (the web only its compiled-in ones), and parsing
/// is a large share of a small query's cost. Longer ones are handled afresh every time,
/// so the cache cannot be filled with huge ones.
const MAX_REMEMBERED_LEN: usize = 8 * 1024;
/// Distinct documents remembered; each is a few KiB at most.
const REMEMBERED: u64 = 512;

/// Documents that passed every check of the guard, parsed, by their text: filled by the
/// guard, and read by the trusted path when it admits a request (which ran through the
/// guard), so one document text is parsed once however many variables it comes with.
#[derive(Clone)]
pub struct CheckedDocuments(moka::sync::Cache<Arc<str>, ExecutableDocument>);

impl CheckedDocuments {
    pub fn new() -> CheckedDocuments {
        CheckedDocuments(moka::sync::Cache::new(REMEMBERED))
    }

    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        self.0.get(text)
    }
}

impl Default for CheckedDocuments {
    fn default() -> CheckedDocuments {
        CheckedDocuments::new()
    }
}

/// The guards as an async-graphql extension, registered before every other one. It parses
/// the document itself (once the text has passed) and hands the checked result to the
/// schema, because async-graphql's own parse step also walks the document (recursion
/// depth, directives) before any later hook could look at it.
#[derive(Clone)]
pub struct DocumentGuard {
    documents: CheckedDocuments,
    /// Every type name of the schema.
    known_types: Arc<HashSet<String>>,
}

impl DocumentGuard {
    pub fn new(
        known_types: impl IntoIterator<Item = String>,
        documents: CheckedDocuments,
    ) -> DocumentGuard {
        DocumentGuard {
            documents,
            known_types: Arc::new(known_types.into_iter().collect()),
        }
    }

    /// The parsed document, refused before parsing when its text nests too deep and
    /// after when it expands too far.
    fn document(&self, query: &str) -> ServerResult<ExecutableDocument> {
        let remember = query.len() <= MAX_REMEMBERED_LEN;
        if remember && let Some(document) = self.documents.get(query) {
            return Ok(document);
        }
        check_nesting(query).map_err(Refusal::into_error)?;
        let document = async_graphql::parser::parse_query(query).map_err(ServerError::from)?;
        check_document(&document, &self.known_types).map_err(Refusal::into_error)?;
        if remember {
            self.documents.0.insert(Arc::from(query), document.clone());
        }
        Ok(document)
    }
}

impl ExtensionFactory for DocumentGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for DocumentGuard {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        check_variables(&request.variables).map_err(Refusal::into_error)?;
        let document = self.document(&request.query)?;
        request.set_parsed_query(document);
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(text).expect("parses")
    }

    fn check_document(document: &ExecutableDocument) -> Result<(), Refusal> {
        let known = ["Int", "String", "Query", "Mutation"]
            .into_iter()
            .map(String::from)
            .collect();
        super::check_document(document, &known)
    }

    fn bomb(n: usize, leaf: &str) -> String {
        let mut text = String::from("query{...F0}");
        for i in 0..n {
            text.push_str(&format!(
                " fragment F{i} on Query{{...F{} ...F{}}}",
                i + 1,
                i + 1
            ));
        }
        text.push_str(&format!(" fragment F{n} on Query{{{leaf}}}"));
        text
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let deep = format!("{{__typename(a:{}{})}}", "[".repeat(2000), "]".repeat(2000));
        assert_eq!(check_nesting(&deep), Err(Refusal::Nesting));
        let objects = format!("{{f(a:{}1{})}}", "{a:".repeat(100), "}".repeat(100));
        assert_eq!(check_nesting(&objects), Err(Refusal::Nesting));
        let inert = format!(
            "{{ f(a: \"{0}\", b: \"\"\"{0} \\\"\"\" {0}\"\"\") # {0}\n }}",
            "[".repeat(500)
        );
        assert_eq!(check_nesting(&inert), Ok(()));
        let ordinary = "query Q($n: Int = 5) { me { accounts { transactions(first: $n) { edges { node { id } } } } } }";
        assert_eq!(check_nesting(ordinary), Ok(()));
        // An unterminated string or block string ends the scan, it does not loop.
        assert_eq!(check_nesting("{ f(a: \"[[[ "), Ok(()));
        assert_eq!(check_nesting("{ f(a: \"\"\"[[[ "), Ok(()));
    }

    #[test]
    fn fragment_bombs_are_counted_linearly() {
        for n in [18, 30, 64, 200] {
            let text = bomb(n.min(90), "__typename");
            assert_eq!(
                check_document(&parse(&text)),
                Err(Refusal::Selections),
                "n={n}"
            );
        }
        assert_eq!(check_document(&parse(&bomb(5, "__typename"))), Ok(()));
        let many = bomb(150, "__typename");
        assert_eq!(check_document(&parse(&many)), Err(Refusal::Fragments));
    }

    #[test]
    fn a_fragment_cycle_is_refused_not_followed() {
        let text = "query{...A} fragment A on Query{...B} fragment B on Query{...A}";
        assert_eq!(check_document(&parse(text)), Err(Refusal::FragmentCycle));
        let own = "query{...A} fragment A on Query{ x { ...A } }";
        assert_eq!(check_document(&parse(own)), Err(Refusal::FragmentCycle));
    }

    #[test]
    fn one_sign_in_per_mutation() {
        let one = r#"mutation { login(username: "a", password: "b") { token } }"#;
        assert_eq!(check_document(&parse(one)), Ok(()));
        let aliased = r#"mutation { a: login(username: "a", password: "b") { token } b: login(username: "a", password: "c") { token } }"#;
        assert_eq!(check_document(&parse(aliased)), Err(Refusal::SignIns));
        let mixed = r#"mutation { login(username: "a", password: "b") { token } signup(input: {username: "x", password: "y", email: "z"}) { token } }"#;
        assert_eq!(check_document(&parse(mixed)), Err(Refusal::SignIns));
        let hidden = r#"mutation { ...L ... on Mutation { login(username: "a", password: "c") { token } } } fragment L on Mutation { login(username: "a", password: "b") { token } }"#;
        assert_eq!(check_document(&parse(hidden)), Err(Refusal::SignIns));
        // A nested field that happens to be called `login` is not a sign-in.
        let nested = "query { me { login } }";
        assert_eq!(check_document(&parse(nested)), Ok(()));
    }

    #[test]
    fn variables_of_unknown_types_are_refused() {
        let text = "query($v: [Nope] = {a: 1}) { __typename }";
        assert_eq!(check_document(&parse(text)), Err(Refusal::UnknownType));
        let known = "query($v: [[Int!]] = [[1]]) { __typename }";
        assert_eq!(check_document(&parse(known)), Ok(()));
    }

    #[test]
    fn deep_variables_are_refused() {
        let mut value = serde_json::json!(1);
        for _ in 0..100 {
            value = serde_json::json!([value]);
        }
        let variables = Variables::from_json(serde_json::json!({ "v": value }));
        assert_eq!(check_variables(&variables), Err(Refusal::Nesting));
        let flat = Variables::from_json(serde_json::json!({ "v": [[1, 2], {"a": [3]}] }));
        assert_eq!(check_variables(&flat), Ok(()));
    }
}
