//! The cooperation map: overlapping standards of different bodies, and gaps in coverage of
//! the Resolution 101 domains.
//!
//! **Similarity.** Each standard is a vector of BM25 term weights over what it is about, its
//! title and scope (see [`crate::index`]), normalised to unit length. Two standards of
//! *different bodies* score the cosine of their vectors plus [`CoopOptions::domain_bonus`] when
//! they share a Resolution 101 domain. Only *domain terms* count towards the cosine: a term
//! found in more than [`CoopOptions::max_df`] of the standards carries almost no inverse
//! document frequency, and the words every standard uses to describe itself ([`GENERIC_TERMS`]:
//! "framework", "requirements", "use case", …) and bare numbers say nothing about the subject,
//! so a match never rests on them. They still count in a vector's length, so a standard made
//! mostly of generic words does not look focused.
//!
//! **Speed.** Pairs are found through an inverted index over the domain terms, holding each
//! standard's normalised weight: a standard is compared only with the later standards that share
//! a domain term, in parallel over the standards. Each standard keeps its best
//! [`CoopOptions::per_standard`] later partners, and the merged list is ranked by score. Each
//! pair comes with the shared domain terms that contribute most to its score.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::domain::Domain;
use crate::index::{idf, len_norm, saturated_tf, tokenize, SearchIndex};

/// Words that describe what kind of document a standard is rather than what it is about; a
/// cooperation match never rests on them (they are matched after [`tokenize`]).
pub const GENERIC_TERMS: &[&str] = &[
    "framework",
    "requirements",
    "system",
    "use",
    "uses",
    "case",
    "guidelines",
    "guidance",
    "guide",
    "overview",
    "general",
    "generic",
    "specification",
    "standard",
    "recommendation",
    "method",
    "methodology",
    "document",
    "technology",
    "information",
    "aspects",
    "approach",
    "principles",
    "concepts",
    "description",
    "study",
    "report",
    "series",
    "future",
    "new",
    "support",
    "enhancement",
    "related",
    "specific",
    "various",
    "provides",
    "defines",
    "describes",
    "specifies",
    "covers",
    "applicable",
    "organizations",
    "types",
];

/// Settings of the cooperation map.
#[derive(Debug, Clone)]
pub struct CoopOptions {
    /// Smallest score reported.
    pub min_score: f32,
    /// Added to the score of a pair sharing a Resolution 101 domain.
    pub domain_bonus: f32,
    /// Terms found in more than this fraction of documents are not domain terms.
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
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Overlap {
    /// Key of the first standard.
    pub a: String,
    /// Key of the second standard.
    pub b: String,
    /// Title of the first.
    pub a_title: String,
    /// Title of the second.
    pub b_title: String,
    /// Score: cosine of BM25 vectors over domain terms plus the domain bonus.
    pub score: f32,
    /// Shared domain terms with their contribution to the cosine, largest first: each a
    /// `[term, contribution]` pair.
    #[schemars(with = "Vec<Vec<serde_json::Value>>")]
    pub terms: Vec<(String, f32)>,
    /// Resolution 101 domains both declare.
    pub shared_domains: Vec<Domain>,
}

/// Margin kept under the score floor when pruning, so float rounding in the bound can never
/// drop a pair that reaches the floor.
const BOUND_SLACK: f32 = 1e-4;

/// The standards as unit-length vectors over domain terms, with an inverted index.
struct DomainVectors {
    /// Per standard: (term, normalised weight), by term id.
    docs: Vec<Vec<(u32, f32)>>,
    /// Per term: the standards using it, in order.
    postings: Vec<Vec<u32>>,
    /// Per term: its largest normalised weight in any standard.
    max_weight: Vec<f32>,
    /// Per standard: its body, as a small id.
    body: Vec<u32>,
    /// Per standard: its Resolution 101 domains, one bit each.
    domains: Vec<u16>,
}

impl DomainVectors {
    fn build(index: &SearchIndex, opts: &CoopOptions) -> DomainVectors {
        let standards = index.standards();
        let n = standards.len();
        let max_df = ((opts.max_df * n as f32).ceil() as usize).max(2);
        let generic: HashSet<String> = GENERIC_TERMS.iter().flat_map(|w| tokenize(w)).collect();
        let names = index.term_names();
        let mut df = vec![0usize; names.len()];
        let mut len = vec![0f32; n];
        for (d, l) in len.iter_mut().enumerate() {
            for &(t, tf) in index.content_terms(d) {
                df[t as usize] += 1;
                *l += f32::from(tf);
            }
        }
        let is_domain_term: Vec<bool> = names
            .iter()
            .zip(&df)
            .map(|(name, df)| {
                (2..=max_df).contains(df)
                    && !generic.contains(*name)
                    && !name.chars().all(|c| c.is_ascii_digit())
            })
            .collect();
        let avg_len = (len.iter().sum::<f32>() / n.max(1) as f32).max(1.0);
        let docs: Vec<Vec<(u32, f32)>> = (0..n)
            .into_par_iter()
            .map(|d| {
                let norm = len_norm(len[d], avg_len);
                let weights: Vec<(u32, f32)> = index
                    .content_terms(d)
                    .iter()
                    .map(|&(t, tf)| (t, idf(n, df[t as usize]) * saturated_tf(tf, norm)))
                    .collect();
                let length = weights.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
                weights
                    .into_iter()
                    .filter(|&(t, _)| is_domain_term[t as usize])
                    .map(|(t, w)| (t, w / length))
                    .collect()
            })
            .collect();
        let mut postings = vec![Vec::new(); names.len()];
        let mut max_weight = vec![0f32; names.len()];
        for (d, terms) in docs.iter().enumerate() {
            for &(t, w) in terms {
                postings[t as usize].push(d as u32);
                max_weight[t as usize] = max_weight[t as usize].max(w);
            }
        }
        let mut body_ids: HashMap<String, u32> = HashMap::new();
        let body = standards
            .iter()
            .map(|s| {
                let next = body_ids.len() as u32;
                *body_ids.entry(s.body.to_lowercase()).or_insert(next)
            })
            .collect();
        let domains = standards
            .iter()
            .map(|s| {
                Domain::ALL
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| s.domains.contains(d))
                    .fold(0u16, |m, (i, _)| m | 1 << i)
            })
            .collect();
        DomainVectors {
            docs,
            postings,
            max_weight,
            body,
            domains,
        }
    }

