//! Flow tables from files: the sandbox's layout, CICFlowMeter's, nfdump-style exports and
//! `ai4ict collect`'s.

use std::collections::HashMap;
use std::path::Path;

use ai4ict_core::Timestamp;

use crate::flow::flags;
use crate::{FlowObs, IntrusionError};

/// Skipped rows listed at most; further ones are only counted.
pub const MAX_PROBLEMS: usize = 10_000;

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct RowProblem {
    /// Line of the file, from 1 (the header is line 1).
    pub line: u64,
    /// The column, when one is at fault.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What a flow file held: its flows in file order, their labels when it has a label column,
/// and the rows it skipped.
#[derive(Clone, Debug, Default)]
pub struct FlowFile {
    /// Every good row.
    pub flows: Vec<FlowObs>,
    /// Each good row's label: `None` without a label column, and for normal traffic where
    /// an `attack` column of 0 and 1 says so.
    pub labels: Vec<Option<String>>,
    /// Each good row's label column as written (normal traffic's classes too); `None`
    /// without a label column.
    pub classes: Vec<Option<String>>,
    /// Skipped rows.
    pub problems: Vec<RowProblem>,
    /// Rows skipped past [`MAX_PROBLEMS`] (not listed).
    pub more_problems: u64,
}

/// A column the reader looks for, by the names layouts give it (compared lower-case with
/// everything but letters and digits dropped: `Tot Fwd Pkts` is `totfwdpkts`).
struct Column {
    name: &'static str,
    aliases: &'static [&'static str],
    required: bool,
}

const COLUMNS: [Column; 21] = [
    Column {
        name: "start",
        aliases: &[
            "start",
            "startms",
            "timestamp",
            "flowstart",
            "firstseen",
            "ts",
        ],
        required: true,
    },
    Column {
        name: "src_ip",
        aliases: &["srcip", "sourceip", "srcaddr", "src", "sa"],
        required: true,
    },
    Column {
        name: "dst_ip",
        aliases: &["dstip", "destinationip", "dstaddr", "dst", "da"],
        required: true,
    },
    Column {
        name: "src_port",
        aliases: &["srcport", "sourceport", "sp"],
        required: false,
    },
    Column {
        name: "duration_ms",
        aliases: &["durationms"],
        required: false,
    },
    Column {
        name: "duration_us",
        aliases: &["flowduration"],
        required: false,
    },
    Column {
        name: "duration_s",
        aliases: &["duration", "td", "dur"],
        required: false,
    },
    Column {
        name: "end",
        aliases: &["endms", "end", "lastseen", "te"],
        required: false,
    },
    Column {
        name: "dst_port",
        aliases: &["dstport", "destinationport", "dp"],
        required: true,
    },
    Column {
        name: "protocol",
        aliases: &["protocol", "proto", "pr"],
        required: true,
    },
    Column {
        name: "packets",
        aliases: &[
            "fwdpackets",
            "totfwdpkts",
            "totalfwdpackets",
            "packets",
            "ipkt",
        ],
        required: true,
    },
    Column {
        name: "bytes",
        aliases: &[
            "fwdbytes",
            "totlenfwdpkts",
            "totallengthoffwdpackets",
            "bytes",
            "octets",
            "ibyt",
        ],
        required: true,
    },
    Column {
        name: "reverse_packets",
        aliases: &[
            "bwdpackets",
            "totbwdpkts",
            "totalbackwardpackets",
            "totalbwdpackets",
        ],
        required: false,
    },
    Column {
        name: "reverse_bytes",
        aliases: &["bwdbytes", "totlenbwdpkts", "totallengthofbwdpackets"],
        required: false,
    },
    Column {
        name: "syn",
        aliases: &["syncount", "synflagcnt", "synflagcount"],
        required: false,
    },
    Column {
        name: "ack",
        aliases: &["ackcount", "ackflagcnt", "ackflagcount"],
        required: false,
    },
    Column {
        name: "fin",
        aliases: &["fincount", "finflagcnt", "finflagcount"],
        required: false,
    },
    Column {
        name: "rst",
        aliases: &["rstcount", "rstflagcnt", "rstflagcount"],
        required: false,
    },
    Column {
        name: "psh",
        aliases: &["pshcount", "pshflagcnt", "pshflagcount"],
        required: false,
    },
    Column {
        name: "attack",
        aliases: &["attack", "isattack"],
        required: false,
    },
    Column {
        name: "label",
        aliases: &["label", "attackcat", "class"],
        required: false,
    },
];

