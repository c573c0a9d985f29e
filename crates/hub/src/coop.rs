//! The cooperation map: overlapping standards of different bodies, and gaps in coverage of
//! the Resolution 101 domains.
//!
//! **Similarity.** Each standard is a vector of BM25 term weights over its indexed text (see
//! [`crate::index`]), normalised to unit length. Two standards of *different bodies* score
//! the cosine of their vectors plus [`CoopOptions::domain_bonus`] when they share a
//! Resolution 101 domain. Terms in more than [`CoopOptions::max_df`] of the documents are
//! ignored: they carry almost no BM25 weight and would make the map quadratic. Pairs are found
//! through the inverted index (only documents sharing a term are ever compared), in parallel
//! over the documents; each standard keeps its best [`CoopOptions::per_standard`] partners,
//! and the merged list is ranked by score. Each pair comes with the shared terms that
//! contribute most to its score.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::domain::Domain;
use crate::index::SearchIndex;

/// Settings of the cooperation map.
#[derive(Debug, Clone)]
pub struct CoopOptions {
    /// Smallest score reported.
    pub min_score: f32,
    /// Added to the score of a pair sharing a Resolution 101 domain.
    pub domain_bonus: f32,
    /// Terms found in more than this fraction of documents are ignored.
    pub max_df: f32,
    /// Best partners kept per standard before ranking.
    pub per_standard: usize,
    /// Pairs reported.
    pub limit: usize,
    /// Explaining terms reported per pair.
    pub terms: usize,
}

impl Default for CoopOptions {
    fn default() -> Self {
        CoopOptions {
            min_score: 0.2,
            domain_bonus: 0.1,
            max_df: 0.1,
            per_standard: 5,
            limit: 50,
            terms: 5,
        }
    }
}

/// Two standards of different bodies that cover the same ground: a cooperation opportunity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// Key of the first standard.
    pub a: String,
    /// Key of the second standard.
    pub b: String,
    /// Title of the first.
    pub a_title: String,
    /// Title of the second.
    pub b_title: String,
    /// Score: cosine of BM25 vectors plus the domain bonus.
    pub score: f32,
    /// Shared terms with their contribution to the cosine, largest first.
    pub terms: Vec<(String, f32)>,
    /// Resolution 101 domains both declare.
    pub shared_domains: Vec<Domain>,
}

/// Computes the cooperation map over an index (see the module docs).
pub fn cooperation_map(index: &SearchIndex, opts: &CoopOptions) -> Vec<Overlap> {
    let n = index.standards().len();
    if n < 2 {
        return Vec::new();
    }
    let max_df = ((opts.max_df * n as f32).ceil() as usize).max(2);
    // Unit-length weight vectors, kept term-by-term alongside the postings.
    let norms: Vec<f32> = (0..n)
        .into_par_iter()
        .map(|d| {
            index
                .doc_terms(d)
                .iter()
                .map(|&(t, tf)| index.weight(t, d as u32, tf).powi(2))
                .sum::<f32>()
                .sqrt()
                .max(f32::MIN_POSITIVE)
        })
        .collect();
    let bodies: Vec<String> = index
        .standards()
        .iter()
        .map(|s| s.body.to_lowercase())
        .collect();
    let weight = |t: u32, d: u32, tf: u16| index.weight(t, d, tf) / norms[d as usize];

    let per_doc: Vec<Vec<(u32, u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0f32; n], Vec::<u32>::new()),
            |(acc, touched), a| {
                let a32 = a as u32;
                for &(t, tf) in index.doc_terms(a) {
                    let post = index.postings(t);
                    if post.len() > max_df || post.len() < 2 {
                        continue;
                    }
                    let wa = weight(t, a32, tf);
                    for &(b, tfb) in post {
                        if b <= a32 || bodies[b as usize] == bodies[a] {
                            continue;
                        }
                        if acc[b as usize] == 0.0 {
                            touched.push(b);
                        }
                        acc[b as usize] += wa * weight(t, b, tfb);
                    }
                }
                let sa = &index.standards()[a];
                let mut best: Vec<(u32, u32, f32)> = Vec::new();
                for &b in touched.iter() {
                    let sb = &index.standards()[b as usize];
                    let mut score = acc[b as usize];
                    acc[b as usize] = 0.0;
                    if sa.domains.iter().any(|d| sb.domains.contains(d)) {
                        score += opts.domain_bonus;
                    }
                    if score >= opts.min_score {
                        best.push((a32, b, score));
                    }
                }
                touched.clear();
                best.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.1.cmp(&y.1)));
                best.truncate(opts.per_standard);
                best
            },
        )
        .collect();
    let mut pairs: Vec<(u32, u32, f32)> = per_doc.into_iter().flatten().collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    pairs.truncate(opts.limit);

    let names = index.term_names();
    pairs
        .into_iter()
        .map(|(a, b, score)| {
            let (sa, sb) = (
                &index.standards()[a as usize],
                &index.standards()[b as usize],
            );
            let tb: BTreeMap<u32, u16> = index.doc_terms(b as usize).iter().copied().collect();
            let mut terms: Vec<(String, f32)> = index
                .doc_terms(a as usize)
                .iter()
                .filter(|(t, _)| {
                    let df = index.postings(*t).len();
                    (2..=max_df).contains(&df)
                })
                .filter_map(|&(t, tfa)| {
                    let tfb = *tb.get(&t)?;
                    Some((
                        names[t as usize].to_string(),
                        weight(t, a, tfa) * weight(t, b, tfb),
                    ))
                })
                .collect();
            terms.sort_by(|x, y| y.1.total_cmp(&x.1));
            terms.truncate(opts.terms);
            Overlap {
                a: sa.key(),
                b: sb.key(),
                a_title: sa.title.clone(),
                b_title: sb.title.clone(),
                score,
                terms,
                shared_domains: sa
                    .domains
                    .iter()
                    .filter(|d| sb.domains.contains(d))
                    .copied()
                    .collect(),
            }
        })
        .collect()
}

