//! Text search over the catalogue: an in-memory inverted index with BM25 ranking.
//!
//! Documents are a standard's title (counted twice), scope, number, body and group. Tokens are
//! lower-cased alphanumeric runs of two or more characters, minus English stop words, with a
//! plural `s` stripped from words longer than four letters; a standard's number is also kept
//! whole (`y.3172`) so exact look-ups rank first. The index also keeps, per standard, the terms
//! of what it is about (title and scope, without the identifying number, body and group): the
//! cooperation map compares those.

use std::collections::HashMap;

use crate::domain::Domain;
use crate::standards::Standard;

/// BM25 term-frequency saturation.
pub const K1: f32 = 1.2;
/// BM25 length normalisation.
pub const B: f32 = 0.75;

const STOP: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "per",
    "the",
    "their",
    "this",
    "to",
    "with",
    "within",
    "based",
    "including",
    "part",
    "other",
    "using",
    "via",
];

/// Splits text into index terms (see the module docs).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.chars().count() >= 2)
        .map(|t| {
            let mut t = t.to_lowercase();
            if t.len() > 4 && t.ends_with('s') && !["ss", "us", "is"].iter().any(|e| t.ends_with(e))
            {
                t.pop();
            }
            t
        })
        .filter(|t| !STOP.contains(&t.as_str()))
        .collect()
}

/// BM25 inverse document frequency of a term found in `df` of `n` documents.
pub(crate) fn idf(n: usize, df: usize) -> f32 {
    let (n, df) = (n as f32, df as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// BM25 length normalisation of a document of `len` terms.
pub(crate) fn len_norm(len: f32, avg_len: f32) -> f32 {
    K1 * (1.0 - B + B * len / avg_len)
}

/// BM25 term-frequency factor, given the document's [`len_norm`].
pub(crate) fn saturated_tf(tf: u16, len_norm: f32) -> f32 {
    let tf = f32::from(tf);
    tf * (K1 + 1.0) / (tf + len_norm)
}

fn count(tf: &mut HashMap<u32, u16>, term: u32) {
    let e = tf.entry(term).or_default();
    *e = e.saturating_add(1);
}

/// A term-frequency map as a list sorted by term id.
fn sorted(tf: HashMap<u32, u16>) -> Vec<(u32, u16)> {
    let mut v: Vec<(u32, u16)> = tf.into_iter().collect();
    v.sort_unstable();
    v
}

/// One search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct SearchHit {
    /// Position of the standard in [`SearchIndex::standards`].
    pub doc: usize,
    /// Catalogue key.
    pub key: String,
    /// Title.
    pub title: String,
    /// BM25 score (higher is better).
    pub score: f32,
    /// Query terms found in the standard.
    pub matched: Vec<String>,
}

/// Filters applied to a search.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Only this body (case-insensitive).
    pub body: Option<String>,
    /// Only standards of this domain (cross-cutting ones included).
    pub domain: Option<Domain>,
}

/// An inverted index over a set of standards, built once and queried many times.
#[derive(Debug, Clone)]
pub struct SearchIndex {
    standards: Vec<Standard>,
    terms: HashMap<String, u32>,
    /// Per term: (document, term frequency).
    postings: Vec<Vec<(u32, u16)>>,
    /// Per document: its distinct terms and their frequencies.
    doc_terms: Vec<Vec<(u32, u16)>>,
    /// Per document: the distinct terms of its title (counted twice) and scope, with their
    /// frequencies.
    content_terms: Vec<Vec<(u32, u16)>>,
    /// Per term: its BM25 inverse document frequency.
    idf: Vec<f32>,
    /// Per document: the BM25 length normalisation `K1 * (1 - B + B * len / avg_len)`.
    len_norm: Vec<f32>,
}

impl SearchIndex {
    /// Builds the index.
    pub fn build(standards: Vec<Standard>) -> SearchIndex {
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<(u32, u16)>> = Vec::new();
        let mut doc_terms = Vec::with_capacity(standards.len());
        let mut content_terms = Vec::with_capacity(standards.len());
        let mut doc_len = Vec::with_capacity(standards.len());
        for (d, s) in standards.iter().enumerate() {
            let mut tf: HashMap<u32, u16> = HashMap::new();
            let mut content_tf: HashMap<u32, u16> = HashMap::new();
            let mut len = 0usize;
            let (title, scope) = (tokenize(&s.title), tokenize(&s.scope));
            let content = title.iter().chain(&title).chain(&scope).cloned();
            let ident = tokenize(&format!("{} {} {}", s.number, s.body, s.group))
                .into_iter()
                .chain(std::iter::once(s.number.to_lowercase()));
            let tokens = content.map(|t| (t, true)).chain(ident.map(|t| (t, false)));
            for (t, is_content) in tokens {
                let next = terms.len() as u32;
                let id = *terms.entry(t).or_insert(next);
                if id as usize == postings.len() {
                    postings.push(Vec::new());
                }
                count(&mut tf, id);
                if is_content {
                    count(&mut content_tf, id);
                }
                len += 1;
            }
            let dt = sorted(tf);
            for &(t, f) in &dt {
                postings[t as usize].push((d as u32, f));
            }
            doc_terms.push(dt);
            content_terms.push(sorted(content_tf));
            doc_len.push(len as f32);
        }
        let avg_len = if standards.is_empty() {
            1.0
        } else {
            doc_len.iter().sum::<f32>() / standards.len() as f32
        };
        let idf = postings
            .iter()
            .map(|p| idf(standards.len(), p.len()))
            .collect();
        let len_norm = doc_len.iter().map(|&l| len_norm(l, avg_len)).collect();
        SearchIndex {
            standards,
            terms,
            postings,
            doc_terms,
            content_terms,
            idf,
            len_norm,
        }
    }

