//! The decoders on packets built by hand and by the crate's exporter: the records they hold,
//! templates (refresh, withdrawal, options, unknown), variable-length and enterprise fields,
//! padding, sequence accounting; and on any bytes, no panic.

use std::net::{IpAddr, SocketAddr};

use ai4ict_netflow::{DecodeError, Decoder, Exporter, FlowRecord, Version};
use proptest::prelude::*;

fn exporter() -> SocketAddr {
    "192.0.2.10:40000".parse().unwrap()
}

const BOOT_MS: i64 = 1_764_000_000_000;

/// Five flows of distinct fields, one IPv6 (left out by v5).
fn flows(domain: u32) -> Vec<FlowRecord> {
    let mut out = Vec::new();
    for i in 0..5u16 {
        let mut r = FlowRecord::empty(exporter(), domain, 0);
        let v6 = i == 3;
        r.src = if v6 {
            format!("2001:db8::{i}").parse().unwrap()
        } else {
            format!("10.0.0.{i}").parse().unwrap()
        };
        r.dst = if v6 {
            "2001:db8::ff".parse().unwrap()
        } else {
            "192.168.1.1".parse().unwrap()
        };
        r.src_port = 40_000 + i;
        r.dst_port = [80, 53, 443, 22, 123][usize::from(i)];
        r.protocol = if r.dst_port == 53 || r.dst_port == 123 {
            17
        } else {
            6
        };
        r.packets = u64::from(i) * 10 + 1;
        r.octets = u64::from(i) * 1500 + 60;
        r.tcp_flags = if r.protocol == 6 { 0x1b } else { 0 };
        r.input = Some(u32::from(i) + 1);
        r.output = Some(7);
        r.start_ms = BOOT_MS + 5_000_000 + i64::from(i) * 1_234;
        r.end_ms = r.start_ms + 60_000;
        out.push(r);
    }
    out
}

fn decode_all(packets: &[Vec<u8>]) -> (Decoder, Vec<FlowRecord>) {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for p in packets {
        d.decode(exporter(), p, &mut out).unwrap();
    }
    (d, out)
}

fn export(version: Version, domain: u32, batches: &[&[FlowRecord]]) -> Vec<Vec<u8>> {
    let mut e = Exporter::new(version, domain, BOOT_MS);
    batches
        .iter()
        .map(|b| {
            let mut buf = Vec::new();
            e.packet(b, BOOT_MS + 6_000_500, &mut buf);
            buf
        })
        .collect()
}

#[test]
fn ipfix_and_v9_packets_decode_to_their_records() {
    for version in [Version::Ipfix, Version::V9] {
        let want = flows(42);
        let packets = export(version, 42, &[&want, &want[..2]]);
        let (d, got) = decode_all(&packets);
        let mut expected = want.clone();
        expected.extend_from_slice(&want[..2]);
        assert_eq!(got, expected, "{version:?}");
        let t = &d.stats().total;
        assert_eq!((t.datagrams, t.records, t.malformed), (2, 7, 0));
        assert_eq!((t.lost_records, t.lost_packets, t.restarts), (0, 0, 0));
    }
}

#[test]
fn v5_packets_decode_to_their_ipv4_records() {
    let all = flows(0x0102);
    let packets = export(Version::V5, 0x0102, &[&all, &all]);
    let (d, got) = decode_all(&packets);
    let v4: Vec<FlowRecord> = all.iter().filter(|r| r.src.is_ipv4()).cloned().collect();
    assert_eq!(got.len(), 8);
    assert_eq!(got[..4], v4[..]);
    assert_eq!(d.stats().total.lost_records, 0);
}

