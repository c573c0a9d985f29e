//! The flow pipeline end to end: a classifier trained on the sandbox's labelled flows,
//! evaluated on its held-out share, then deployed on a flow table with a bad row (skipped,
//! named, nothing else lost) and on NetFlow v5 from a real UDP exporter (every record
//! classified).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use ai4ict_engine::mlfo::{Stage, Status};
use ai4ict_engine::{Mlfo, RunOptions};
use ai4ict_intent::MlIntent;
use ai4ict_intrusion::SandboxFlows;
use ai4ict_netflow::{Exporter, FlowRecord, Version};

const TRAIN: &str = "train: { sandbox: { cells: 20, seed: 7, flows: 15000 } }";

fn run(yaml: &str) -> ai4ict_engine::Outcome {
    let intent = MlIntent::from_yaml(yaml).unwrap();
    Mlfo::new(intent, RunOptions::default()).run().unwrap()
}

fn status(o: &ai4ict_engine::Outcome, stage: Stage) -> Status {
    o.stages.iter().find(|s| s.stage == stage).unwrap().status
}

#[test]
fn a_flow_table_is_classified_with_alerts_and_its_bad_row_skipped_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("flows.csv");
    let records = SandboxFlows {
        cells: 20,
        seed: 11,
        flows: 6000,
        ..SandboxFlows::default()
    }
    .records()
    .unwrap();
    ai4ict_sandbox::write_flows_csv(&table, &records).unwrap();
    // One bad row at the end: line 6002 (the header is line 1).
    let mut text = std::fs::read_to_string(&table).unwrap();
    text.push_str(
        "2024-01-01T00:00:00Z,c,s,10.0.0.1,not-an-address,1,2,6,1,1,1,1,1,1,1,1,1,1,1,1,web,0\n",
    );
    std::fs::write(&table, text).unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let o = run(&format!(
        "name: ids
use_case: security
source: {{ flows: {{ file: {{ path: {} }} }} }}
model: {{ classify: {{ {TRAIN}, rounds: 60 }} }}
policy: {{ flow_alert: {{ behaviour: null }} }}
distribute: [ {{ file: {{ path: {} }} }} ]
targets: {{ macro_f1: 0.8 }}
",
        table.display(),
        alerts.display()
    ));
    for stage in [Stage::Train, Stage::Evaluate, Stage::Deploy] {
        assert_eq!(status(&o, stage), Status::Passed, "{:?}", o.stages);
    }
    let f = o.flows.as_ref().unwrap();
    assert_eq!(f.classes.len(), 13);
    assert_eq!(f.training_flows + f.test_flows, 15_000);
    assert!(f.metrics.macro_f1 > 0.8, "{}", f.metrics.macro_f1);
    assert!((f.importance.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let d = f.deployment.as_ref().unwrap();
    assert_eq!((d.flows, d.skipped), (6000, 1));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("line 6002") && n.contains("dst_ip")),
        "{:?}",
        d.notes
    );
    assert_eq!(d.predicted.iter().sum::<u64>(), 6000);
    let m = d
        .metrics
        .as_ref()
        .expect("the table's labels score the deployment");
    assert!(m.macro_f1 > 0.7, "{}", m.macro_f1);
    assert!(d.class_alerts > 0 && d.behaviour_alerts == 0);
    let written = std::fs::read_to_string(&alerts).unwrap();
    assert_eq!(written.lines().count() as u64, d.class_alerts);
    assert!(d.class_alert_precision.unwrap() > 0.5);

    // A target the model cannot meet: evaluated, not deployed.
    let strict = MlIntent::from_yaml(&format!(
        "name: ids
use_case: security
source: {{ flows: {{ sandbox: {{ flows: 1000 }} }} }}
model: {{ classify: {{ {TRAIN}, rounds: 5 }} }}
policy: {{ flow_alert: {{}} }}
distribute: []
targets: {{ macro_f1: 1.0 }}
"
    ))
    .unwrap();
    let o = Mlfo::new(strict, RunOptions::default()).run().unwrap();
    assert_eq!(status(&o, Stage::Evaluate), Status::Failed);
    assert_eq!(status(&o, Stage::Deploy), Status::Skipped);
    assert!(o.flows.unwrap().deployment.is_none());
}

