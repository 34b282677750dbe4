//! Who may try a password now: the sign-in throttling policy.
//!
//! Every attempt is counted in three counters *before* its password is
//! checked, and is evaluated only if all three admit it:
//!
//! - **account × client address**: the few guesses one address gets at one
//!   account before it must wait (an owner who mistypes a few times);
//! - **account**: a slower ceiling across all addresses, against guessing
//!   spread over many addresses;
//! - **client address**: a limit across accounts, against one address
//!   trying one password on many accounts.
//!
//! Past its free attempts a counter answers with a delay that doubles with
//! each further attempt (up to a cap), never a hard lock: an attacker who
//! spends an address's guesses does not deny the owner, who signs in from
//! their own address. A successful sign-in resets its account × address
//! counter and gives back the attempt it took from the other two. A counter
//! left alone long enough forgets.
//!
//! The database only stores the counters; the numbers and the curve are
//! here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    AccountAddress,
    Account,
    Address,
}

/// How one counter admits attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Attempts evaluated back to back before any wait.
    pub free: i64,
    /// The wait after the first attempt past `free`; it doubles with each
    /// further attempt.
    pub base_delay_secs: i64,
    /// The longest wait.
    pub max_delay_secs: i64,
    /// A counter with no attempt for this long starts again from zero.
    pub forget_after_secs: i64,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::AccountAddress, Scope::Account, Scope::Address];

    /// The name used in the `RateLimit` and `RateLimit-Policy` headers.
    pub fn name(self) -> &'static str {
        match self {
            Scope::AccountAddress => "account-address",
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }

    pub fn limits(self) -> Limits {
        match self {
            // An owner who mistypes five times waits 30 s, then 1, 2, 4, 8
            // minutes, at most 15.
            Scope::AccountAddress => Limits {
                free: 5,
                base_delay_secs: 30,
                max_delay_secs: 15 * 60,
                forget_after_secs: 60 * 60,
            },
            // NIST SP 800-63B §5.2.2: at most 100 consecutive failures per
            // account; here 50, then one guess a minute at most, slowing to
            // one per 15 minutes, until a day passes without an attempt or
            // the owner signs in.
            Scope::Account => Limits {
                free: 50,
                base_delay_secs: 60,
                max_delay_secs: 15 * 60,
                forget_after_secs: 24 * 60 * 60,
            },
            // One address across accounts (an office behind one NAT signs
            // in many people, and their successes are given back).
            Scope::Address => Limits {
                free: 50,
                base_delay_secs: 60,
                max_delay_secs: 15 * 60,
                forget_after_secs: 60 * 60,
            },
        }
    }
}

/// What a successful sign-in does to a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    /// Starts again from zero (the row goes).
    Reset,
    /// Gives back the attempt the sign-in took.
    GiveBack,
}

impl Scope {
    /// What a successful sign-in does to this counter: the owner's own
    /// account × address counter starts again; the others only give back
    /// the attempt, so guesses spread over accounts or addresses still count.
    pub fn on_success(self) -> Credit {
        match self {
            Scope::AccountAddress => Credit::Reset,
            Scope::Account | Scope::Address => Credit::GiveBack,
        }
    }
}

impl Limits {
    /// Attempts last made before this time (ms) are forgotten: the counter
    /// starts again from one.
    pub fn forgotten_before(&self, now_ms: i64) -> i64 {
        now_ms - self.forget_after_secs * 1000
    }

    /// When (ms) the counter admits the attempt after the one that brought
    /// it to `attempts`, made at `now_ms`. No wait is 0, not `now`: attempts
    /// stamped a moment apart may reach the row out of order, and a free one
    /// must not refuse the next.
    pub fn next_at_ms(&self, attempts: i64, now_ms: i64) -> i64 {
        match self.delay_after(attempts) {
            0 => 0,
            secs => now_ms + secs * 1000,
        }
    }

    /// Seconds the next attempt waits after the one that brought the count
    /// to `attempts`.
    pub fn delay_after(&self, attempts: i64) -> i64 {
        if attempts < self.free {
            return 0;
        }
        let doublings = (attempts - self.free).min(30) as u32;
        self.base_delay_secs
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay_secs)
    }

    /// Whether the attempt after the one that brought the count to
    /// `attempts` must wait (a counter given back below this stops waiting).
    pub fn waits_after(&self, attempts: i64) -> bool {
        self.delay_after(attempts) > 0
    }

    /// Attempts left before the next one waits.
    pub fn remaining(&self, attempts: i64) -> i64 {
        (self.free - attempts).max(0)
    }
}

/// The three counters of one attempt, in the order they are taken (always
/// the same order, so two attempts never wait on each other's locks in a
/// cycle), with their keys.
pub fn counters(email_lower: &str, address: IpAddr) -> [(Scope, String); 3] {
    let address = address_key(address);
    [
        (Scope::AccountAddress, format!("p:{address}|{email_lower}")),
        (Scope::Account, format!("a:{email_lower}")),
        (Scope::Address, format!("i:{address}")),
    ]
}

