#![doc = include_str!("../README.md")]

pub mod bench;
pub mod coop;
pub mod domain;
mod error;
pub mod guidance;
pub mod index;
pub mod level;
pub mod models;
pub mod standards;
pub mod store;
pub mod usecase;
mod validate;

use std::sync::Arc;

use chrono::NaiveDate;

pub use coop::{CoopOptions, DomainCoverage, Overlap};
pub use domain::{Domain, Sdg};
pub use error::{HubError, Result};
pub use guidance::{Assessment, Factor, Guidance};
pub use index::{SearchFilter, SearchHit, SearchIndex};
pub use level::LevelRecord;
pub use models::{ModelMetadata, ModelQuery, ModelRecord, ModelSelection, Port};
pub use standards::{Change, NoReview, ReviewCycle, ReviewItem, Standard, StandardPatch};
pub use store::Store;
pub use usecase::{Evidence, Score, UseCase, UseCaseRecord};

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The hub: standards catalogue, use cases, model marketplace and guidance over one
/// [`Store`]. Every CLI command and server endpoint is a method here.
#[derive(Debug)]
pub struct Hub {
    store: Store,
    /// The search index and the catalogue fingerprint it was built for.
    index: Option<(CatalogueFingerprint, Arc<SearchIndex>)>,
}

/// Changes whenever the catalogue does, whichever process changed it: number of standards,
/// latest update time, number of intent links.
type CatalogueFingerprint = (i64, Option<String>, i64);

/// A stored artifact read a chunk at a time ([`Hub::artifact_reader`]).
#[derive(Debug)]
pub struct ArtifactReader<'a> {
    hub: &'a mut Hub,
    name: String,
    version: String,
    /// The next chunk to read.
    seq: u64,
    chunk: Vec<u8>,
    /// Bytes of `chunk` already read.
    at: usize,
}

impl std::io::Read for ArtifactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            let next = models::chunk(&mut self.hub.store, &self.name, &self.version, self.seq)
                .map_err(std::io::Error::other)?;
            let Some(chunk) = next else {
                return Ok(0);
            };
            (self.chunk, self.at, self.seq) = (chunk, 0, self.seq + 1);
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// What [`Hub::seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SeedReport {
    /// Standards added.
    pub added: usize,
    /// Standards already present (left untouched).
    pub present: usize,
}

impl Hub {
    /// Opens (creating and migrating) the hub at `location`: a SQLite file path, `:memory:`, or
    /// a PostgreSQL connection string (with the `postgres` feature). A new hub is seeded with
    /// the shipped standards catalogue.
    pub fn open(location: &str) -> Result<Hub> {
        Hub::with_store(Store::open(location)?)
    }

    /// Opens the hub at `location` for reading only (see [`Store::open_read_only`]): nothing
    /// is written, created or migrated. A SQLite file that does not exist yet reads as a new
    /// hub would (the shipped catalogue, in memory), and is not created.
    pub fn open_read_only(location: &str) -> Result<Hub> {
        let missing = !store::is_postgres_location(location)
            && location != ":memory:"
            && !std::path::Path::new(location).exists();
        if missing {
            return Hub::in_memory();
        }
        Ok(Hub::empty(Store::open_read_only(location)?))
    }

    /// A seeded hub in memory.
    pub fn in_memory() -> Result<Hub> {
        Hub::with_store(Store::in_memory()?)
    }

    /// A hub over an opened store; seeds the catalogue when the store has no standards.
    pub fn with_store(store: Store) -> Result<Hub> {
        let mut hub = Hub { store, index: None };
        if hub
            .store
            .query("SELECT 1 FROM standards LIMIT 1", &[])?
            .is_empty()
        {
            hub.seed()?;
        }
        Ok(hub)
    }

    /// A hub over an opened store, without seeding (benchmarks, imports).
    pub fn empty(store: Store) -> Hub {
        Hub { store, index: None }
    }

    /// The underlying store.
    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Adds the shipped standards that are not in the catalogue yet.
    pub fn seed(&mut self) -> Result<SeedReport> {
        let seed = standards::seed_standards()?;
        self.store.transaction(|store| {
            let mut report = SeedReport {
                added: 0,
                present: 0,
            };
            for s in &seed {
                if standards::exact_id(store, &s.body, &s.number)?.is_some() {
                    report.present += 1;
                } else {
                    standards::insert(store, s, "seed")?;
                    report.added += 1;
                }
            }
            Ok(report)
        })
    }

    /// Adds a standard (logged); fails when its key exists.
    pub fn add_standard(&mut self, s: &Standard) -> Result<()> {
        self.store
            .transaction(|store| standards::insert(store, s, "add"))
    }

