//! Which IP addresses the server may connect to on someone else's behalf
//! (webhook targets): global unicast only.
//!
//! The tables are the IANA IPv4 and IPv6 Special-Purpose Address
//! Registries (RFC 6890), plus the multicast and reserved blocks of the
//! address-space registries, each row with the RFC that defines it. Every
//! row is refused outright, except the ones that wrap an IPv4 address
//! (IPv4-mapped, the NAT64 well-known prefix, 6to4): those are judged by the
//! IPv4 address inside. Rows that IANA marks globally reachable but that are
//! anycast services or tunnels (AS112, AMT, Teredo, PCP/TURN anycast) are
//! refused too: no webhook receiver lives there. An IPv6 address outside
//! 2000::/3 is refused as well: nothing else is assigned as global unicast.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One registry row: a prefix, its name and the RFC that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub prefix: &'static str,
    pub name: &'static str,
    pub rfc: &'static str,
}

/// What to do with an address inside a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Refuse,
    /// Judge the IPv4 address in the low 32 bits.
    EmbeddedLow32,
    /// Judge the IPv4 address in bits 16..48 (6to4, RFC 3056 §2).
    Embedded6to4,
}

struct Row4 {
    net: u32,
    len: u32,
    block: Block,
}

struct Row6 {
    net: u128,
    len: u32,
    rule: Rule,
    block: Block,
}

const fn v4(
    a: [u8; 4],
    len: u32,
    prefix: &'static str,
    name: &'static str,
    rfc: &'static str,
) -> Row4 {
    Row4 {
        net: u32::from_be_bytes(a),
        len,
        block: Block { prefix, name, rfc },
    }
}

const fn v6(
    s: [u16; 8],
    len: u32,
    rule: Rule,
    prefix: &'static str,
    name: &'static str,
    rfc: &'static str,
) -> Row6 {
    let mut net = 0u128;
    let mut i = 0;
    while i < 8 {
        net = (net << 16) | s[i] as u128;
        i += 1;
    }
    Row6 {
        net,
        len,
        rule,
        block: Block { prefix, name, rfc },
    }
}

