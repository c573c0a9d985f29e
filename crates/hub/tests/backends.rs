//! The same suite against every storage backend: SQLite always, PostgreSQL when
//! `AI4ICT_TEST_POSTGRES` holds a connection string (each test in its own schema).

use ai4ict_hub::{
    Assessment, CoopOptions, Domain, Evidence, Factor, Hub, HubError, ModelMetadata, ModelQuery,
    ModelSelection, SearchFilter, Standard, StandardPatch, Store, UseCase,
};
use chrono::NaiveDate;

fn stores(test: &str) -> Vec<Store> {
    #[cfg_attr(not(feature = "postgres"), allow(unused_mut))]
    let mut v = vec![Store::in_memory().unwrap()];
    if let Ok(conn) = std::env::var("AI4ICT_TEST_POSTGRES") {
        #[cfg(feature = "postgres")]
        {
            let schema = format!("ai4ict_test_{test}");
            Store::drop_postgres_schema(&conn, &schema).unwrap();
            v.push(Store::open_postgres(&conn, Some(&schema)).unwrap());
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (conn, test);
            eprintln!("AI4ICT_TEST_POSTGRES is set but the `postgres` feature is off");
        }
    }
    v
}

fn hubs(test: &str) -> Vec<Hub> {
    stores(test)
        .into_iter()
        .map(|s| Hub::with_store(s).unwrap())
        .collect()
}