/// Coverage of one Resolution 101 domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainCoverage {
    /// The domain.
    pub domain: Domain,
    /// Standards declaring this domain (cross-cutting ones not counted).
    pub standards: usize,
    /// Bodies among those standards.
    pub bodies: Vec<String>,
    /// Intents implementing a standard of this domain, or registered as a use case of it.
    pub intents: Vec<String>,
    /// Why this domain is a gap; empty when it is not.
    pub reasons: Vec<String>,
}

impl DomainCoverage {
    /// True when the domain has few standards or no implementing intent.
    pub fn is_gap(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// Coverage of every Resolution 101 domain; a domain with fewer than `min_standards`
/// standards or no implementing intent is a gap.
pub fn gaps(
    index: &SearchIndex,
    use_case_intents: &[(Domain, String)],
    min_standards: usize,
) -> Vec<DomainCoverage> {
    Domain::ALL
        .into_iter()
        .map(|domain| {
            let of: Vec<_> = index
                .standards()
                .iter()
                .filter(|s| s.domains.contains(&domain))
                .collect();
            let mut bodies: Vec<String> = of.iter().map(|s| s.body.clone()).collect();
            bodies.sort();
            bodies.dedup();
            let mut intents: Vec<String> = of
                .iter()
                .flat_map(|s| s.intents.iter().cloned())
                .chain(
                    use_case_intents
                        .iter()
                        .filter(|(d, _)| *d == domain)
                        .map(|(_, i)| i.clone()),
                )
                .collect();
            intents.sort();
            intents.dedup();
            let mut reasons = Vec::new();
            if of.len() < min_standards {
                reasons.push(format!(
                    "only {} standard(s), fewer than {min_standards}",
                    of.len()
                ));
            }
            if intents.is_empty() {
                reasons.push("no implementing intent".to_string());
            }
            DomainCoverage {
                domain,
                standards: of.len(),
                bodies,
                intents,
                reasons,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standards::Standard;

    fn std(body: &str, number: &str, title: &str, domains: &[Domain]) -> Standard {
        let mut s = Standard::new(body, number, title);
        s.domains = domains.to_vec();
        s
    }

    #[test]
    fn finds_cross_body_overlap_with_explaining_terms() {
        let mut docs = vec![
            std(
                "ITU-T",
                "X.1",
                "Machine learning marketplace model exchange",
                &[Domain::ServicesApplications],
            ),
            std(
                "IEEE",
                "1-2021",
                "AI model exchange marketplace and distribution",
                &[Domain::ServicesApplications],
            ),
            std(
                "ITU-T",
                "X.2",
                "Machine learning marketplace requirements",
                &[],
            ),
            std(
                "ETSI",
                "GS 1",
                "Energy efficiency of base stations",
                &[Domain::Energy],
            ),
        ];
        for i in 0..30 {
            docs.push(std(
                "ISO/IEC",
                &format!("{i}"),
                &format!("filler topic{i} words{i}"),
                &[],
            ));
        }
        let index = SearchIndex::build(docs);
        let map = cooperation_map(
            &index,
            &CoopOptions {
                max_df: 0.5,
                ..Default::default()
            },
        );
        assert!(!map.is_empty());
        let top = &map[0];
        assert_eq!(
            (top.a.as_str(), top.b.as_str()),
            ("ITU-T X.1", "IEEE 1-2021")
        );
        assert_eq!(top.shared_domains, vec![Domain::ServicesApplications]);
        let terms: Vec<&str> = top.terms.iter().map(|(t, _)| t.as_str()).collect();
        assert!(
            terms.contains(&"marketplace") && terms.contains(&"exchange"),
            "{terms:?}"
        );
        // Same-body pairs never appear.
        assert!(map
            .iter()
            .all(|o| o.a.split(' ').next() != o.b.split(' ').next()));
    }

    #[test]
    fn gaps_flag_empty_domains() {
        let mut s = std("ITU-T", "Y.1", "Energy", &[Domain::Energy]);
        s.intents = vec!["energy-saving".into()];
        let index = SearchIndex::build(vec![s]);
        let cov = gaps(&index, &[(Domain::Security, "ids".into())], 1);
        let energy = cov.iter().find(|c| c.domain == Domain::Energy).unwrap();
        assert!(!energy.is_gap());
        let sec = cov.iter().find(|c| c.domain == Domain::Security).unwrap();
        assert_eq!(sec.reasons.len(), 1, "{:?}", sec.reasons);
        let iot = cov.iter().find(|c| c.domain == Domain::Iot).unwrap();
        assert_eq!(iot.reasons.len(), 2);
    }
}