    /// The indexed standards.
    pub fn standards(&self) -> &[Standard] {
        &self.standards
    }

    /// Number of distinct terms.
    pub fn vocabulary_size(&self) -> usize {
        self.terms.len()
    }

    /// BM25 weight of a term that occurs `tf` times in document `doc`.
    pub(crate) fn weight(&self, term: u32, doc: u32, tf: u16) -> f32 {
        self.idf[term as usize] * saturated_tf(tf, self.len_norm[doc as usize])
    }

    pub(crate) fn postings(&self, term: u32) -> &[(u32, u16)] {
        &self.postings[term as usize]
    }

    /// The distinct terms of a document's title and scope with their frequencies (the title
    /// counted twice), by term id.
    pub(crate) fn content_terms(&self, doc: usize) -> &[(u32, u16)] {
        &self.content_terms[doc]
    }

    pub(crate) fn term_names(&self) -> Vec<&str> {
        let mut names = vec![""; self.terms.len()];
        for (t, &id) in &self.terms {
            names[id as usize] = t.as_str();
        }
        names
    }

    /// Searches for `query`, best first, at most `limit` hits.
    pub fn search(&self, query: &str, filter: &SearchFilter, limit: usize) -> Vec<SearchHit> {
        let mut qterms: Vec<(u32, &str)> = Vec::new();
        let whole = query.trim().to_lowercase();
        let toks = tokenize(query);
        for t in toks
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(whole.as_str()))
        {
            if let Some(&id) = self.terms.get(t) {
                if !qterms.iter().any(|(q, _)| *q == id) {
                    qterms.push((id, t));
                }
            }
        }
        // Dense accumulators: one score per document, filled from the postings of the
        // query terms only.
        let mut scores = vec![0f32; self.standards.len()];
        let mut touched: Vec<u32> = Vec::new();
        for &(t, _) in &qterms {
            for &(d, tf) in self.postings(t) {
                if scores[d as usize] == 0.0 {
                    touched.push(d);
                }
                scores[d as usize] += self.weight(t, d, tf);
            }
        }
        let body = filter.body.as_deref().map(str::to_lowercase);
        touched.retain(|d| {
            let s = &self.standards[*d as usize];
            body.as_ref().is_none_or(|b| s.body.to_lowercase() == *b)
                && filter
                    .domain
                    .is_none_or(|dm| s.domains.is_empty() || s.domains.contains(&dm))
        });
        let order = |a: &u32, b: &u32| {
            scores[*b as usize]
                .total_cmp(&scores[*a as usize])
                .then(a.cmp(b))
        };
        if limit == 0 {
            return Vec::new();
        }
        if touched.len() > limit {
            touched.select_nth_unstable_by(limit - 1, order);
            touched.truncate(limit);
        }
        touched.sort_by(order);
        touched
            .into_iter()
            .map(|d| {
                let s = &self.standards[d as usize];
                let terms = &self.doc_terms[d as usize];
                SearchHit {
                    doc: d as usize,
                    key: s.key(),
                    title: s.title.clone(),
                    score: scores[d as usize],
                    matched: qterms
                        .iter()
                        .filter(|(t, _)| terms.binary_search_by_key(t, |&(x, _)| x).is_ok())
                        .map(|(_, name)| name.to_string())
                        .collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std(body: &str, number: &str, title: &str, scope: &str) -> Standard {
        let mut s = Standard::new(body, number, title);
        s.scope = scope.into();
        s
    }

    #[test]
    fn tokenizer_drops_stop_words_and_plurals() {
        assert_eq!(
            tokenize("Framework for the networks of IMT-2020"),
            vec!["framework", "network", "imt", "2020"]
        );
        assert_eq!(
            tokenize("autonomous analysis"),
            vec!["autonomous", "analysis"]
        );
        assert!(tokenize("").is_empty());
        assert!(tokenize("a ! ? ,").is_empty());
    }

    #[test]
    fn bm25_ranks_the_focused_document_first() {
        let idx = SearchIndex::build(vec![
            std(
                "ITU-T",
                "Y.3172",
                "Machine learning architecture",
                "ML pipeline in networks",
            ),
            std(
                "ETSI",
                "GS ENI 005",
                "Network intelligence architecture",
                "closed loop",
            ),
            std("ISO/IEC", "22989", "AI concepts and terminology", "terms"),
        ]);
        let hits = idx.search("machine learning pipeline", &SearchFilter::default(), 10);
        assert_eq!(hits[0].key, "ITU-T Y.3172");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].matched.contains(&"pipeline".to_string()));
        let hits = idx.search("Y.3172", &SearchFilter::default(), 10);
        assert_eq!(hits[0].key, "ITU-T Y.3172");
        let hits = idx.search(
            "architecture",
            &SearchFilter {
                body: Some("etsi".into()),
                domain: None,
            },
            10,
        );
        assert_eq!(hits.len(), 1);
        assert!(idx.search("", &SearchFilter::default(), 10).is_empty());
        assert!(idx.search("zzz", &SearchFilter::default(), 10).is_empty());
    }
}
