//! A token's IP allow-list (docs/tokens.md): up to [`MAX_ENTRIES`] IPv4/IPv6 addresses or CIDR
//! ranges, parsed with `ipnet` and kept canonical — host bits cleared (`10.1.2.3/8` is
//! `10.0.0.0/8`), a bare address as its own `/32` or `/128`, repeats dropped, in the order given.
//! An empty list allows every address.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Error, Result};

/// How many entries one token's list may have.
pub const MAX_ENTRIES: usize = 20;

/// The form field (and API field) errors are reported on.
const FIELD: &str = "allowed_ips";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    /// Any address.
    pub fn any() -> Self {
        AllowList(Vec::new())
    }

    /// One entry per item (blank items are skipped): what the CLI's repeated `--allow-ip` and
    /// the API send.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut nets: Vec<IpNet> = Vec::new();
        let mut count = 0;
        for raw in entries {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            count += 1;
            let net = parse_entry(raw)?;
            if !nets.contains(&net) {
                nets.push(net);
            }
        }
        if count > MAX_ENTRIES {
            return Err(Error::invalid(
                FIELD,
                format!(
                    "A token can have at most {MAX_ENTRIES} addresses or ranges; this list has {count}."
                ),
            ));
        }
        Ok(AllowList(nets))
    }

    /// A form's text: entries separated by commas, spaces or new lines.
    pub fn parse_text(text: &str) -> Result<Self> {
        Self::parse(text.split(|c: char| c == ',' || c.is_whitespace()))
    }

    pub fn is_any(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a call from `ip` may use the token. IPv4 addresses that reach a dual-stack
    /// socket as IPv4-mapped IPv6 (`::ffff:10.0.0.1`) are matched as the IPv4 address they are;
    /// otherwise an IPv6 caller never matches an IPv4 entry, nor the other way round.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.is_any() || self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether this list allows nothing that `wider` does not: every entry lies within one of
    /// `wider`'s (what a team admin may set on a member's token). Any list is within "any";
    /// "any" is within nothing but "any".
    pub fn is_within(&self, wider: &AllowList) -> bool {
        if wider.is_any() {
            return true;
        }
        !self.is_any()
            && self
                .0
                .iter()
                .all(|net| wider.0.iter().any(|outer| outer.contains(net)))
    }

    /// The entries as text, canonical (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.2/32`).
    pub fn entries(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// As stored in `tokens.allowed_ips`: `None` for any address.
    pub(crate) fn to_column(&self) -> Option<String> {
        (!self.is_any()).then(|| serde_json::Value::from(self.entries()).to_string())
    }

    /// From `tokens.allowed_ips`. The column is only written by [`Self::to_column`]; an entry
    /// that no longer parses is dropped and, should that leave nothing, the list allows no
    /// address at all (never every address).
    pub(crate) fn from_column(column: Option<&str>) -> Self {
        let Some(json) = column else {
            return AllowList::any();
        };
        let entries: Vec<String> = serde_json::from_str(json).unwrap_or_default();
        let nets: Vec<IpNet> = entries.iter().filter_map(|e| e.parse().ok()).collect();
        if nets.is_empty() {
            tracing::error!("a token's allowed_ips column does not parse; it allows no address");
            // 0.0.0.0/32 and ::/128 are no caller's address.
            return AllowList(vec![
                IpNet::from(IpAddr::from([0, 0, 0, 0])),
                IpNet::from(IpAddr::from([0u16; 8])),
            ]);
        }
        AllowList(nets)
    }
}

/// One entry: an address or a CIDR range, with a message that says what is wrong.
fn parse_entry(raw: &str) -> Result<IpNet> {
    let wrong = |why: String| Error::invalid(FIELD, format!("“{raw}” {why}"));
    let (address, prefix) = match raw.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (raw, None),
    };
    let address: IpAddr = address.parse().map_err(|_| {
        wrong("is not an IP address or range: write an address like 203.0.113.7 or 2001:db8::1, or a range like 10.0.0.0/8.".into())
    })?;
    let address = address.to_canonical();
    let longest = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => longest,
        Some(text) => text
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= longest)
            .ok_or_else(|| {
                let family = if address.is_ipv4() { "IPv4" } else { "IPv6" };
                wrong(format!(
                    "has no valid prefix length: an {family} range ends in /0 to /{longest}."
                ))
            })?,
    };
    let net = IpNet::new(address, prefix).map_err(|_| wrong("is not a valid range.".into()))?;
    Ok(net.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn entries_are_canonical_and_distinct() {
        let list =
            AllowList::parse_text("10.1.2.3/8, 127.0.0.2\n2001:DB8::1/32 10.0.0.0/8 ::1").unwrap();
        assert_eq!(
            list.entries(),
            ["10.0.0.0/8", "127.0.0.2/32", "2001:db8::/32", "::1/128"]
        );
        assert_eq!(AllowList::parse_text(" ,\n").unwrap(), AllowList::any());
        // An IPv4-mapped entry is the IPv4 address.
        assert_eq!(
            AllowList::parse(["::ffff:192.0.2.1"]).unwrap().entries(),
            ["192.0.2.1/32"]
        );
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let message = |text: &str| match AllowList::parse_text(text) {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "allowed_ips");
                message
            }
            other => panic!("{text}: {other:?}"),
        };
        assert!(message("10.0.0.0/33").contains("/0 to /32"));
        assert!(message("2001:db8::/129").contains("/0 to /128"));
        assert!(message("999.1.1.1").contains("“999.1.1.1” is not an IP address"));
        assert!(message("10.0.0.0/x").contains("prefix"));
        assert!(message("example.com").contains("not an IP address"));
        let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
        assert!(
            message(&many.join(",")).contains("at most 20"),
            "21 entries"
        );
        assert_eq!(
            AllowList::parse_text(&many[..20].join(","))
                .unwrap()
                .entries()
                .len(),
            20
        );
    }

    #[test]
    fn matching() {
        let list = AllowList::parse(["127.0.0.2/32", "10.0.0.0/8"]).unwrap();
        assert!(list.allows(ip("127.0.0.2")));
        assert!(list.allows(ip("10.200.3.4")));
        assert!(!list.allows(ip("127.0.0.1")));
        assert!(
            !list.allows(ip("::1")),
            "IPv6 loopback against an IPv4 list"
        );
        assert!(list.allows(ip("::ffff:127.0.0.2")), "IPv4-mapped");
        assert!(AllowList::any().allows(ip("::1")));
        let v6 = AllowList::parse(["2001:db8::/32"]).unwrap();
        assert!(v6.allows(ip("2001:db8:1::5")));
        assert!(!v6.allows(ip("10.0.0.1")));
    }

    #[test]
    fn tightening() {
        let wide = AllowList::parse(["10.0.0.0/8"]).unwrap();
        let narrow = AllowList::parse(["10.1.0.0/16", "10.2.3.4"]).unwrap();
        assert!(narrow.is_within(&wide));
        assert!(!wide.is_within(&narrow));
        assert!(wide.is_within(&AllowList::any()));
        assert!(!AllowList::any().is_within(&wide));
        assert!(AllowList::any().is_within(&AllowList::any()));
        assert!(!AllowList::parse(["11.0.0.1"]).unwrap().is_within(&wide));
    }

    #[test]
    fn column_round_trip() {
        let list = AllowList::parse(["10.0.0.0/8", "::1"]).unwrap();
        assert_eq!(AllowList::from_column(list.to_column().as_deref()), list);
        assert_eq!(AllowList::any().to_column(), None);
        let broken = AllowList::from_column(Some("nonsense"));
        assert!(!broken.is_any() && !broken.allows(ip("127.0.0.1")));
    }
}
