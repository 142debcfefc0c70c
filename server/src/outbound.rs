//! patdesk's own requests to URLs that someone else's settings name (an issuer's keys, a
//! webhook's endpoint): the host is resolved here, every address checked by
//! `domain::outbound::refused_destination` (no loopback, private, link-local or reserved ones),
//! and the request made to the very address checked (reqwest's `resolve`: no second lookup
//! that DNS rebinding could answer differently). Redirects are never followed.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use openidconnect::reqwest;

/// Which addresses besides public ones a caller accepts (tests').
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inside {
    /// Public addresses only.
    Refused,
    /// Loopback too (`PATDESK_FEDERATION_ALLOW_HTTP_LOOPBACK`).
    Loopback,
    /// Any address (`PATDESK_WEBHOOK_ALLOW_PRIVATE`).
    Allowed,
}

impl Inside {
    fn accepts(self, ip: IpAddr) -> Result<(), &'static str> {
        match (domain::outbound::refused_destination(ip), self) {
            (None, _) | (Some(_), Inside::Allowed) => Ok(()),
            (Some(_), Inside::Loopback) if ip.is_loopback() => Ok(()),
            (Some(why), _) => Err(why),
        }
    }
}

/// A client for `url` that connects only to an address of its host that `inside` accepts,
/// with `timeout` for the whole request; `Err` says why not, in words that name no address.
pub async fn client_for(
    url: &url::Url,
    inside: Inside,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let host = url.host_str().ok_or("its URL has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("its URL has no port")?;
    let lookup_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let lookup = tokio::net::lookup_host((lookup_host.as_str(), port));
    let addresses: Vec<SocketAddr> = tokio::time::timeout(timeout, lookup)
        .await
        .map_err(|_| "its host name did not resolve in time".to_string())?
        .map_err(|_| "its host name does not resolve".to_string())?
        .collect();
    let mut refusal = "its host name does not resolve";
    let mut chosen = None;
    for address in addresses {
        match inside.accepts(address.ip()) {
            Ok(()) => {
                chosen = Some(address);
                break;
            }
            Err(why) => refusal = why,
        }
    }
    let Some(address) = chosen else {
        return Err(format!(
            "its host is {refusal}, where patdesk sends no requests"
        ));
    };
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment would resolve the name again, itself.
        .no_proxy()
        .timeout(timeout);
    // An address in the URL is the address checked; a name is pinned to the one checked.
    let builder = if lookup_host.parse::<IpAddr>().is_ok() {
        builder
    } else {
        builder.resolve(&host, address)
    };
    builder
        .build()
        .map_err(|_| "no client could be made".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_rule_accepts() {
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        for inside in [Inside::Refused, Inside::Loopback, Inside::Allowed] {
            assert!(inside.accepts(public).is_ok());
        }
        assert!(Inside::Refused.accepts(loopback).is_err());
        assert!(Inside::Loopback.accepts(loopback).is_ok());
        assert!(Inside::Loopback.accepts(metadata).is_err());
        assert!(Inside::Allowed.accepts(metadata).is_ok());
    }
}