/// IANA IPv4 Special-Purpose Address Registry, plus multicast (IPv4
/// Multicast Address Space Registry). More specific rows come first so the
/// refusal names the narrowest one.
#[rustfmt::skip]
const IPV4: &[Row4] = &[
    v4([0, 0, 0, 0], 32, "0.0.0.0/32", "This host on this network", "RFC 1122 §3.2.1.3"),
    v4([0, 0, 0, 0], 8, "0.0.0.0/8", "This network", "RFC 791 §3.2"),
    v4([10, 0, 0, 0], 8, "10.0.0.0/8", "Private-Use", "RFC 1918"),
    v4([100, 64, 0, 0], 10, "100.64.0.0/10", "Shared Address Space (carrier-grade NAT)", "RFC 6598"),
    v4([127, 0, 0, 0], 8, "127.0.0.0/8", "Loopback", "RFC 1122 §3.2.1.3"),
    v4([169, 254, 0, 0], 16, "169.254.0.0/16", "Link Local", "RFC 3927"),
    v4([172, 16, 0, 0], 12, "172.16.0.0/12", "Private-Use", "RFC 1918"),
    v4([192, 0, 0, 0], 29, "192.0.0.0/29", "IPv4 Service Continuity Prefix (DS-Lite)", "RFC 7335"),
    v4([192, 0, 0, 8], 32, "192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    v4([192, 0, 0, 9], 32, "192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
    v4([192, 0, 0, 10], 32, "192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    v4([192, 0, 0, 170], 31, "192.0.0.170/31", "NAT64/DNS64 Discovery", "RFC 8880"),
    v4([192, 0, 0, 0], 24, "192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 §2.1"),
    v4([192, 0, 2, 0], 24, "192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    v4([192, 31, 196, 0], 24, "192.31.196.0/24", "AS112-v4", "RFC 7535"),
    v4([192, 52, 193, 0], 24, "192.52.193.0/24", "AMT", "RFC 7450"),
    v4([192, 88, 99, 0], 24, "192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    v4([192, 168, 0, 0], 16, "192.168.0.0/16", "Private-Use", "RFC 1918"),
    v4([192, 175, 48, 0], 24, "192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    v4([198, 18, 0, 0], 15, "198.18.0.0/15", "Benchmarking", "RFC 2544"),
    v4([198, 51, 100, 0], 24, "198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    v4([203, 0, 113, 0], 24, "203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    v4([224, 0, 0, 0], 4, "224.0.0.0/4", "Multicast", "RFC 5771"),
    v4([255, 255, 255, 255], 32, "255.255.255.255/32", "Limited Broadcast", "RFC 919 §7, RFC 8190"),
    v4([240, 0, 0, 0], 4, "240.0.0.0/4", "Reserved", "RFC 1112 §4"),
];

/// IANA IPv6 Special-Purpose Address Registry, plus multicast, the
/// deprecated IPv4-compatible block and the catch-all: outside 2000::/3
/// nothing is global unicast (IANA IPv6 Address Space Registry).
#[rustfmt::skip]
const IPV6: &[Row6] = &[
    v6([0; 8], 128, Rule::Refuse, "::/128", "Unspecified Address", "RFC 4291 §2.5.2"),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, Rule::Refuse, "::1/128", "Loopback Address", "RFC 4291 §2.5.3"),
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, Rule::EmbeddedLow32, "::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291 §2.5.5.2"),
    v6([0; 8], 96, Rule::Refuse, "::/96", "IPv4-compatible Address (deprecated)", "RFC 4291 §2.5.5.1"),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, Rule::EmbeddedLow32, "64:ff9b::/96", "IPv4-IPv6 Translation (NAT64)", "RFC 6052"),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Rule::Refuse, "64:ff9b:1::/48", "IPv4-IPv6 Translation, local use", "RFC 8215"),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Rule::Refuse, "100::/64", "Discard-Only Address Block", "RFC 6666"),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, Rule::Refuse, "100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, Rule::Refuse, "2001::/32", "TEREDO (every embedded address with it)", "RFC 4380, RFC 8190"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128, Rule::Refuse, "2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, Rule::Refuse, "2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, Rule::Refuse, "2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, Rule::Refuse, "2001:2::/48", "Benchmarking", "RFC 5180"),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, Rule::Refuse, "2001:3::/32", "AMT", "RFC 7450"),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, Rule::Refuse, "2001:4:112::/48", "AS112-v6", "RFC 7535"),
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, Rule::Refuse, "2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, Rule::Refuse, "2001:20::/28", "ORCHIDv2", "RFC 7343"),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, Rule::Refuse, "2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, Rule::Refuse, "2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Rule::Refuse, "2001:db8::/32", "Documentation", "RFC 3849"),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, Rule::Embedded6to4, "2002::/16", "6to4", "RFC 3056"),
    v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48, Rule::Refuse, "2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Rule::Refuse, "3fff::/20", "Documentation", "RFC 9637"),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, Rule::Refuse, "5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Rule::Refuse, "fc00::/7", "Unique-Local", "RFC 4193, RFC 8190"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, Rule::Refuse, "fe80::/10", "Link-Local Unicast", "RFC 4291 §2.5.6"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Rule::Refuse, "ff00::/8", "Multicast", "RFC 4291 §2.7"),
];

/// Everything outside it is refused once the rows above have had their say.
const GLOBAL_UNICAST_V6: Block = Block {
    prefix: "2000::/3",
    name: "outside Global Unicast",
    rfc: "RFC 4291 §2.4",
};

/// Why an address may not be connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub address: IpAddr,
    /// The IPv4 address judged, when `address` wraps one.
    pub embedded: Option<Ipv4Addr>,
    pub block: Block,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Block { prefix, name, rfc } = self.block;
        match self.embedded {
            Some(inner) => write!(
                f,
                "{} embeds {inner}, which is {name} ({prefix}, {rfc})",
                self.address
            ),
            None => write!(f, "{} is {name} ({prefix}, {rfc})", self.address),
        }
    }
}

fn within(addr: u128, net: u128, len: u32, bits: u32) -> bool {
    let shift = bits - len;
    len == 0 || (addr >> shift) == (net >> shift)
}

fn row_of_v4(ip: Ipv4Addr) -> Option<Block> {
    let a = u32::from(ip) as u128;
    IPV4.iter()
        .find(|r| within(a, r.net as u128, r.len, 32))
        .map(|r| r.block)
}

/// `Ok` for a global unicast address; otherwise the registry row that
/// refuses it (for a wrapping IPv6 address, the row of the IPv4 inside).
pub fn vet(ip: IpAddr) -> Result<(), Refused> {
    match ip {
        IpAddr::V4(v4) => match row_of_v4(v4) {
            None => Ok(()),
            Some(block) => Err(Refused {
                address: ip,
                embedded: None,
                block,
            }),
        },
        IpAddr::V6(v6) => vet_v6(v6),
    }
}