#[test]
fn a_lost_packet_is_counted_in_its_unit() {
    let f = flows(1);
    for (version, lost_records, lost_packets) in [
        (Version::Ipfix, 5, 0),
        (Version::V5, 4, 0),
        (Version::V9, 0, 1),
    ] {
        let packets = export(version, 1, &[&f, &f, &f]);
        let (d, _) = decode_all(&[packets[0].clone(), packets[2].clone()]);
        let t = &d.stats().total;
        assert_eq!(
            (t.lost_records, t.lost_packets),
            (lost_records, lost_packets),
            "{version:?}"
        );
        // The late packet arrives after all: nothing is lost.
        let (d, _) = decode_all(&[packets[0].clone(), packets[2].clone(), packets[1].clone()]);
        let t = &d.stats().total;
        assert_eq!(
            (t.lost_records, t.lost_packets, t.reordered),
            (0, 0, 1),
            "{version:?}"
        );
    }
}

/// An IPFIX message of `sets` (each: set ID, body) with sequence `seq`, domain 9.
fn ipfix(seq: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![0, 10, 0, 0];
    m.extend_from_slice(&1_764_000_000u32.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&9u32.to_be_bytes());
    for (id, body) in sets {
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&(body.len() as u16 + 4).to_be_bytes());
        m.extend_from_slice(body);
    }
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

fn be(parts: &[u32], widths: &[usize]) -> Vec<u8> {
    parts
        .iter()
        .zip(widths)
        .flat_map(|(v, w)| v.to_be_bytes()[4 - w..].to_vec())
        .collect()
}

/// Template 300: src IPv4, an enterprise element (4 bytes, skipped), a variable-length
/// element (skipped), dst port, octets (reduced to 4 bytes).
fn template_300() -> Vec<u8> {
    let mut t = be(&[300, 5], &[2, 2]);
    t.extend(be(&[8, 4], &[2, 2]));
    t.extend(be(&[0x8000 | 100, 4, 29305], &[2, 2, 4]));
    t.extend(be(&[82, 65535], &[2, 2])); // interfaceName, variable
    t.extend(be(&[11, 2], &[2, 2]));
    t.extend(be(&[1, 4], &[2, 2]));
    t
}

fn record_300(src: [u8; 4], name: &[u8], port: u16, octets: u32) -> Vec<u8> {
    let mut r = src.to_vec();
    r.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    if name.len() < 255 {
        r.push(name.len() as u8);
    } else {
        r.push(255);
        r.extend_from_slice(&(name.len() as u16).to_be_bytes());
    }
    r.extend_from_slice(name);
    r.extend_from_slice(&port.to_be_bytes());
    r.extend_from_slice(&octets.to_be_bytes());
    r
}

#[test]
fn ipfix_variable_length_enterprise_fields_and_padding() {
    let mut data = record_300([10, 1, 1, 1], b"eth0", 443, 1000);
    data.extend(record_300([10, 1, 1, 2], &[b'x'; 300], 53, 77));
    data.extend(record_300([10, 1, 1, 3], b"", 22, 5));
    data.extend([0, 0, 0]); // padding, shorter than a record
    let m = ipfix(0, &[(2, template_300()), (300, data)]);
    let (d, got) = decode_all(&[m]);
    let ports: Vec<(IpAddr, u16, u64)> =
        got.iter().map(|r| (r.src, r.dst_port, r.octets)).collect();
    assert_eq!(
        ports,
        [
            ("10.1.1.1".parse().unwrap(), 443, 1000),
            ("10.1.1.2".parse().unwrap(), 53, 77),
            ("10.1.1.3".parse().unwrap(), 22, 5)
        ]
    );
    // No time in the record: the export time.
    assert!(got
        .iter()
        .all(|r| r.start_ms == 1_764_000_000_000 && r.end_ms == r.start_ms));
    assert_eq!(d.stats().exporters[&exporter()].templates, 1);
}