#[test]
fn migrations_are_recorded_and_idempotent() {
    for mut s in stores("migrations") {
        assert_eq!(s.schema_versions().unwrap(), vec![1, 2], "{}", s.kind());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/hub.db");
    let path = path.to_str().unwrap();
    let n = Hub::open(path).unwrap().standards().unwrap().len();
    let mut again = Hub::open(path).unwrap();
    assert_eq!(
        again.standards().unwrap().len(),
        n,
        "reopen does not reseed"
    );
    assert_eq!(again.store().schema_versions().unwrap(), vec![1, 2]);
}

#[test]
fn catalogue_add_edit_search_and_log() {
    for mut hub in hubs("catalogue") {
        let kind = hub.store().kind();
        let seeded = hub.standards().unwrap().len();
        assert!(seeded >= 50, "{kind}");
        assert_eq!(
            hub.seed().unwrap().added,
            0,
            "{kind}: seeding twice adds nothing"
        );

        let hits = hub
            .search_standards("machine learning sandbox", &SearchFilter::default(), 5)
            .unwrap();
        assert_eq!(hits[0].key, "ITU-T Y.3181", "{kind}");

        let mut s = Standard::new("ITU-T", "Y.9999", "Test recommendation on quantum slicing");
        s.domains = vec![Domain::NetworksProtocols];
        s.year = Some(2020);
        s.editions = vec!["01/2020".into()];
        hub.add_standard(&s).unwrap();
        assert!(
            matches!(hub.add_standard(&s), Err(HubError::AlreadyExists(_))),
            "{kind}"
        );
        assert!(hub.add_standard(&Standard::new("ITU-T", "", "x")).is_err());

        let patch = StandardPatch {
            status: Some("Superseded".into()),
            add_edition: Some("06/2024".into()),
            last_review: NaiveDate::from_ymd_opt(2025, 1, 15),
            add_intents: vec!["slice-forecast".into()],
            ..Default::default()
        };
        let edited = hub.edit_standard("itu-t y.9999", &patch).unwrap();
        assert_eq!(edited.editions, vec!["01/2020", "06/2024"], "{kind}");
        let got = hub.standard("Y.9999").unwrap().unwrap();
        assert_eq!(got, edited, "{kind}");
        assert_eq!(got.intents, vec!["slice-forecast"]);
        assert!(matches!(
            hub.edit_standard("ITU-T Y.0", &patch),
            Err(HubError::NotFound(_))
        ));

        let log = hub.change_log(Some("ITU-T Y.9999"), 10).unwrap();
        assert_eq!(log.len(), 2, "{kind}: add + edit");
        assert_eq!(log[0].action, "edit");
        assert_eq!(log[0].detail["status"][1], "Superseded");
        let hits = hub
            .search_standards("quantum", &SearchFilter::default(), 5)
            .unwrap();
        assert_eq!(hits[0].key, "ITU-T Y.9999");
    }
}

#[test]
fn review_due_uses_the_cycle_per_body() {
    for mut hub in hubs("review") {
        let kind = hub.store().kind();
        let at = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let due = hub.review_due(at).unwrap();
        // Y.3172 (2019) with the 4-year ITU-T cycle was due on 2023-01-01.
        let y = due.iter().find(|i| i.key == "ITU-T Y.3172").unwrap();
        assert_eq!(y.due, NaiveDate::from_ymd_opt(2023, 1, 1), "{kind}");
        assert!(due.iter().all(|i| i.overdue_days.unwrap() >= 0));
        hub.set_review_cycle("ITU-T", 10).unwrap();
        let due = hub.review_due(at).unwrap();
        assert!(!due.iter().any(|i| i.key == "ITU-T Y.3172"), "{kind}");
        assert!(hub
            .review_cycles()
            .unwrap()
            .iter()
            .any(|c| c.body == "ITU-T" && c.years == 10 && c.configured));
        assert!(hub.set_review_cycle("ITU-T", 0).is_err());
        hub.edit_standard(
            "ISO/IEC 22989",
            &StandardPatch {
                last_review: NaiveDate::from_ymd_opt(2026, 1, 1),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!hub
            .review_due(at)
            .unwrap()
            .iter()
            .any(|i| i.key == "ISO/IEC 22989"));
    }
}

#[test]
fn cooperation_map_and_gaps_over_the_seed() {
    for mut hub in hubs("coop") {
        let map = hub
            .cooperation_map(&CoopOptions {
                limit: 20,
                ..Default::default()
            })
            .unwrap();
        assert!(!map.is_empty());
        for o in &map {
            assert!(!o.terms.is_empty(), "{o:?}");
            assert!(o.score >= 0.2);
        }
        assert!(map.windows(2).all(|w| w[0].score >= w[1].score));
        let gaps = hub.gaps(3).unwrap();
        assert_eq!(gaps.len(), 8);
        assert!(gaps.iter().all(|g| g.is_gap()), "no intents registered yet");
    }
}

fn use_case(evidence: bool) -> UseCase {
    UseCase {
        name: "cell-energy-saving".into(),
        intent: "cell-energy-saving".into(),
        sdgs: vec![7, 13],
        domain: Domain::Energy,
        description: "Switch off capacity layers when forecast load is low".into(),
        standards: vec!["ITU-T L.1801".into()],
        evidence: evidence.then(|| Evidence {
            run_id: "run-42".into(),
            metrics: serde_json::json!({"energy_saved_pct": 17.0, "targets_met": true}),
            source: "sandbox:urban".into(),
            at: chrono::Utc::now(),
        }),
    }
}

#[test]
fn use_cases_with_evidence_close_gaps() {
    for mut hub in hubs("usecases") {
        let kind = hub.store().kind();
        hub.register_use_case(&use_case(false)).unwrap();
        let before = hub.use_case("cell-energy-saving").unwrap().unwrap();
        hub.register_use_case(&use_case(true)).unwrap();
        let after = hub.use_case("cell-energy-saving").unwrap().unwrap();
        assert!(after.score.total() > before.score.total(), "{kind}");
        assert_eq!(after.registered_at, before.registered_at);
        assert_eq!(hub.use_cases().unwrap().len(), 1);
        let l1801 = hub.standard("ITU-T L.1801").unwrap().unwrap();
        assert_eq!(l1801.intents, vec!["cell-energy-saving"], "{kind}");
        let energy = hub
            .gaps(1)
            .unwrap()
            .into_iter()
            .find(|g| g.domain == Domain::Energy)
            .unwrap();
        assert!(!energy.is_gap(), "{kind}: {energy:?}");
        let mut bad = use_case(true);
        bad.sdgs = vec![18];
        assert!(hub.register_use_case(&bad).is_err());

        let mut a = Assessment::default();
        a.factors.insert(Factor::Sandbox, 1);
        let g = hub.guidance(&a).unwrap();
        assert_eq!(g.stage, "starting");
        assert_eq!(g.intents[0].intent, "cell-energy-saving");
        assert!(g.to_markdown().contains("cell-energy-saving"));

        hub.record_level(
            "cell-energy-saving",
            2,
            &serde_json::json!({"analysis": "HS"}),
        )
        .unwrap();
        hub.record_level("cell-energy-saving", 3, &serde_json::json!({}))
            .unwrap();
        assert!(hub.record_level("x", 6, &serde_json::json!({})).is_err());
        let levels = hub.levels().unwrap();
        assert_eq!(levels.len(), 1);
        assert_eq!(levels[0].level, 3, "{kind}");
    }
}

#[test]
fn marketplace_versions_aliases_and_integrity() {
    for mut hub in hubs("models") {
        let kind = hub.store().kind();
        let mut m = ModelMetadata::new("kpi-anomaly", "1.0.0", "ai4ict", "Apache-2.0");
        m.domain = Some(Domain::Operations);
        m.metrics.insert("f1".into(), 0.81);
        m.standards = vec!["ITU-T Y.3172".into()];
        let r1 = hub.publish_model(&m, b"model-v1").unwrap();
        assert_eq!(r1.metadata.size, 8);
        assert_eq!(r1.metadata.sha256.len(), 64);
        // Same bytes again: idempotent. Different bytes: refused.
        hub.publish_model(&m, b"model-v1").unwrap();
        assert!(matches!(
            hub.publish_model(&m, b"other"),
            Err(HubError::AlreadyExists(_))
        ));
        let mut bad = m.clone();
        bad.version = "9".into();
        bad.sha256 = "00".repeat(32);
        assert!(matches!(
            hub.publish_model(&bad, b"x"),
            Err(HubError::Integrity { .. })
        ));

        m.version = "1.1.0".into();
        m.metrics.insert("f1".into(), 0.78);
        hub.publish_model(&m, b"model-v2").unwrap();
        assert_eq!(
            hub.model("kpi-anomaly", "latest")
                .unwrap()
                .unwrap()
                .metadata
                .version,
            "1.1.0",
            "{kind}"
        );
        assert_eq!(
            hub.set_model_alias("kpi-anomaly", "production", "1.0.0")
                .unwrap(),
            "1.0.0"
        );
        let prod = hub.model("kpi-anomaly", "production").unwrap().unwrap();
        assert_eq!(prod.metadata.version, "1.0.0");
        assert_eq!(prod.aliases, vec!["production"]);
        assert!(hub
            .set_model_alias("kpi-anomaly", "1.1.0", "1.0.0")
            .is_err());
        assert!(hub.set_model_alias("kpi-anomaly", "x", "7.0").is_err());

        let (rec, bytes) = hub
            .pull_model("kpi-anomaly", "production")
            .unwrap()
            .unwrap();
        assert_eq!(bytes, b"model-v1");
        assert_eq!(
            rec.metadata.sha256,
            ai4ict_hub::models::sha256_hex(b"model-v1")
        );
        assert!(hub.pull_model("nope", "1").unwrap().is_none());

        let q = ModelQuery {
            text: Some("ANOMALY".into()),
            domain: Some(Domain::Operations),
            ..Default::default()
        };
        assert_eq!(hub.models(&q).unwrap().len(), 2, "{kind}");
        let since = ModelQuery {
            since: Some(r1.metadata.published_at.clone()),
            ..Default::default()
        };
        assert_eq!(
            hub.models(&since).unwrap().len(),
            1,
            "{kind}: discovery poll"
        );
        let best = hub
            .select_model(&ModelSelection {
                query: ModelQuery::default(),
                metric: Some("f1".into()),
                higher_is_better: true,
            })
            .unwrap()
            .unwrap();
        assert_eq!(best.metadata.version, "1.0.0", "{kind}");
        let log = hub.change_log(Some("kpi-anomaly@production"), 5).unwrap();
        assert_eq!(log.len(), 1);
    }
}

#[test]
fn bench_runs_on_every_backend() {
    for s in stores("bench") {
        let r = ai4ict_hub::bench::run(s, 200, 20, 3).unwrap();
        assert_eq!(r.n, 200);
    }
}

#[test]
fn search_index_follows_changes_made_by_another_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let path = path.to_str().unwrap();
    let (mut reader, mut writer) = (Hub::open(path).unwrap(), Hub::open(path).unwrap());
    let first = reader.search_index().unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &reader.search_index().unwrap()),
        "cached"
    );
    writer
        .add_standard(&Standard::new(
            "IETF",
            "RFC 9999",
            "Zebra telemetry for networks",
        ))
        .unwrap();
    let hits = reader
        .search_standards("zebra", &SearchFilter::default(), 3)
        .unwrap();
    assert_eq!(hits[0].key, "IETF RFC 9999");
}

