//! The web's integration tests, one binary (each test binary links every dependency):
//! each module is one area, started against the real server on a random port.

mod support;

mod accessibility;
mod browser;
mod live;
mod pages;
mod server;
mod sign_in_address;
mod trace;
