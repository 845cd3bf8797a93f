//! One job per package: the client links none of the exporter's crates.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ruptime_tests::process::run_command;

#[test]
fn the_client_links_no_http_server_metrics_library_or_tls() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut tree = Command::new(env!("CARGO"));
    tree.args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .arg("--manifest-path")
        .arg(&manifest);
    let mut client = Command::new(env!("CARGO"));
    client
        .args([
            "tree",
            "--offline",
            "-p",
            "ruptime",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .arg("--manifest-path")
        .arg(&manifest);
    let out = run_command(client, Duration::from_secs(120));
    assert!(out.status.success(), "{out:?}");
    let crates = out.stdout_text();
    assert!(crates.starts_with("ruptime v"), "{crates}");
    for linked in ["tokio", "hyper", "prometheus-client", "rustls", "procfs"] {
        assert!(
            !crates
                .lines()
                .any(|l| l.starts_with(&format!("{linked} v"))),
            "ruptime links {linked}:\n{crates}"
        );
    }
    // The exporter does: the test would pass on any tree otherwise.
    tree.args(["-p", "ruptime-exporter"]);
    let out = run_command(tree, Duration::from_secs(120));
    let crates = out.stdout_text();
    for linked in ["tokio", "hyper", "prometheus-client", "rustls"] {
        assert!(
            crates
                .lines()
                .any(|l| l.starts_with(&format!("{linked} v"))),
            "no {linked} in the exporter:\n{crates}"
        );
    }
}