    /// Adds many standards in one transaction without logging each (imports, benchmarks).
    /// Keys are checked for exact duplicates only (same body and number, same case).
    pub fn add_standards_bulk(&mut self, list: &[Standard]) -> Result<()> {
        self.store.transaction(|store| {
            for s in list {
                standards::insert(store, s, "bulk")?;
            }
            Ok(())
        })
    }

    /// Edits a standard (logged with old and new values) and returns it.
    pub fn edit_standard(&mut self, key: &str, patch: &StandardPatch) -> Result<Standard> {
        self.store
            .transaction(|store| standards::edit(store, key, patch))
    }

    /// One standard by key (`BODY NUMBER`, or a number used by one body only).
    pub fn standard(&mut self, key: &str) -> Result<Option<Standard>> {
        standards::get(&mut self.store, key)
    }

    /// All standards, by body then number.
    pub fn standards(&mut self) -> Result<Vec<Standard>> {
        standards::all(&mut self.store)
    }

    /// The search index over the whole catalogue; rebuilt only when the catalogue changed
    /// since the last call (also by another process sharing the database).
    pub fn search_index(&mut self) -> Result<Arc<SearchIndex>> {
        use store::RowExt as _;
        let rows = self.store.query(
            "SELECT (SELECT COUNT(*) FROM standards), (SELECT MAX(updated_at) FROM standards), \
             (SELECT COUNT(*) FROM standard_intents)",
            &[],
        )?;
        let r = rows
            .first()
            .ok_or_else(|| HubError::Corrupt("catalogue fingerprint".into()))?;
        let fingerprint = (r.int(0)?, r.opt_text(1)?, r.int(2)?);
        if let Some((f, index)) = &self.index {
            if *f == fingerprint {
                return Ok(Arc::clone(index));
            }
        }
        let index = Arc::new(SearchIndex::build(self.standards()?));
        self.index = Some((fingerprint, Arc::clone(&index)));
        Ok(index)
    }

    /// Searches the catalogue (BM25 over title, scope, number, body and group).
    pub fn search_standards(
        &mut self,
        query: &str,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        Ok(self.search_index()?.search(query, filter, limit))
    }

    /// The change log, newest first; `item` narrows it to one standard (or other item key).
    pub fn change_log(&mut self, item: Option<&str>, limit: usize) -> Result<Vec<Change>> {
        standards::changes(&mut self.store, item, limit)
    }

    /// Review cycles in force, per body.
    pub fn review_cycles(&mut self) -> Result<Vec<ReviewCycle>> {
        standards::review_cycles(&mut self.store)
    }

    /// Sets the review cycle of a body (logged).
    pub fn set_review_cycle(&mut self, body: &str, years: u32) -> Result<()> {
        self.store
            .transaction(|store| standards::set_review_cycle(store, body, years))
    }

    /// Review status of every standard at `at`, most overdue first.
    pub fn review_status(&mut self, at: NaiveDate) -> Result<Vec<ReviewItem>> {
        standards::review_status(&mut self.store, at)
    }

    /// Standards whose next review is due on or before `at` (overdue included).
    pub fn review_due(&mut self, at: NaiveDate) -> Result<Vec<ReviewItem>> {
        Ok(self
            .review_status(at)?
            .into_iter()
            .filter(|i| i.overdue_days.is_some_and(|d| d >= 0))
            .collect())
    }

    /// The cooperation map over the catalogue (see [`coop`]).
    pub fn cooperation_map(&mut self, opts: &CoopOptions) -> Result<Vec<Overlap>> {
        let index = self.search_index()?;
        Ok(coop::cooperation_map(&index, opts))
    }

    /// Coverage of the Resolution 101 domains; a domain with fewer than `min_standards`
    /// standards or no implementing intent is a gap.
    pub fn gaps(&mut self, min_standards: usize) -> Result<Vec<DomainCoverage>> {
        let index = self.search_index()?;
        let uc: Vec<(Domain, String)> = self
            .use_cases()?
            .into_iter()
            .map(|u| (u.use_case.domain, u.use_case.intent))
            .collect();
        Ok(coop::gaps(&index, &uc, min_standards))
    }

    /// Registers (or updates) a use case; its intent is linked to the catalogue standards it
    /// cites. Logged.
    pub fn register_use_case(&mut self, uc: &UseCase) -> Result<()> {
        self.store.transaction(|store| usecase::register(store, uc))
    }

    /// All use cases with their rubric scores. Fails on the first stored row that cannot be
    /// read (see [`Hub::use_cases_listing`] to list the others).
    pub fn use_cases(&mut self) -> Result<Vec<UseCaseRecord>> {
        usecase::list(&mut self.store, None)?.into_iter().collect()
    }

    /// Like [`Hub::use_cases`], with each stored row that cannot be read as its error, in place.
    pub fn use_cases_listing(&mut self) -> Result<Vec<Result<UseCaseRecord>>> {
        usecase::list(&mut self.store, None)
    }