#[test]
fn artifacts_are_stored_in_chunks_and_read_back_whole() {
    let chunk = ai4ict_hub::models::CHUNK_BYTES;
    let artifact: Vec<u8> = (0..chunk * 5 / 2).map(|i| (i % 253) as u8).collect();
    for mut hub in hubs("chunks") {
        let kind = hub.store().kind();
        let m = ModelMetadata::new("big", "1", "ai4ict", "MIT");
        let rec = hub.publish_model_from(&m, &artifact[..]).unwrap();
        assert_eq!(rec.metadata.size, artifact.len() as u64, "{kind}");
        let verified = hub.verify_model("big", "latest").unwrap().unwrap();
        assert_eq!(verified.metadata.sha256, rec.metadata.sha256);
        let mut joined = Vec::new();
        let mut seq = 0;
        while let Some(c) = hub.model_chunk("big", "1", seq).unwrap() {
            assert!(c.len() <= chunk, "{kind}");
            joined.extend(c);
            seq += 1;
        }
        assert_eq!(seq, 3, "{kind}");
        assert_eq!(joined, artifact, "{kind}");
        assert_eq!(hub.pull_model("big", "1").unwrap().unwrap().1, artifact);

        // A wrong sha256 stores no chunk: the version can be published afterwards.
        let mut bad = ModelMetadata::new("big", "2", "ai4ict", "MIT");
        bad.sha256 = "00".repeat(32);
        assert!(matches!(
            hub.publish_model_from(&bad, &artifact[..]),
            Err(HubError::Integrity { .. })
        ));
        assert!(hub.model_chunk("big", "2", 0).unwrap().is_none(), "{kind}");
        bad.sha256.clear();
        hub.publish_model(&bad, b"small").unwrap();
        assert_eq!(hub.pull_model("big", "2").unwrap().unwrap().1, b"small");
    }
}

