//! Finding places in intent text: the key at an error position, the line of a field path,
//! and "did you mean" hints. Works on the block and flow styles intents are written in.

/// The dotted path of the key at or before (`line`, `column`) (both 1-based).
pub(crate) fn path_at(text: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?;
    let mut path = block_parents(&lines, line - 1);
    let inline: Vec<String> = keys_with_columns(here)
        .into_iter()
        .filter(|(_, c)| *c <= column.max(1))
        .map(|(k, _)| k)
        .collect();
    if inline.is_empty() {
        return (!path.is_empty()).then(|| path.join("."));
    }
    path.extend(inline);
    Some(path.join("."))
}

/// The (line, column) where the dotted `path` is written, 1-based. List indices in the path
/// (`preprocess.1.clip`) are matched by position in the list.
pub(crate) fn find(text: &str, path: &str) -> Option<(usize, usize)> {
    let want: Vec<&str> = path.split('.').collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut best: Option<(usize, usize, usize)> = None; // (matched segments, line, col)
    for (i, l) in lines.iter().enumerate() {
        let mut p = block_parents(&lines, i);
        for (key, col) in keys_with_columns(l) {
            p.push(key);
            let matched = prefix_match(&want, &p);
            if matched > best.map_or(0, |b| b.0) {
                best = Some((matched, i + 1, col));
            }
        }
    }
    best.map(|(_, l, c)| (l, c))
}

fn prefix_match(want: &[&str], have: &[String]) -> usize {
    let have: Vec<&str> = have
        .iter()
        .map(String::as_str)
        .filter(|s| s.parse::<usize>().is_err())
        .collect();
    let want: Vec<&str> = want
        .iter()
        .copied()
        .filter(|s| s.parse::<usize>().is_err())
        .collect();
    if have.len() > want.len() || have.iter().zip(&want).any(|(a, b)| a != b) {
        return 0;
    }
    have.len()
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches([' ', '-']).len()
}

fn is_content(l: &str) -> bool {
    let t = l.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// Keys of the block mappings enclosing line `i` (outermost first).
fn block_parents(lines: &[&str], i: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut limit = indent(lines[i]);
    for l in lines[..i].iter().rev() {
        if !is_content(l) || indent(l) >= limit {
            continue;
        }
        limit = indent(l);
        if let Some((k, _)) = keys_with_columns(l).into_iter().next() {
            out.push(k);
        }
        if limit == 0 {
            break;
        }
    }
    out.reverse();
    out
}

/// Keys written on this line, in order, each with its 1-based column.
fn keys_with_columns(l: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let chars: Vec<char> = l.chars().collect();
    let mut i = 0;
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if c == '#' && (i == 0 || chars[i - 1] == ' ') {
            break;
        } else if c == '"' || c == '\'' {
            quote = Some(c);
        } else if c == ':' && (i + 1 == chars.len() || chars[i + 1] == ' ') {
            if let Some(s) = start {
                let key: String = chars[s..i].iter().collect();
                let key = key.trim().trim_matches(['"', '\'']).to_string();
                if !key.is_empty() {
                    out.push((key, s + 1));
                }
            }
            start = None;
        } else if matches!(c, '{' | ',' | '[' | '-' | ' ' | '}' | ']') {
            if c != '-' || start.is_none() {
                start = None;
            }
        } else if start.is_none() {
            start = Some(i);
        }
        i += 1;
    }
    out
}

/// The closest of `candidates` to `word` by edit distance, if it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: t\nuse_case: operations\nsource:\n  sandbox: {cells: -5}\nmodel:\n  anomaly:\n    detector: auto\npreprocess:\n  - fill_gaps: linear\n  - clip: {field: prb_util, min: 0}\n";

    #[test]
    fn path_of_flow_key() {
        assert_eq!(
            path_at(TEXT, 4, 19).as_deref(),
            Some("source.sandbox.cells")
        );
        assert_eq!(
            path_at(TEXT, 7, 5).as_deref(),
            Some("model.anomaly.detector")
        );
        assert_eq!(path_at(TEXT, 1, 1).as_deref(), Some("name"));
    }

    #[test]
    fn find_paths() {
        assert_eq!(find(TEXT, "source.sandbox.cells"), Some((4, 13)));
        assert_eq!(find(TEXT, "model.anomaly.detector"), Some((7, 5)));
        assert_eq!(find(TEXT, "preprocess.1.clip.min").map(|p| p.0), Some(10));
        assert_eq!(find(TEXT, "nothing"), None);
    }

    #[test]
    fn hints() {
        assert_eq!(
            did_you_mean("modle", &["name", "model", "policy"]),
            Some("model")
        );
        assert_eq!(did_you_mean("zzzzzz", &["name", "model"]), None);
    }
}