    /// Cosine of two standards: the products of their shared terms' weights, summed in the
    /// order of `a`'s terms.
    fn cosine(&self, a: usize, b: usize) -> f32 {
        let vb = &self.docs[b];
        self.docs[a]
            .iter()
            .filter_map(|(t, wa)| {
                let i = vb.binary_search_by_key(t, |&(u, _)| u).ok()?;
                Some(wa * vb[i].1)
            })
            .fold(0.0, |sum, p| sum + p)
    }

    /// The domain bonus a pair gets.
    fn bonus(&self, a: usize, b: usize, opts: &CoopOptions) -> f32 {
        if self.domains[a] & self.domains[b] != 0 {
            opts.domain_bonus
        } else {
            0.0
        }
    }

    /// The standards after `a` in `posting` that belong to another body.
    fn later_of_other_bodies<'v>(
        &'v self,
        a: usize,
        posting: &'v [u32],
    ) -> impl Iterator<Item = usize> + 'v {
        let later = posting.partition_point(|&b| b as usize <= a);
        posting[later..]
            .iter()
            .map(|&b| b as usize)
            .filter(move |&b| self.body[b] != self.body[a])
    }

    /// A floor on the score of the last reported pair: the `limit`-th best score of the pairs
    /// that share each standard's rarest domain term, at most `per_standard` per standard. The
    /// reported pairs are the best `limit` of the per-standard lists, and those lists hold at
    /// least `limit` pairs scoring that much (a standard's list holds each of its seed pairs or
    /// `per_standard` better ones), so no pair below the floor can be reported.
    fn floor(&self, opts: &CoopOptions) -> f32 {
        let mut seeds: Vec<f32> = (0..self.docs.len())
            .into_par_iter()
            .flat_map_iter(|a| {
                let rarest = self.docs[a]
                    .iter()
                    .map(|&(t, _)| &self.postings[t as usize])
                    .min_by_key(|p| p.len());
                let partners = rarest
                    .into_iter()
                    .flat_map(move |p| self.later_of_other_bodies(a, p));
                best_partners(self, a, partners, opts.min_score, opts)
            })
            .map(|(_, _, score)| score)
            .collect();
        if opts.limit == 0 || seeds.len() < opts.limit {
            return opts.min_score;
        }
        let (_, last, _) = seeds.select_nth_unstable_by(opts.limit - 1, |x, y| y.total_cmp(x));
        last.max(opts.min_score)
    }

    /// Inverted index of each standard under its terms outside its longest prefix (most
    /// frequent terms first) whose largest possible contribution to a cosine, the sum of
    /// weight × the term's largest weight, stays under `floor` less the domain bonus the
    /// standard could get: a pair reaching `floor` must share an indexed term of its later
    /// standard (prefix filtering).
    fn pruned_postings(&self, floor: f32, opts: &CoopOptions) -> Vec<Vec<u32>> {
        let mut pruned = vec![Vec::new(); self.postings.len()];
        for (b, terms) in self.docs.iter().enumerate() {
            let bonus = if self.domains[b] != 0 {
                opts.domain_bonus
            } else {
                0.0
            };
            let budget = floor - bonus - BOUND_SLACK;
            let mut by_df = terms.clone();
            by_df.sort_by_key(|&(t, _)| (std::cmp::Reverse(self.postings[t as usize].len()), t));
            let mut bound = 0.0;
            for (t, w) in by_df {
                bound += w * self.max_weight[t as usize];
                if bound >= budget {
                    pruned[t as usize].push(b as u32);
                }
            }
        }
        pruned
    }
}

