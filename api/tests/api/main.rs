//! The api's integration tests, one binary (each test binary links every dependency):
//! each module is one area, started against the real server on a random port.

mod support;

mod account_security;
mod authorization;
mod bank_invariant;
mod cache;
mod error_fields;
mod failover;
mod faults;
mod graphql_flow;
mod graphql_over_http;
mod hostile_input;
mod ledger;
mod limits;
mod near_cache;
mod observability;
mod payees_and_accounts;
mod pools;
mod rest_flow;
mod schema_file;
mod sign_in_throttle;
mod slow_clients;
mod statements;
mod subscriptions;
mod token_seals;