#[test]
fn netflow_exports_are_classified_every_one() {
    // A free port: bound and released (the collector binds it again).
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let yaml = format!(
        "name: live
use_case: security
source: {{ flows: {{ netflow: {{ listen: '{listen}', seconds: 4 }} }} }}
model: {{ classify: {{ {TRAIN}, rounds: 20, directions: forward }} }}
policy: {{ flow_alert: {{ min_flows: 1 }} }}
distribute: []
"
    );
    let runner = std::thread::spawn(move || run(&yaml));
    // The collector binds once training is done: send until the run ends. Datagrams sent
    // before it binds go nowhere; from its first one on, nothing may be lost.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let now = 1_767_225_600_000;
    let mut exporter = Exporter::new(Version::V5, 1, now - 3_600_000);
    let mut buf = Vec::new();
    let mut p = 0u32;
    while !runner.is_finished() {
        let records: Vec<FlowRecord> = (0..30u32)
            .map(|i| {
                let mut r = FlowRecord::empty(socket.local_addr().unwrap(), 1, now);
                r.src = Ipv4Addr::new(10, 0, (p % 250) as u8, i as u8 + 1).into();
                r.dst = Ipv4Addr::new(192, 0, 2, 80).into();
                r.src_port = 40_000 + i as u16;
                r.dst_port = 22;
                r.protocol = 6;
                r.packets = 4;
                r.octets = 240;
                r.tcp_flags = 0x06;
                r.start_ms = now - 2_000 + i64::from(i);
                r.end_ms = r.start_ms + 5;
                r
            })
            .collect();
        exporter.packet(&records, now, &mut buf);
        let _ = socket.send_to(&buf, listen);
        p += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = runner.join().unwrap();
    assert_eq!(status(&o, Stage::Deploy), Status::Passed, "{:?}", o.stages);
    let d = o.flows.unwrap().deployment.unwrap();
    let (received, lost) = d.collected.unwrap();
    assert!(received >= 300, "{received} records, {:?}", d.notes);
    assert_eq!((d.flows, lost), (received, 0), "{:?}", d.notes);
    assert!(d.metrics.is_none(), "exports carry no labels");
    assert!(
        d.notes.iter().any(|n| n.starts_with("collector:")),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_published_classifier_pulled_from_the_hub_scores_as_the_run_that_trained_it() {
    let yaml = format!(
        "name: traffic-classification
use_case: networks_protocols
source: {{ flows: {{ sandbox: {{ cells: 20, seed: 11, flows: 3000 }} }} }}
model: {{ classify: {{ algorithm: random_forest, trees: 20, max_depth: 4, {TRAIN} }} }}
policy: {{ flow_alert: {{ alert_classes: [], behaviour: null }} }}
distribute: []
targets: {{ macro_f1: 0.5 }}
"
    );
    let intent = MlIntent::from_yaml(&yaml).unwrap();
    let trained = Mlfo::new(intent.clone(), RunOptions::default())
        .run()
        .unwrap();
    let mut hub = ai4ict_hub::Hub::in_memory().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let said = ai4ict_engine::marketplace::record_run(&mut hub, &trained, &intent, dir.path())
        .unwrap()
        .unwrap();
    assert!(said.contains("aliased `production`"), "{said}");
    let selected =
        ai4ict_engine::marketplace::select(&mut hub, "traffic-classification@production", &intent)
            .unwrap();
    let ai4ict_engine::marketplace::Artefact::Classifier(c) = selected.artefact else {
        panic!("a flow intent pulls a classifier");
    };
    let ai4ict_classify::Model::Forest(forest) = &c.model else {
        panic!("the intent trains a forest");
    };
    let deepest = forest.trees.iter().map(|t| t.depth()).max();
    assert_eq!(deepest, Some(4), "`max_depth: 4` bounds the trees");
    let pulled = Mlfo::new(
        intent.clone(),
        RunOptions {
            classifier: Some(std::sync::Arc::new(c)),
            ..RunOptions::default()
        },
    )
    .run()
    .unwrap();
    let (a, b) = (trained.flows.unwrap(), pulled.flows.unwrap());
    assert_eq!(a.metrics, b.metrics, "same held-out scores");
    assert_eq!(
        (a.depth, b.depth),
        (4, 4),
        "the report gives the trees' depth"
    );
    let (da, db) = (a.deployment.unwrap(), b.deployment.unwrap());
    assert_eq!(da.predicted, db.predicted, "same classes on the source");
    assert!(
        b.classifier.is_none(),
        "a pulled classifier is not published again"
    );

    // A flow intent computing other features cannot take it.
    let forward = yaml.replace("trees: 20,", "trees: 20, directions: forward,");
    let other = MlIntent::from_yaml(&forward).unwrap();
    let e = ai4ict_engine::marketplace::select(&mut hub, "traffic-classification", &other)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("does not fit") && e.contains("reverse_bytes"),
        "{e}"
    );
}
