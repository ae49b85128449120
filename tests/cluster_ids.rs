//! Ids that never repeat across nodes (CONTRACT D2): each node of the test bed has its own
//! `systemname` and entity id (scripts/testbed derives them from its HTTP port), so Asterisk's own
//! channel ids carry the node's name and ARI's `asterisk_id` tells the nodes apart; and a claim
//! sent to another node than the one whose WebSocket offered the call finds nothing there (404)
//! and takes no call. Ours and upstream alike: the module plays no part in the ids.

mod common;

use common::*;
use serde_json::json;

#[test]
fn each_node_names_its_ids_and_a_claim_on_another_node_takes_no_call() {
    asterisk();
    let second = SecondNode::start();
    let info = |n: &ari_worker::Node| ari_on(n, "GET", "/asterisk/info", &[], None).body;
    let (a, b) = (info(node()), info(second.node()));
    assert_ne!(
        a["system"]["entity_id"], b["system"]["entity_id"],
        "{a}\n{b}"
    );
    let name = a["config"]["name"].as_str().unwrap_or_default().to_owned();
    assert!(!name.is_empty(), "node A has no systemname: {a}");
    assert_ne!(json!(name), b["config"]["name"]);

    // A call whose channel ids Asterisk chooses itself (no channelId given),
    // followed by the observer from its start.
    subscribed();
    let mut w = App::connect(&unique("ids"));
    let far = Call::anonymous(&format!("10000,^{}$", w.name));
    let offer = w.wait_for("CallBroadcast", |v| v["type"] == "CallBroadcast");
    assert_eq!(offer["asterisk_id"], a["system"]["entity_id"]);
    let id = offer["channel"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        id.starts_with(&format!("{name}-")),
        "channel id {id} does not carry the node's name {name}"
    );

    // Node B knows no such broadcast: 404, and the call is still A's to claim.
    let claim_on_b = ari_on(
        second.node(),
        "POST",
        "/events/claim",
        &[("channelId", id.as_str()), ("application", w.name.as_str())],
        None,
    );
    assert_eq!(claim_on_b.status, 404, "{:?}", claim_on_b.body);
    assert_eq!(claim(&id, &w.name), 204);
    w.wait_event("StasisStart", &id);
    continue_dialplan(&id);
    assert_eq!(var_set(&id, "STASISSTATUS"), "SUCCESS");
    let far = far["id"].as_str().unwrap_or_default();
    ari("DELETE", &format!("/channels/{far}"), &[], None);
}