fn vet_v6(ip: Ipv6Addr) -> Result<(), Refused> {
    let a = u128::from(ip);
    let refused = |block, embedded| {
        Err(Refused {
            address: IpAddr::V6(ip),
            embedded,
            block,
        })
    };
    let Some(row) = IPV6.iter().find(|r| within(a, r.net, r.len, 128)) else {
        return if within(a, 0x2000 << 112, 3, 128) {
            Ok(())
        } else {
            refused(GLOBAL_UNICAST_V6, None)
        };
    };
    let inner = match row.rule {
        Rule::Refuse => return refused(row.block, None),
        Rule::EmbeddedLow32 => Ipv4Addr::from(a as u32),
        Rule::Embedded6to4 => Ipv4Addr::from((a >> 80) as u32),
    };
    match row_of_v4(inner) {
        None => Ok(()),
        Some(block) => refused(block, Some(inner)),
    }
}

/// Whether `ip` may be connected to.
pub fn is_global(ip: IpAddr) -> bool {
    vet(ip).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_as(addr: &str) -> Option<&'static str> {
        let ip: IpAddr = addr.parse().unwrap_or_else(|_| panic!("{addr} parses"));
        vet(ip).err().map(|r| r.block.prefix)
    }

    #[test]
    fn every_row_refuses_its_first_and_last_address() {
        for r in IPV4 {
            let first = Ipv4Addr::from(r.net);
            let last = Ipv4Addr::from(r.net | (u32::MAX.checked_shr(r.len).unwrap_or(0)));
            for ip in [first, last] {
                assert!(
                    vet(IpAddr::V4(ip)).is_err(),
                    "{ip} in {} accepted",
                    r.block.prefix
                );
            }
        }
        for r in IPV6 {
            let first = Ipv6Addr::from(r.net);
            let last = Ipv6Addr::from(r.net | (u128::MAX.checked_shr(r.len).unwrap_or(0)));
            if r.rule == Rule::Refuse {
                for ip in [first, last] {
                    assert!(
                        vet(IpAddr::V6(ip)).is_err(),
                        "{ip} in {} accepted",
                        r.block.prefix
                    );
                }
            }
        }
    }

    #[test]
    fn each_range_is_named_by_its_row() {
        for (addr, prefix) in [
            // IPv4, one address per row.
            ("0.0.0.0", "0.0.0.0/32"),
            ("0.1.2.3", "0.0.0.0/8"),
            ("10.1.2.3", "10.0.0.0/8"),
            ("100.64.0.1", "100.64.0.0/10"),
            ("100.127.255.254", "100.64.0.0/10"),
            ("127.0.0.1", "127.0.0.0/8"),
            ("127.255.0.9", "127.0.0.0/8"),
            ("169.254.169.254", "169.254.0.0/16"),
            ("172.16.0.1", "172.16.0.0/12"),
            ("172.31.255.255", "172.16.0.0/12"),
            ("192.0.0.1", "192.0.0.0/29"),
            ("192.0.0.8", "192.0.0.8/32"),
            ("192.0.0.9", "192.0.0.9/32"),
            ("192.0.0.10", "192.0.0.10/32"),
            ("192.0.0.170", "192.0.0.170/31"),
            ("192.0.0.171", "192.0.0.170/31"),
            ("192.0.0.200", "192.0.0.0/24"),
            ("192.0.2.55", "192.0.2.0/24"),
            ("192.31.196.1", "192.31.196.0/24"),
            ("192.52.193.1", "192.52.193.0/24"),
            ("192.88.99.1", "192.88.99.0/24"),
            ("192.168.1.1", "192.168.0.0/16"),
            ("192.175.48.6", "192.175.48.0/24"),
            ("198.18.0.1", "198.18.0.0/15"),
            ("198.19.255.255", "198.18.0.0/15"),
            ("198.51.100.7", "198.51.100.0/24"),
            ("203.0.113.9", "203.0.113.0/24"),
            ("224.0.0.1", "224.0.0.0/4"),
            ("239.255.255.250", "224.0.0.0/4"),
            ("240.0.0.1", "240.0.0.0/4"),
            ("255.255.255.254", "240.0.0.0/4"),
            ("255.255.255.255", "255.255.255.255/32"),
            // IPv6, one address per row.
            ("::", "::/128"),
            ("::1", "::1/128"),
            ("::2", "::/96"),
            ("::127.0.0.1", "::/96"),
            ("::a9fe:a9fe", "::/96"),
            ("::8.8.8.8", "::/96"),
            ("64:ff9b:1::1", "64:ff9b:1::/48"),
            ("100::1", "100::/64"),
            ("100:0:0:1::1", "100:0:0:1::/64"),
            ("2001::1", "2001::/32"),
            // Teredo, whatever it embeds (here server 8.8.8.8, client 127.0.0.1).
            ("2001:0:808:808::80ff:fffe", "2001::/32"),
            ("2001:1::1", "2001:1::1/128"),
            ("2001:1::2", "2001:1::2/128"),
            ("2001:1::3", "2001:1::3/128"),
            ("2001:2::5", "2001:2::/48"),
            ("2001:3::5", "2001:3::/32"),
            ("2001:4:112::1", "2001:4:112::/48"),
            ("2001:10::1", "2001:10::/28"),
            ("2001:20::1", "2001:20::/28"),
            ("2001:30::1", "2001:30::/28"),
            ("2001:1ff::1", "2001::/23"),
            ("2001:db8::1", "2001:db8::/32"),
            ("2620:4f:8000::42", "2620:4f:8000::/48"),
            ("3fff::1", "3fff::/20"),
            ("5f00::1", "5f00::/16"),
            ("fc00::1", "fc00::/7"),
            ("fd12:3456::1", "fc00::/7"),
            ("fe80::1", "fe80::/10"),
            ("febf::1", "fe80::/10"),
            ("ff02::1", "ff00::/8"),
            // Not global unicast: unassigned space, IPv4-translated (SIIT).
            ("4000::1", "2000::/3"),
            ("1234::1", "2000::/3"),
            ("::ffff:0:808:808", "2000::/3"),
        ] {
            assert_eq!(refused_as(addr), Some(prefix), "{addr}");
        }
    }

    #[test]
    fn wrapped_ipv4_is_judged_by_what_it_wraps() {
        for (addr, inner, prefix) in [
            ("::ffff:127.0.0.1", "127.0.0.1", "127.0.0.0/8"),
            ("::ffff:10.0.0.1", "10.0.0.1", "10.0.0.0/8"),
            (
                "::ffff:169.254.169.254",
                "169.254.169.254",
                "169.254.0.0/16",
            ),
            ("64:ff9b::7f00:1", "127.0.0.1", "127.0.0.0/8"),
            ("64:ff9b::a9fe:a9fe", "169.254.169.254", "169.254.0.0/16"),
            ("64:ff9b::100.64.0.1", "100.64.0.1", "100.64.0.0/10"),
            ("2002:7f00:1::", "127.0.0.1", "127.0.0.0/8"),
            ("2002:a9fe:a9fe::1", "169.254.169.254", "169.254.0.0/16"),
            ("2002:c0a8:101:1::1", "192.168.1.1", "192.168.0.0/16"),
        ] {
            let ip: IpAddr = addr.parse().unwrap();
            let r = vet(ip).expect_err(addr);
            assert_eq!(r.embedded, Some(inner.parse().unwrap()), "{addr}");
            assert_eq!(r.block.prefix, prefix, "{addr}");
        }
        // The same forms around a global address are fine.
        for addr in ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"] {
            assert_eq!(vet(addr.parse().unwrap()), Ok(()), "{addr}");
        }
    }

    #[test]
    fn the_examples_of_issue_14_are_refused() {
        for addr in [
            "100.64.0.1",
            "198.18.0.1",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!is_global(addr.parse().unwrap()), "{addr} accepted");
        }
    }

    #[test]
    fn global_unicast_passes() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81d::200e",
            "2001:200::1",
            "2c0f:fb50::1",
        ] {
            assert_eq!(vet(addr.parse().unwrap()), Ok(()), "{addr}");
        }
    }

    #[test]
    fn refusals_read_well() {
        assert_eq!(
            vet("100.64.0.1".parse().unwrap()).unwrap_err().to_string(),
            "100.64.0.1 is Shared Address Space (carrier-grade NAT) (100.64.0.0/10, RFC 6598)"
        );
        assert_eq!(
            vet("64:ff9b::a9fe:a9fe".parse().unwrap())
                .unwrap_err()
                .to_string(),
            "64:ff9b::a9fe:a9fe embeds 169.254.169.254, which is Link Local (169.254.0.0/16, RFC 3927)"
        );
    }
}