#[test]
fn unknown_templates_are_counted_then_refresh_and_withdrawal() {
    let data = record_300([10, 1, 1, 1], b"a", 80, 1);
    let mut d = Decoder::new();
    let mut out = Vec::new();
    // Data before its template: counted, not decoded; the next packet resynchronises.
    d.decode(exporter(), &ipfix(0, &[(300, data.clone())]), &mut out)
        .unwrap();
    assert_eq!(out.len(), 0);
    assert_eq!(d.stats().total.unknown_template_sets, 1);
    assert_eq!(d.stats().total.unknown_template_bytes, data.len() as u64);
    d.decode(
        exporter(),
        &ipfix(7, &[(2, template_300()), (300, data.clone())]),
        &mut out,
    )
    .unwrap();
    assert_eq!(out.len(), 1);
    // A refresh with another layout replaces it: now the record is a bare destination port.
    let refreshed = be(&[300, 1, 11, 2], &[2, 2, 2, 2]);
    d.decode(
        exporter(),
        &ipfix(8, &[(2, refreshed), (300, be(&[8080], &[2]))]),
        &mut out,
    )
    .unwrap();
    assert_eq!(out[1].dst_port, 8080);
    // Withdrawn (field count 0): its data is unknown again.
    d.decode(
        exporter(),
        &ipfix(9, &[(2, be(&[300, 0], &[2, 2]))]),
        &mut out,
    )
    .unwrap();
    d.decode(exporter(), &ipfix(9, &[(300, be(&[1], &[2]))]), &mut out)
        .unwrap();
    let t = &d.stats().total;
    assert_eq!(
        (t.records, t.unknown_template_sets, t.templates_withdrawn),
        (2, 2, 1)
    );
    assert_eq!((t.lost_records, t.restarts, t.malformed), (0, 0, 0));
    // All templates of the domain withdrawn at once (template ID 2).
    d.decode(exporter(), &ipfix(9, &[(2, template_300())]), &mut out)
        .unwrap();
    d.decode(
        exporter(),
        &ipfix(9, &[(2, be(&[2, 0], &[2, 2]))]),
        &mut out,
    )
    .unwrap();
    assert_eq!(d.stats().exporters[&exporter()].templates, 0);
}

#[test]
fn ipfix_options_records_are_counted_and_give_the_init_time() {
    // Options template 400: scope observationDomainId (149), systemInitTimeMilliseconds (160).
    let options = be(&[400, 2, 1, 149, 4, 160, 8], &[2, 2, 2, 2, 2, 2, 2]);
    let init: u64 = 1_763_000_000_000;
    let mut opt_data = 9u32.to_be_bytes().to_vec();
    opt_data.extend_from_slice(&init.to_be_bytes());
    // Template 401: flowStartSysUpTime, flowEndSysUpTime (ms since init), packets.
    let template = be(&[401, 3, 22, 4, 21, 4, 2, 4], &[2, 2, 2, 2, 2, 2, 2, 2]);
    let data = be(&[1_000, 3_000, 12], &[4, 4, 4]);
    let m = ipfix(
        0,
        &[(3, options), (2, template), (400, opt_data), (401, data)],
    );
    let (d, got) = decode_all(&[m]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].start_ms, init as i64 + 1_000);
    assert_eq!(got[0].end_ms, init as i64 + 3_000);
    assert_eq!(got[0].packets, 12);
    assert_eq!(d.stats().total.option_records, 1);
}