#[test]
fn artifacts_stored_whole_by_older_hubs_still_pull() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let loc = path.to_str().unwrap();
    let m = ModelMetadata::new("old", "1", "ai4ict", "MIT");
    Hub::open(loc)
        .unwrap()
        .publish_model(&m, b"old bytes")
        .unwrap();
    // As an older hub stored it: the bytes in the models row, no chunks.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "UPDATE models SET artifact = CAST('old bytes' AS BLOB); DELETE FROM model_chunks",
        )
        .unwrap();
    let mut hub = Hub::open(loc).unwrap();
    assert!(hub.verify_model("old", "1").unwrap().is_some());
    assert_eq!(
        hub.model_chunk("old", "1", 0).unwrap().unwrap(),
        b"old bytes"
    );
    assert!(hub.model_chunk("old", "1", 1).unwrap().is_none());
    assert_eq!(hub.pull_model("old", "1").unwrap().unwrap().1, b"old bytes");
}

#[test]
fn an_artifact_reads_back_through_a_reader() {
    use std::io::Read as _;
    let artifact: Vec<u8> = (0..ai4ict_hub::models::CHUNK_BYTES * 2 + 3)
        .map(|i| (i % 7) as u8)
        .collect();
    let mut hub = Hub::in_memory().unwrap();
    hub.publish_model(&ModelMetadata::new("r", "1", "me", "MIT"), &artifact)
        .unwrap();
    let mut back = Vec::new();
    hub.artifact_reader("r", "1")
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == artifact);
    let mut none = Vec::new();
    hub.artifact_reader("r", "9")
        .read_to_end(&mut none)
        .unwrap();
    assert!(none.is_empty());
}