/// An address as counted: IPv4 (also when mapped into IPv6) as itself, IPv6
/// by its /64, which is what one subscriber holds.
pub fn address_key(address: IpAddr) -> String {
    match canonical(address) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1_u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
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

/// `RateLimit-Policy` (IETF httpapi rate-limit headers draft): every
/// counter, its free attempts and the seconds after which it forgets.
pub fn policy_header() -> String {
    Scope::ALL
        .iter()
        .map(|s| {
            let l = s.limits();
            format!("\"{}\";q={};w={}", s.name(), l.free, l.forget_after_secs)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `RateLimit` for an admitted attempt: the counter closest to waiting,
/// with the attempts it has left and the seconds until it forgets.
pub fn admitted_header(attempts: &[(Scope, i64)]) -> String {
    let tightest = attempts
        .iter()
        .min_by_key(|(s, n)| s.limits().remaining(*n))
        .copied()
        .unwrap_or((Scope::AccountAddress, 0));
    let (scope, n) = tightest;
    let l = scope.limits();
    format!(
        "\"{}\";r={};t={}",
        scope.name(),
        l.remaining(n),
        if l.remaining(n) > 0 {
            l.forget_after_secs
        } else {
            l.delay_after(n)
        }
    )
}

/// The counts once an admitted attempt turned out right: its account ×
/// address counter starts again, the others give back the attempt.
pub fn after_success(taken: &[(Scope, i64)]) -> Vec<(Scope, i64)> {
    taken
        .iter()
        .map(|&(scope, n)| match scope.on_success() {
            Credit::Reset => (scope, 0),
            Credit::GiveBack => (scope, (n - 1).max(0)),
        })
        .collect()
}

/// `RateLimit` for a refused attempt: the counter that refused, and when.
pub fn refused_header(scope: Scope, retry_after_secs: i64) -> String {
    format!("\"{}\";r=0;t={}", scope.name(), retry_after_secs.max(1))
}

/// Whole seconds from `now_ms` until `next_at_ms`, at least one.
pub fn retry_after_secs(now_ms: i64, next_at_ms: i64) -> i64 {
    ((next_at_ms - now_ms + 999) / 1000).max(1)
}

/// An address or network, as in `BAR_RAISER_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an IP address or CIDR network (like 10.0.0.0/8)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network = canonical(IpAddr::from_str(addr).map_err(|_| bad())?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy; then
/// `X-Forwarded-For` read from the right, past every trusted proxy, to the
/// first address no trusted proxy vouches for. An entry that is not an
/// address stops the walk at the last hop a trusted proxy reported.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |a: IpAddr| trusted.iter().any(|c| c.contains(a));
    if !is_trusted(peer) {
        return canonical(peer);
    }
    let mut client = canonical(peer);
    let hops = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(address) = IpAddr::from_str(hop) else {
            break;
        };
        client = canonical(address);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The unspecified address, for a connection without a peer address.
pub const NO_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_curve() {
        // (scope, attempts so far) → seconds the next attempt waits
        let table = [
            (Scope::AccountAddress, 1, 0),
            (Scope::AccountAddress, 4, 0),
            (Scope::AccountAddress, 5, 30),
            (Scope::AccountAddress, 6, 60),
            (Scope::AccountAddress, 7, 120),
            (Scope::AccountAddress, 9, 480),
            (Scope::AccountAddress, 10, 900),
            (Scope::AccountAddress, 1_000_000, 900),
            (Scope::Account, 49, 0),
            (Scope::Account, 50, 60),
            (Scope::Account, 51, 120),
            (Scope::Account, 60, 900),
            (Scope::Address, 49, 0),
            (Scope::Address, 50, 60),
            (Scope::Address, 53, 480),
        ];
        for (scope, attempts, wait) in table {
            assert_eq!(
                scope.limits().delay_after(attempts),
                wait,
                "{scope:?} after {attempts}"
            );
        }
        // The owner's own address gets fewer guesses than the account
        // ceiling, so an attacker spending an address's guesses leaves the
        // account open to its owner.
        assert!(Scope::AccountAddress.limits().free < Scope::Account.limits().free);
    }

    #[test]
    fn counter_arithmetic() {
        let l = Scope::AccountAddress.limits();
        // (attempts, now) → next admitted at
        for (attempts, now, want) in [
            (1, 5_000, 0),
            (4, 5_000, 0),
            (5, 5_000, 35_000),
            (6, 0, 60_000),
        ] {
            assert_eq!(l.next_at_ms(attempts, now), want, "{attempts} at {now}");
        }
        assert_eq!(l.forgotten_before(3_600_000 + 7), 7);
        assert!(!l.waits_after(4) && l.waits_after(5));
        assert_eq!(
            Scope::ALL.map(Scope::on_success),
            [Credit::Reset, Credit::GiveBack, Credit::GiveBack]
        );
    }

    #[test]
    fn keys() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let v6a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let v6c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(v4), "203.0.113.7");
        assert_eq!(address_key(mapped), "203.0.113.7");
        assert_eq!(address_key(v6a), "2001:db8:1:2::/64");
        assert_eq!(address_key(v6a), address_key(v6b));
        assert_ne!(address_key(v6a), address_key(v6c));
        let keys = counters("ann@example.com", v4);
        assert_eq!(
            keys.map(|(s, k)| (s, k)),
            [
                (
                    Scope::AccountAddress,
                    "p:203.0.113.7|ann@example.com".into()
                ),
                (Scope::Account, "a:ann@example.com".into()),
                (Scope::Address, "i:203.0.113.7".into()),
            ]
        );
    }

    #[test]
    fn headers() {
        assert_eq!(
            policy_header(),
            "\"account-address\";q=5;w=3600, \"account\";q=50;w=86400, \"address\";q=50;w=3600"
        );
        let fresh = [
            (Scope::AccountAddress, 1),
            (Scope::Account, 1),
            (Scope::Address, 1),
        ];
        assert_eq!(admitted_header(&fresh), "\"account-address\";r=4;t=3600");
        let spent = [
            (Scope::AccountAddress, 2),
            (Scope::Account, 9),
            (Scope::Address, 50),
        ];
        assert_eq!(admitted_header(&spent), "\"address\";r=0;t=60");
        assert_eq!(refused_header(Scope::Account, 0), "\"account\";r=0;t=1");
        assert_eq!(
            after_success(&spent),
            [
                (Scope::AccountAddress, 0),
                (Scope::Account, 8),
                (Scope::Address, 49)
            ]
        );
        assert_eq!(
            admitted_header(&after_success(&fresh)),
            "\"account-address\";r=5;t=3600"
        );
        assert_eq!(retry_after_secs(1_000, 31_000), 30);
        assert_eq!(retry_after_secs(1_000, 31_001), 31);
        assert_eq!(retry_after_secs(1_000, 500), 1);
    }

    #[test]
    fn networks() {
        let table = [
            ("10.0.0.0/8", "10.200.3.4", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("127.0.0.1", "::ffff:127.0.0.1", true),
            ("0.0.0.0/0", "198.51.100.1", true),
            ("0.0.0.0/0", "::1", false),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("::1", "::1", true),
            ("::/0", "2001:db8::1", true),
        ];
        for (cidr, address, inside) in table {
            let c: Cidr = cidr.parse().unwrap();
            assert_eq!(
                c.contains(address.parse().unwrap()),
                inside,
                "{cidr} ∋ {address}"
            );
        }
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "proxy.local",
            "1.2.3.4/x",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_addresses() {
        let proxies: Vec<Cidr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (peer, X-Forwarded-For headers, trusted) → client
        let table: [(&str, &[&str], &[Cidr], &str); 9] = [
            // No proxy trusted: the header is ignored.
            ("127.0.0.1", &["203.0.113.9"], &[], "127.0.0.1"),
            // An untrusted peer cannot choose its address.
            ("198.51.100.2", &["203.0.113.9"], &proxies, "198.51.100.2"),
            // A trusted proxy names the client.
            ("127.0.0.1", &["203.0.113.9"], &proxies, "203.0.113.9"),
            // Entries left of the first untrusted one are the client's own
            // claims: ignored.
            (
                "127.0.0.1",
                &["6.6.6.6, 203.0.113.9"],
                &proxies,
                "203.0.113.9",
            ),
            // Trusted hops are walked past, also across several headers.
            (
                "127.0.0.1",
                &["203.0.113.9", "10.1.1.1"],
                &proxies,
                "203.0.113.9",
            ),
            (
                "127.0.0.1",
                &["203.0.113.9, 10.1.1.1, 10.2.2.2"],
                &proxies,
                "203.0.113.9",
            ),
            // Garbage stops the walk at the last hop a proxy reported.
            (
                "127.0.0.1",
                &["203.0.113.9, junk, 10.1.1.1"],
                &proxies,
                "10.1.1.1",
            ),
            // A trusted peer without the header is the client.
            ("127.0.0.1", &[], &proxies, "127.0.0.1"),
            (
                "::ffff:127.0.0.1",
                &["2001:db8::5"],
                &proxies,
                "2001:db8::5",
            ),
        ];
        for (peer, xff, trusted, want) in table {
            assert_eq!(
                client_address(ip(peer), xff, trusted),
                ip(want),
                "{peer} {xff:?}"
            );
        }
    }
}