#[test]
fn v9_options_templates_are_read_and_skipped() {
    let mut m = be(&[9, 3, 10_000, 1_764_000_000, 0, 5], &[2, 2, 4, 4, 4, 4]);
    // Options template 260: scope System (1, 4 bytes), option SAMPLING_INTERVAL (34, 4).
    let opt = be(
        &[1, 20, 260, 4, 4, 1, 4, 34, 4, 0],
        &[2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    );
    m.extend(opt);
    m.extend(be(&[260, 12, 1, 100], &[2, 2, 4, 4]));
    // Template 261: packets (2, 4 bytes), protocol; data with 2 bytes of padding.
    m.extend(be(&[0, 16, 261, 2, 2, 4, 4, 1], &[2, 2, 2, 2, 2, 2, 2, 2]));
    m.extend(be(&[261, 12, 5, 17, 0, 0, 0], &[2, 2, 4, 1, 1, 1, 1]));
    let (d, got) = decode_all(&[m]);
    assert_eq!((got.len(), got[0].packets, got[0].protocol), (1, 5, 17));
    // No time: the export time.
    assert_eq!(got[0].start_ms, 1_764_000_000_000);
    assert_eq!(d.stats().total.option_records, 1);
}

#[test]
fn malformed_packets_are_typed_errors() {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    let mut err = |bytes: &[u8]| d.decode(exporter(), bytes, &mut out).unwrap_err();
    assert!(matches!(err(&[0, 7, 0, 0]), DecodeError::Version(7)));
    assert!(matches!(err(&[0]), DecodeError::Truncated { .. }));
    // A set of length 0 and one shorter than its header: no endless loop.
    let mut zero = ipfix(0, &[]);
    zero.extend([1, 44, 0, 0]);
    let len = zero.len() as u16;
    zero[2..4].copy_from_slice(&len.to_be_bytes());
    assert!(matches!(
        err(&zero),
        DecodeError::SetLength { length: 0, .. }
    ));
    // A template with a huge field count in a short set.
    let absurd = ipfix(0, &[(2, be(&[300, 60_000, 8, 4], &[2, 2, 2, 2]))]);
    assert!(matches!(
        err(&absurd),
        DecodeError::Template { id: 300, .. }
    ));
    // A template whose records have no length.
    let empty = ipfix(0, &[(2, be(&[300, 1, 8, 0], &[2, 2, 2, 2]))]);
    assert!(matches!(err(&empty), DecodeError::Template { id: 300, .. }));
    assert!(matches!(
        err(&ipfix(0, &[(2, be(&[17, 1, 8, 4], &[2, 2, 2, 2]))])),
        DecodeError::TemplateId(17)
    ));
    // A message length past the datagram.
    let mut long = ipfix(0, &[]);
    long[2..4].copy_from_slice(&100u16.to_be_bytes());
    assert!(matches!(err(&long), DecodeError::MessageLength { .. }));
    // A variable-length value running past the set.
    let mut data = record_300([10, 1, 1, 1], b"eth0", 443, 1000);
    data[8] = 200;
    let bad = ipfix(0, &[(2, template_300()), (300, data)]);
    assert!(matches!(err(&bad), DecodeError::Truncated { .. }));
    // A v5 count beyond the datagram.
    let v5 = &export(Version::V5, 1, &[&flows(1)])[0];
    assert!(matches!(
        err(&v5[..v5.len() - 1]),
        DecodeError::V5Count { .. }
    ));
    let s = d.stats();
    assert_eq!(s.total.malformed, 9);
    assert_eq!(s.malformed_by_kind["bad template"], 2);
    assert!(s.last_malformed.iter().all(|(at, _)| *at == exporter()));
}

/// Valid packets of every version, for the property tests to cut and flip.
fn valid_packets() -> Vec<Vec<u8>> {
    let f = flows(3);
    let mut all = Vec::new();
    for v in [Version::V5, Version::V9, Version::Ipfix] {
        all.extend(export(v, 3, &[&f, &f[1..]]));
    }
    let mut data = record_300([10, 1, 1, 1], b"eth0", 443, 1000);
    data.extend(record_300([10, 1, 1, 2], &[b'x'; 300], 53, 77));
    all.push(ipfix(0, &[(2, template_300()), (300, data)]));
    all
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000), version in prop_oneof![Just(5u8), Just(9), Just(10)]) {
        let mut bytes = bytes;
        if bytes.len() >= 2 {
            bytes[0] = 0;
            bytes[1] = version;
        }
        let mut d = Decoder::new();
        let mut out = Vec::new();
        let _ = d.decode(exporter(), &bytes, &mut out);
    }

    #[test]
    fn cut_or_flipped_valid_packets_never_panic(which in 0usize..7, cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8)) {
        let packets = valid_packets();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        // The templates first, so that data sets are decoded too.
        for p in &packets {
            let _ = d.decode(exporter(), p, &mut out);
        }
        let mut p = packets[which % packets.len()].clone();
        p.truncate(cut);
        for (at, byte) in flips {
            if !p.is_empty() {
                let n = p.len();
                p[at % n] = byte;
            }
        }
        let _ = d.decode(exporter(), &p, &mut out);
    }
}