/// Keeps the best `opts.per_standard` partners of `a` scoring at least `min`.
fn best_partners(
    vectors: &DomainVectors,
    a: usize,
    partners: impl IntoIterator<Item = usize>,
    min: f32,
    opts: &CoopOptions,
) -> Vec<(u32, u32, f32)> {
    let mut best: Vec<(u32, u32, f32)> = partners
        .into_iter()
        .filter_map(|b| {
            let cosine = vectors.cosine(a, b);
            let score = cosine + vectors.bonus(a, b, opts);
            (cosine > 0.0 && score >= min).then_some((a as u32, b as u32, score))
        })
        .collect();
    best.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.1.cmp(&y.1)));
    best.truncate(opts.per_standard);
    best
}

/// Ranks the kept pairs of every standard and keeps the best `opts.limit`.
fn rank(
    pairs: impl IntoIterator<Item = (u32, u32, f32)>,
    opts: &CoopOptions,
) -> Vec<(u32, u32, f32)> {
    let mut pairs: Vec<(u32, u32, f32)> = pairs.into_iter().collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    pairs.truncate(opts.limit);
    pairs
}

/// Computes the cooperation map over an index (see the module docs).
pub fn cooperation_map(index: &SearchIndex, opts: &CoopOptions) -> Vec<Overlap> {
    if index.standards().len() < 2 {
        return Vec::new();
    }
    let vectors = DomainVectors::build(index, opts);
    let names = index.term_names();
    ranked_pairs(&vectors, opts)
        .into_iter()
        .map(|(a, b, score)| overlap(index, &vectors, &names, a, b, score, opts))
        .collect()
}

/// The ranked pairs (a, b, score), each standard compared only with the later standards that
/// share one of their indexed terms, above the floor (see [`DomainVectors::floor`] and
/// [`DomainVectors::pruned_postings`]).
fn ranked_pairs(vectors: &DomainVectors, opts: &CoopOptions) -> Vec<(u32, u32, f32)> {
    let n = vectors.docs.len();
    let floor = vectors.floor(opts);
    let postings = vectors.pruned_postings(floor, opts);
    let per_doc: Vec<Vec<(u32, u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || vec![usize::MAX; n],
            |seen, a| {
                let mut partners = Vec::new();
                for &(t, _) in &vectors.docs[a] {
                    for b in vectors.later_of_other_bodies(a, &postings[t as usize]) {
                        if seen[b] != a {
                            seen[b] = a;
                            partners.push(b);
                        }
                    }
                }
                best_partners(vectors, a, partners, floor, opts)
            },
        )
        .collect();
    rank(per_doc.into_iter().flatten(), opts)
}

/// A ranked pair with the shared domain terms that explain it.
fn overlap(
    index: &SearchIndex,
    vectors: &DomainVectors,
    names: &[&str],
    a: u32,
    b: u32,
    score: f32,
    opts: &CoopOptions,
) -> Overlap {
    let (sa, sb) = (
        &index.standards()[a as usize],
        &index.standards()[b as usize],
    );
    let tb: HashMap<u32, f32> = vectors.docs[b as usize].iter().copied().collect();
    let mut terms: Vec<(String, f32)> = vectors.docs[a as usize]
        .iter()
        .filter_map(|(t, wa)| Some((names[*t as usize].to_string(), wa * tb.get(t)?)))
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
}

