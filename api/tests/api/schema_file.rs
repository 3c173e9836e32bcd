//! The committed `schema.graphql` is what the code generates (`just schema` rewrites it).

#[test]
fn committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = api::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is stale: run `just schema` (or `cargo run -p api --bin banking-api -- schema > schema.graphql`)"
    );
}
