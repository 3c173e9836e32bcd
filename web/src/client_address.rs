//! Where a page request came from, kept so the api can throttle sign-ins by the
//! customer's address rather than by this web server's. The rule that names the customer
//! (the TCP peer, or through `TRUSTED_PROXIES` the right-most `X-Forwarded-For` address
//! that is not a proxy) is the one both services share, in `banking_common::client_address`;
//! the web sends the one address it finds as `X-Forwarded-For`, and the api, trusting the
//! web, takes it.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderValue;
use banking_common::client_address::TrustedProxies;

/// The connection's peer and its `X-Forwarded-For` values, as the request brought them.
#[derive(Clone, Debug)]
pub struct Origin {
    pub peer: SocketAddr,
    pub forwarded_for: Vec<HeaderValue>,
}

impl Origin {
    /// The customer's address, judged by `trusted`.
    pub fn client(&self, trusted: &TrustedProxies) -> IpAddr {
        trusted.client_forwarded(self.peer.ip(), self.forwarded_for.iter())
    }
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
            origin("203.0.113.5:4000", &["6.6.6.6"]).client(&trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            origin("10.0.0.9:4000", &["6.6.6.6, 198.51.100.2"]).client(&trusted),
            ip("198.51.100.2")
        );
        assert_eq!(
            origin("127.0.0.1:4000", &["bogus", "10.0.0.7"]).client(&trusted),
            ip("10.0.0.7")
        );
    }
}