/// Coverage of one Resolution 101 domain.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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

    /// Reference: every pair's cosine by merging the two vectors (no index, no floor, no
    /// pruning), then the plain per-standard selection.
    fn brute_force(vectors: &DomainVectors, opts: &CoopOptions) -> Vec<(u32, u32, f32)> {
        let n = vectors.docs.len();
        let mut pairs = Vec::new();
        for a in 0..n {
            let mut best = Vec::new();
            for b in a + 1..n {
                let (va, vb) = (&vectors.docs[a], &vectors.docs[b]);
                let (mut i, mut j, mut dot) = (0, 0, 0f32);
                while i < va.len() && j < vb.len() {
                    match va[i].0.cmp(&vb[j].0) {
                        std::cmp::Ordering::Less => i += 1,
                        std::cmp::Ordering::Greater => j += 1,
                        std::cmp::Ordering::Equal => {
                            dot += va[i].1 * vb[j].1;
                            (i, j) = (i + 1, j + 1);
                        }
                    }
                }
                let score = dot + vectors.bonus(a, b, opts);
                if vectors.body[a] != vectors.body[b] && dot > 0.0 && score >= opts.min_score {
                    best.push((a as u32, b as u32, score));
                }
            }
            best.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.1.cmp(&y.1)));
            best.truncate(opts.per_standard);
            pairs.extend(best);
        }
        rank(pairs, opts)
    }

    #[test]
    fn inverted_index_matches_brute_force() {
        let settings = [
            CoopOptions::default(),
            CoopOptions {
                limit: 5,
                per_standard: 1,
                ..Default::default()
            },
            CoopOptions {
                limit: 10_000,
                min_score: 0.05,
                ..Default::default()
            },
            CoopOptions {
                domain_bonus: 0.5,
                ..Default::default()
            },
        ];
        for docs in [
            crate::bench::synthetic_standards(800, 3),
            crate::standards::seed_standards().unwrap(),
        ] {
            let index = SearchIndex::build(docs);
            for opts in &settings {
                let vectors = DomainVectors::build(&index, opts);
                let fast = ranked_pairs(&vectors, opts);
                assert!(fast.len() >= opts.limit.min(5), "{}", fast.len());
                assert_eq!(fast, brute_force(&vectors, opts), "{opts:?}");
            }
        }
    }

    #[test]
    fn matches_rest_on_domain_terms_not_generic_words() {
        let mut docs = vec![
            std(
                "ITU-T",
                "Y.1",
                "Framework and requirements for system use cases",
                &[],
            ),
            std(
                "IEEE",
                "1-2020",
                "System use case framework: general requirements",
                &[],
            ),
            std("ETSI", "GS 1", "Beam management for positioning", &[]),
            std("3GPP", "TR 1", "Positioning with beam management", &[]),
        ];
        for i in 0..40 {
            docs.push(std("ISO/IEC", &format!("{i}"), &format!("topic{i}"), &[]));
        }
        let map = cooperation_map(&SearchIndex::build(docs), &CoopOptions::default());
        let top = &map[0];
        assert_eq!((top.a.as_str(), top.b.as_str()), ("ETSI GS 1", "3GPP TR 1"));
        assert!(!map.iter().any(|o| o.a == "ITU-T Y.1"), "{map:?}");

        // On the shipped catalogue every explaining term is a domain term.
        let index = SearchIndex::build(crate::standards::seed_standards().unwrap());
        let map = cooperation_map(&index, &CoopOptions::default());
        assert!(!map.is_empty());
        let generic: HashSet<String> = GENERIC_TERMS.iter().flat_map(|w| tokenize(w)).collect();
        for o in &map {
            assert!(!o.terms.is_empty(), "{o:?}");
            for (t, _) in &o.terms {
                assert!(!generic.contains(t), "{} ~ {}: {t}", o.a, o.b);
                assert!(
                    !t.chars().all(|c| c.is_ascii_digit()),
                    "{} ~ {}: {t}",
                    o.a,
                    o.b
                );
            }
        }
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