/// `tcp_flags` (OR-ed over a unidirectional export) is read when the counts are absent.
const TCP_FLAGS: &[&str] = &["tcpflags", "flags", "flg"];

fn normal(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Reads a flow table. Rows with a bad value are skipped and listed with their line and
/// column; every good row is kept. Errors only when the file cannot be read or has no
/// header with the required columns.
pub fn read_flows(path: &Path) -> Result<FlowFile, IntrusionError> {
    let file = std::fs::File::open(path).map_err(|source| IntrusionError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_flows_from(path, std::io::BufReader::new(file))
}

/// [`read_flows`] from any reader; `path` names it in errors.
pub fn read_flows_from(
    path: &Path,
    reader: impl std::io::Read,
) -> Result<FlowFile, IntrusionError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let bad_file = |message: String| IntrusionError::File {
        path: path.to_path_buf(),
        message,
    };
    let mut record = csv::ByteRecord::new();
    let header = match csv.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => return Err(bad_file("empty: no header".into())),
        Err(e) => return Err(bad_file(format!("line 1: {e}"))),
    };
    // `normal` keeps ASCII letters and digits only, so a byte-order mark goes too.
    let names: Vec<String> = header
        .iter()
        .map(|h| normal(&String::from_utf8_lossy(h)))
        .collect();
    let find = |aliases: &[&str]| {
        aliases
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
    };
    let mut at: HashMap<&'static str, usize> = HashMap::new();
    for c in &COLUMNS {
        match find(c.aliases) {
            Some(i) => {
                at.insert(c.name, i);
            }
            None if c.required => {
                return Err(bad_file(format!(
                    "line 1: no {} column (looked for {})",
                    c.name,
                    c.aliases.join(", ")
                )))
            }
            None => {}
        }
    }
    let flags = find(TCP_FLAGS);
    let mut out = FlowFile::default();
    let mut line = 1u64;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                line = e.position().map_or(line + 1, |p| p.line());
                problem(&mut out, line, None, e.to_string());
                continue;
            }
        }
        line = record.position().map_or(line + 1, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
            continue;
        }
        match row(&record, &at, flags) {
            Ok((flow, label, class)) => {
                out.flows.push(flow);
                out.labels.push(label);
                out.classes.push(class);
            }
            Err((column, message)) => problem(&mut out, line, column, message),
        }
    }
    Ok(out)
}

fn problem(out: &mut FlowFile, line: u64, column: Option<String>, message: String) {
    if out.problems.len() < MAX_PROBLEMS {
        out.problems.push(RowProblem {
            line,
            column,
            message,
        });
    } else {
        out.more_problems += 1;
    }
}

type RowError = (Option<String>, String);

