//! Splitting one CSV line into fields (RFC 4180 quoting; a quoted field cannot span lines).

/// The fields of one line, stored back to back.
#[derive(Default)]
pub(crate) struct Fields {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Fields {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    fn end_field(&mut self) {
        self.ends.push(self.data.len());
    }
}

/// Why a line cannot be split; `field` is the 0-based index of the field at fault.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SplitError {
    UnterminatedQuote { field: usize },
    TextAfterQuote { field: usize },
}

impl SplitError {
    pub(crate) fn field(&self) -> usize {
        match self {
            Self::UnterminatedQuote { field } | Self::TextAfterQuote { field } => *field,
        }
    }

    pub(crate) fn message(&self) -> &'static str {
        match self {
            Self::UnterminatedQuote { .. } => {
                "unterminated quote (a quoted value must close on the same line)"
            }
            Self::TextAfterQuote { .. } => "text after the closing quote",
        }
    }
}

/// Splits `line` on `delim` into `out`.
pub(crate) fn split(line: &[u8], delim: u8, out: &mut Fields) -> Result<(), SplitError> {
    out.clear();
    let n = line.len();
    let mut i = 0;
    loop {
        let field = out.len();
        if i < n && line[i] == b'"' {
            i += 1;
            loop {
                match line[i..].iter().position(|&b| b == b'"') {
                    None => return Err(SplitError::UnterminatedQuote { field }),
                    Some(p) => {
                        out.data.extend_from_slice(&line[i..i + p]);
                        i += p + 1;
                        if i < n && line[i] == b'"' {
                            out.data.push(b'"');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            out.end_field();
            if i == n {
                return Ok(());
            }
            if line[i] != delim {
                return Err(SplitError::TextAfterQuote { field });
            }
            i += 1;
        } else {
            match line[i..].iter().position(|&b| b == delim) {
                Some(p) => {
                    out.data.extend_from_slice(&line[i..i + p]);
                    out.end_field();
                    i += p + 1;
                }
                None => {
                    out.data.extend_from_slice(&line[i..]);
                    out.end_field();
                    return Ok(());
                }
            }
        }
    }
}

/// The delimiter a header line uses: `,` if it has one, else `;`, else a tab, else `,`.
pub(crate) fn detect_delimiter(header: &[u8]) -> u8 {
    [b',', b';', b'\t']
        .into_iter()
        .find(|d| header.contains(d))
        .unwrap_or(b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Result<Vec<String>, SplitError> {
        let mut f = Fields::default();
        split(line.as_bytes(), b',', &mut f)?;
        Ok((0..f.len())
            .map(|i| String::from_utf8(f.get(i).to_vec()).unwrap())
            .collect())
    }

    #[test]
    fn plain_quoted_and_empty_fields() {
        assert_eq!(fields("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            fields("\"x,y\",\"say \"\"hi\"\"\",").unwrap(),
            ["x,y", "say \"hi\"", ""]
        );
        assert_eq!(fields("").unwrap(), [""]);
        assert_eq!(fields("a\"b,c").unwrap(), ["a\"b", "c"]);
    }

    #[test]
    fn quote_errors_name_the_field() {
        assert_eq!(
            fields("a,\"b,c"),
            Err(SplitError::UnterminatedQuote { field: 1 })
        );
        assert_eq!(
            fields("\"a\"b,c"),
            Err(SplitError::TextAfterQuote { field: 0 })
        );
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter(b"a;b"), b';');
        assert_eq!(detect_delimiter(b"a\tb"), b'\t');
        assert_eq!(detect_delimiter(b"a,b;c"), b',');
        assert_eq!(detect_delimiter(b"a"), b',');
    }
}
