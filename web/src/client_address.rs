//! The browser's address, passed on to the api so it throttles sign-ins by the customer's
//! address rather than by this web server's.
//!
//! The rule is the api's (`api/src/auth/client_address.rs`; the split web does not link
//! the api, hence this short copy): the TCP peer, or, when the peer is one of
//! `TRUSTED_PROXIES`, the right-most `X-Forwarded-For` address that is not. The web then
//! sends that one address as `X-Forwarded-For`, and the api, trusting the web, takes it.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderValue;
use ipnet::IpNet;

/// More proxies than this in front of the bank is a header someone made up.
const MAX_HOPS: usize = 16;

/// The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Loopback only, as the api's default.
    pub const DEFAULT: &'static str = "127.0.0.0/8,::1/128";

    pub fn loopback() -> TrustedProxies {
        TrustedProxies::from_str(TrustedProxies::DEFAULT).unwrap_or(TrustedProxies(Vec::new()))
    }

    fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// Walks from the peer leftwards through the forwarded hops to the first address
    /// that is not a trusted proxy.
    pub fn client(&self, origin: &Origin) -> IpAddr {
        let mut client = canonical(origin.peer.ip());
        if !self.contains(client) {
            return client;
        }
        // Read from the right, lazily: a huge header costs only its last few entries.
        let hops = origin
            .forwarded_for
            .iter()
            .rev()
            .flat_map(|value| match value.to_str() {
                Ok(text) => text.rsplit(',').take(MAX_HOPS).map(parse_hop).collect(),
                Err(_) => vec![None],
            })
            .take(MAX_HOPS);
        for hop in hops {
            let Some(address) = hop else {
                return client;
            };
            client = address;
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{part:?} is not a CIDR such as 10.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// Where a page request came from, as the connection and its headers tell it.
#[derive(Clone, Debug)]
pub struct Origin {
    pub peer: SocketAddr,
    pub forwarded_for: Vec<HeaderValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(peer: &str, forwarded: &[&str]) -> Origin {
        Origin {
            peer: peer.parse().expect("peer"),
            forwarded_for: forwarded
                .iter()
                .map(|v| HeaderValue::from_str(v).expect("header"))
                .collect(),
        }
    }

    #[test]
    fn a_forwarded_address_counts_only_through_a_trusted_proxy() {
        let trusted: TrustedProxies = "127.0.0.0/8,10.0.0.0/8".parse().expect("cidrs");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(
            trusted.client(&origin("203.0.113.5:4000", &["6.6.6.6"])),
            ip("203.0.113.5")
        );
        assert_eq!(
            trusted.client(&origin("10.0.0.9:4000", &["6.6.6.6, 198.51.100.2"])),
            ip("198.51.100.2")
        );
        assert_eq!(
            trusted.client(&origin("127.0.0.1:4000", &["bogus", "10.0.0.7"])),
            ip("10.0.0.7")
        );
        assert!("10.0.0.0/40".parse::<TrustedProxies>().is_err());
    }
}
