//! Reading physical lines with a length cap, so that a huge line costs an error, not memory.

use std::io::{self, BufRead};

/// Longest line (and so field) the readers accept, in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One physical line.
pub(crate) enum Line<'a> {
    /// The line without its `\n` / `\r\n` (and without a leading byte-order mark on line 1).
    Full(&'a [u8]),
    /// The line was longer than the cap: its first `MAX_LINE_BYTES` bytes and its real length.
    TooLong { prefix: &'a [u8], len: u64 },
}

/// Splits a byte stream into lines, keeping at most `cap` bytes of each in memory.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    cap: usize,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, cap: usize) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            line_no: 0,
            cap,
        }
    }

    /// The next line and its 1-based number, or `None` at the end of the stream.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut len: u64 = 0;
        let mut any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (chunk_len, found) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            let room = (self.cap + 1).saturating_sub(self.buf.len()).min(chunk_len);
            self.buf.extend_from_slice(&avail[..room]);
            len += chunk_len as u64;
            self.inner.consume(chunk_len + usize::from(found));
            if found {
                break;
            }
        }
        self.line_no += 1;
        if self.buf.last() == Some(&b'\r') && len <= self.cap as u64 + 1 {
            self.buf.pop();
            len -= 1;
        }
        let start = if self.line_no == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let line = if len > self.cap as u64 {
            let end = self.buf.len().min(self.cap);
            Line::TooLong {
                prefix: &self.buf[start.min(end)..end],
                len,
            }
        } else {
            Line::Full(&self.buf[start..])
        };
        Ok(Some((self.line_no, line)))
    }
}

/// True for a line of nothing but ASCII white space (skipped silently by the readers).
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line number, the full line or (kept prefix, real length)).
    type Got = (u64, Result<Vec<u8>, (Vec<u8>, u64)>);

    fn collect(input: &[u8], cap: usize) -> Vec<Got> {
        let mut r = LineReader::new(input, cap);
        let mut out = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            out.push((
                n,
                match l {
                    Line::Full(b) => Ok(b.to_vec()),
                    Line::TooLong { prefix, len } => Err((prefix.to_vec(), len)),
                },
            ));
        }
        out
    }

    #[test]
    fn splits_lf_crlf_bom_and_last_line_without_newline() {
        let got = collect(b"\xEF\xBB\xBFa,b\r\nc\n\nd", 100);
        assert_eq!(
            got,
            vec![
                (1, Ok(b"a,b".to_vec())),
                (2, Ok(b"c".to_vec())),
                (3, Ok(vec![])),
                (4, Ok(b"d".to_vec()))
            ]
        );
    }

    #[test]
    fn caps_long_lines_and_goes_on() {
        let got = collect(b"abcdefgh\nok\nabcd\r\n", 4);
        assert_eq!(got[0], (1, Err((b"abcd".to_vec(), 8))));
        assert_eq!(got[1], (2, Ok(b"ok".to_vec())));
        assert_eq!(got[2], (3, Ok(b"abcd".to_vec())));
    }
}