fn row(
    r: &csv::ByteRecord,
    at: &HashMap<&'static str, usize>,
    flags: Option<usize>,
) -> Result<(FlowObs, Option<String>, Option<String>), RowError> {
    let text = |name: &'static str| -> Result<Option<&str>, RowError> {
        let Some(&i) = at.get(name) else {
            return Ok(None);
        };
        let bytes = r.get(i).ok_or_else(|| {
            (
                Some(name.to_string()),
                format!("missing: the row has {} fields", r.len()),
            )
        })?;
        std::str::from_utf8(bytes)
            .map(|s| Some(s.trim()))
            .map_err(|_| (Some(name.to_string()), "not UTF-8".to_string()))
    };
    let need = |name: &'static str| -> Result<&str, RowError> {
        text(name)?.ok_or_else(|| (Some(name.to_string()), "missing".to_string()))
    };
    let count = |name: &'static str| -> Result<Option<u64>, RowError> {
        match text(name)? {
            None => Ok(None),
            Some(s) => number(s)
                .map(Some)
                .ok_or_else(|| (Some(name.to_string()), format!("{s:?} is not a count"))),
        }
    };
    let start: Timestamp = need("start")?
        .parse()
        .map_err(|e| (Some("start".to_string()), format!("{e}")))?;
    let ip = |name: &'static str| -> Result<std::net::IpAddr, RowError> {
        let s = need(name)?;
        s.parse().map_err(|_| {
            (
                Some(name.to_string()),
                format!("{s:?} is not an IP address"),
            )
        })
    };
    let (src, dst) = (ip("src_ip")?, ip("dst_ip")?);
    let small = |name: &'static str, max: u64| -> Result<u64, RowError> {
        let v = count(name)?.unwrap_or(0);
        if v > max {
            return Err((Some(name.to_string()), format!("{v} is above {max}")));
        }
        Ok(v)
    };
    let dst_port = small("dst_port", u64::from(u16::MAX))? as u16;
    let protocol = match need("protocol")?.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        _ => small("protocol", 255)? as u8,
    };
    let packets = count("packets")?.unwrap_or(0);
    let reverse_packets = count("reverse_packets")?;
    let (syn, ack, fin, rst) = (count("syn")?, count("ack")?, count("fin")?, count("rst")?);
    let flag_counts = [
        (fin, flags::FIN),
        (syn, flags::SYN),
        (rst, flags::RST),
        (count("psh")?, flags::PSH),
        (ack, flags::ACK),
    ];
    let exported = match flags.and_then(|i| r.get(i)).map(String::from_utf8_lossy) {
        Some(f) if !f.trim().is_empty() => Some(parse_tcp_flags(f.trim()).ok_or_else(|| {
            (
                Some("tcp_flags".to_string()),
                format!(
                    "{:?} is not TCP flags (a number or letters of UAPRSF)",
                    f.trim()
                ),
            )
        })?),
        _ => None,
    };
    let tcp_flags = if protocol != 6 {
        0
    } else if flag_counts.iter().any(|(n, _)| n.is_some()) {
        flag_counts
            .iter()
            .filter(|(n, _)| n.is_some_and(|n| n > 0))
            .fold(0, |bits, (_, bit)| bits | bit)
    } else {
        exported.map_or(0, |b| b as u8)
    };
    let failed = protocol == 6
        && match (ack, fin, rst) {
            (Some(ack), fin, rst) => {
                fin.unwrap_or(0) == 0
                    && (rst.unwrap_or(0) > 0 || ack <= reverse_packets.unwrap_or(0))
                    && syn.unwrap_or(1) > 0
            }
            _ => exported.is_some_and(crate::flow::flags_failed),
        };
    let duration_ms = duration(&text, start)?;
    // A 0/1 `attack` column (the sandbox's) says which labels are normal traffic.
    let class = text("label")?.map(str::to_string);
    let label = match count("attack")? {
        Some(0) => None,
        _ => class.clone(),
    };
    Ok((
        FlowObs {
            start,
            src,
            dst,
            src_port: small("src_port", u64::from(u16::MAX))? as u16,
            dst_port,
            protocol,
            duration_ms,
            packets,
            bytes: count("bytes")?.unwrap_or(0),
            reverse_packets: reverse_packets.unwrap_or(0),
            reverse_bytes: count("reverse_bytes")?.unwrap_or(0),
            tcp_flags,
            failed,
        },
        label,
        class,
    ))
}

/// A count written as an integer or a whole float (`12`, `12.0`); not negative, NaN or huge.
fn number(s: &str) -> Option<u64> {
    s.parse::<u64>().ok().or_else(|| {
        let f: f64 = s.parse().ok()?;
        (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1e18).then_some(f as u64)
    })
}

/// The flow's duration in ms from whichever column the layout has (ms, CICFlowMeter's µs,
/// seconds, or an end time); 0 without one.
fn duration<'a>(
    text: &impl Fn(&'static str) -> Result<Option<&'a str>, RowError>,
    start: Timestamp,
) -> Result<f64, RowError> {
    for (name, scale) in [
        ("duration_ms", 1.0),
        ("duration_us", 1e-3),
        ("duration_s", 1e3),
    ] {
        if let Some(s) = text(name)? {
            return match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
                _ => Err((Some(name.to_string()), format!("{s:?} is not a duration"))),
            };
        }
    }
    match text("end")? {
        None => Ok(0.0),
        Some(s) => {
            let end: Timestamp = s
                .parse()
                .map_err(|e| (Some("end".to_string()), format!("{e}")))?;
            Ok(end.0.saturating_sub(start.0).max(0) as f64)
        }
    }
}

/// A unidirectional export's OR-ed TCP flags: a number (`18`, `0x12`) or nfdump's letters
/// (`.A..S.`: URG, ACK, PSH, RST, SYN, FIN; ECN's `C` and `E` are ignored).
fn parse_tcp_flags(f: &str) -> Option<u16> {
    if let Ok(b) = f.parse::<u16>() {
        return Some(b);
    }
    if let Some(h) = f.strip_prefix("0x") {
        return u16::from_str_radix(h, 16).ok();
    }
    f.chars().try_fold(0u16, |bits, c| {
        let bit = match c {
            'U' => flags::URG,
            'A' => flags::ACK,
            'P' => flags::PSH,
            'R' => flags::RST,
            'S' => flags::SYN,
            'F' => flags::FIN,
            '.' | 'C' | 'E' => 0,
            _ => return None,
        };
        Some(bits | u16::from(bit))
    })
}