    /// One use case by name.
    pub fn use_case(&mut self, name: &str) -> Result<Option<UseCaseRecord>> {
        usecase::list(&mut self.store, Some(name))?
            .into_iter()
            .next()
            .transpose()
    }

    /// Publishes a model version with its artifact (the hub side of Model_Push). The sha256
    /// in `meta`, when given, must match the artifact.
    pub fn publish_model(&mut self, meta: &ModelMetadata, artifact: &[u8]) -> Result<ModelRecord> {
        self.publish_model_from(meta, artifact)
    }

    /// Like [`Hub::publish_model`], reading the artifact from `artifact` and storing it in
    /// chunks of [`models::CHUNK_BYTES`], so that memory stays bounded whatever its size. In
    /// one transaction: a refusal or a read error leaves nothing stored.
    pub fn publish_model_from(
        &mut self,
        meta: &ModelMetadata,
        mut artifact: impl std::io::Read,
    ) -> Result<ModelRecord> {
        self.store
            .transaction(|store| models::publish(store, meta, &mut artifact))
    }

    /// Model_Query / Model_Discovery: matching versions, newest first. Fails on the first
    /// stored row that cannot be read (see [`Hub::models_listing`] to list the others).
    pub fn models(&mut self, query: &ModelQuery) -> Result<Vec<ModelRecord>> {
        models::query(&mut self.store, query)?.into_iter().collect()
    }

    /// Like [`Hub::models`], with each stored row that cannot be read as its error, in place.
    pub fn models_listing(&mut self, query: &ModelQuery) -> Result<Vec<Result<ModelRecord>>> {
        models::query(&mut self.store, query)
    }

    /// Model_Selection by name: metadata of a version, alias or `latest`.
    pub fn model(&mut self, name: &str, version: &str) -> Result<Option<ModelRecord>> {
        models::get(&mut self.store, name, version)
    }

    /// Model_Selection by criteria (used by the MLFO): the best matching version.
    pub fn select_model(&mut self, selection: &ModelSelection) -> Result<Option<ModelRecord>> {
        models::select(&mut self.store, selection)
    }

    /// Model_Pull: metadata and artifact, integrity checked against the stored sha256.
    pub fn pull_model(
        &mut self,
        name: &str,
        version: &str,
    ) -> Result<Option<(ModelRecord, Vec<u8>)>> {
        models::pull(&mut self.store, name, version)
    }

    /// The first pass of a streamed Model_Pull: the metadata of a version, alias or `latest`,
    /// once its stored artifact has been hashed chunk by chunk and matches its sha256
    /// ([`HubError::Integrity`] otherwise). Read it then with [`Hub::model_chunk`].
    pub fn verify_model(&mut self, name: &str, version: &str) -> Result<Option<ModelRecord>> {
        models::verify(&mut self.store, name, version)
    }

    /// Chunk `seq` (from 0) of the stored artifact of `name@version` (a version, as
    /// [`Hub::verify_model`] answers it); `None` past the last. Versions are immutable, so
    /// chunks read one call at a time make up the artifact that was verified.
    pub fn model_chunk(&mut self, name: &str, version: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        models::chunk(&mut self.store, name, version, seq)
    }

    /// The stored artifact of `name@version` (a version, as [`Hub::verify_model`] answers it)
    /// as a reader that holds one chunk at a time.
    pub fn artifact_reader(&mut self, name: &str, version: &str) -> ArtifactReader<'_> {
        ArtifactReader {
            hub: self,
            name: name.to_string(),
            version: version.to_string(),
            seq: 0,
            chunk: Vec::new(),
            at: 0,
        }
    }

    /// Points an alias (e.g. `production`) at a version; returns the version. Logged.
    pub fn set_model_alias(&mut self, name: &str, alias: &str, version: &str) -> Result<String> {
        self.store
            .transaction(|store| models::set_alias(store, name, alias, version))
    }

    /// Records the latest Y.3173 intelligence level of a subject (computed by `ai4ict-eval`).
    pub fn record_level(
        &mut self,
        subject: &str,
        level: u8,
        detail: &serde_json::Value,
    ) -> Result<()> {
        level::record(&mut self.store, subject, level, detail)
    }

    /// Recorded intelligence levels.
    pub fn levels(&mut self) -> Result<Vec<LevelRecord>> {
        level::list(&mut self.store)
    }

    /// Guidance from a readiness self-assessment (see [`guidance`]).
    pub fn guidance(&mut self, assessment: &Assessment) -> Result<Guidance> {
        let catalogue = self.standards()?;
        let use_cases = self.use_cases()?;
        guidance::guidance(assessment, &catalogue, &use_cases)
    }
}
