//! The exporter's alert rules (`ruptime/exporter/prometheus`): clean for
//! promtool, passing their own unit tests, and firing for real: a live
//! daemon probed through the exporter by Debian's Prometheus, whose alerts
//! go to Debian's Alertmanager, which posts them to a webhook of the test.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use ruptime_tests::alertmanager::{Alertmanager, Webhook, webhook_config};
use ruptime_tests::daemon::Daemon;
use ruptime_tests::process::run_command;
use ruptime_tests::prometheus::{
    Prometheus, agent, exporter, get, probe_job, rules_dir, rules_with_for,
};
use ruptime_tests::skip::have_tools;
use serde_json::Value;

/// What the test copy of the rules holds RuptimeHostDown for, in place of 5m.
const HOLD: Duration = Duration::from_secs(3);

/// How long a notification may take to reach the webhook.
const NOTIFIED: Duration = Duration::from_secs(60);

/// How long the test watches a live host for an alert that must not come.
const QUIET: Duration = Duration::from_secs(8);

/// `promtool ARGS` run in the rules' folder, to its end.
fn promtool(args: &[&str]) -> ruptime_tests::process::Finished {
    let mut command = Command::new("promtool");
    command.args(args).current_dir(rules_dir());
    run_command(command, Duration::from_secs(60))
}

#[test]
fn promtool_finds_the_rules_clean() {
    if !have_tools("promtool checking the alert rules", &["promtool"]) {
        return;
    }
    let checked = promtool(&["check", "rules", "ruptime.rules.yml"]);
    let out = checked.stdout_text();
    assert_eq!(checked.code(), 0, "{checked:?}");
    assert!(out.contains("SUCCESS: 2 rules found"), "{out}");
    assert!(!out.to_lowercase().contains("warn"), "{out}");
    assert_eq!(checked.stderr, "", "promtool's warnings");
}

#[test]
fn the_rules_pass_their_promtool_tests() {
    if !have_tools("promtool testing the alert rules", &["promtool"]) {
        return;
    }
    let tested = promtool(&["test", "rules", "ruptime.rules.test.yml"]);
    let out = tested.stdout_text();
    assert_eq!(tested.code(), 0, "{tested:?}\n{out}");
    assert!(out.contains("SUCCESS"), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

/// The alert of `name` for `instance` in notification `body`, if any.
fn alert<'a>(body: &'a Value, name: &str, instance: &str) -> Option<&'a Value> {
    body["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["labels"]["alertname"] == name && a["labels"]["instance"] == instance)
}

/// Waits for a notification holding `name` for `instance` in `status`
/// (`firing` or `resolved`); that alert, and when it came.
fn notified(
    hook: &Webhook,
    name: &str,
    instance: &str,
    status: &str,
    others: &mut Vec<Value>,
) -> (Value, Instant) {
    let deadline = Instant::now() + NOTIFIED;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(body) = hook.next(left) else {
            panic!("no {status} {name} for {instance} within {NOTIFIED:?}; got {others:#?}");
        };
        if let Some(found) = alert(&body, name, instance).filter(|a| a["status"] == status) {
            assert_eq!(body["receiver"], "test", "{body:#}");
            return (found.clone(), Instant::now());
        }
        others.push(body);
    }
}

#[test]
fn a_host_that_stops_answering_reaches_the_webhook_as_ruptime_host_down() {
    if !have_tools(
        "Prometheus and Alertmanager alerting on the exporter's probes",
        &[
            "prometheus",
            "promtool",
            "prometheus-alertmanager",
            "amtool",
        ],
    ) {
        return;
    }
    let began = Instant::now();
    let daemon = Daemon::start(&["-l", "127.0.0.1"]);
    let port = daemon.port();
    let target = format!("127.0.0.1:{port}");
    let exporter = exporter(&["--probe.timeout", "1"]);
    let hook = Webhook::start();
    let alertmanager = Alertmanager::start(&webhook_config(&hook.url()));
    let dir = tempfile::tempdir().expect("a directory");
    let rules = rules_with_for(dir.path(), &format!("{}s", HOLD.as_secs()));
    let config = format!(
        "global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - '{}'
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['{}']
scrape_configs:
{}",
        rules.display(),
        alertmanager.addr,
        probe_job(exporter.addrs[0], &[(std::slice::from_ref(&target), None)]),
    );
    let prometheus = Prometheus::start(dir.path(), &config);

    // Up, with both rules loaded and evaluated, and the Alertmanager known.
    let instance = format!("instance='{target}'");
    prometheus.wait_for(&format!("probe_success{{{instance}}}"), NOTIFIED, |s| {
        s.len() == 1 && s[0].1 == 1.0
    });
    let http = agent(Duration::from_secs(10));
    let api = |path: &str| -> Value {
        let answer = get(&http, &format!("http://{}{path}", prometheus.addr), &[]);
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
        serde_json::from_str(&answer.body).expect("JSON from Prometheus")
    };
    let managers = api("/api/v1/alertmanagers");
    let wanted = format!("http://{}/api/v2/alerts", alertmanager.addr);
    assert!(
        managers["data"]["activeAlertmanagers"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["url"] == wanted.as_str())),
        "{managers:#}"
    );
    let watched = Instant::now();
    let mut others = hook.during(QUIET);
    let rules = api("/api/v1/rules");
    let group = &rules["data"]["groups"][0];
    assert_eq!(group["name"], "ruptime", "{rules:#}");
    let loaded = group["rules"].as_array().cloned().unwrap_or_default();
    assert_eq!(loaded.len(), 2, "{rules:#}");
    for rule in &loaded {
        assert_eq!(rule["health"], "ok", "{rule:#}");
        assert_eq!(rule["state"], "inactive", "{rule:#}");
    }
    assert_eq!(loaded[0]["name"], "RuptimeHostDown");
    assert_eq!(
        loaded[0]["duration"],
        HOLD.as_secs_f64(),
        "the shortened hold"
    );
    assert!(
        others
            .iter()
            .all(|body| alert(body, "RuptimeHostDown", &target).is_none()),
        "an alert while the host answered: {others:#?}"
    );
    assert_eq!(prometheus.query("ALERTS"), Vec::new(), "pending or firing");
    eprintln!(
        "up after {:?}, then quiet for {:?}",
        watched - began,
        watched.elapsed()
    );

    // The daemon dies: the alert is pending for HOLD, then fires, and
    // Alertmanager posts it.
    let (status, _) = daemon.stop(Signal::SIGKILL);
    assert_eq!(status.signal(), Some(9), "{status:?}");
    let killed = Instant::now();
    let (fired, at) = notified(&hook, "RuptimeHostDown", &target, "firing", &mut others);
    let took = at - killed;
    assert!(
        took >= HOLD,
        "fired {took:?} after the kill, before {HOLD:?}"
    );
    assert_eq!(fired["labels"]["severity"], "critical", "{fired:#}");
    assert_eq!(fired["labels"]["job"], "ruptime", "{fired:#}");
    assert_eq!(
        fired["annotations"]["summary"],
        format!("{target} has not answered ruptime for 5 minutes"),
        "{fired:#}"
    );
    let description = fired["annotations"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.contains(&format!("/probe?target={target}&debug=true")),
        "{fired:#}"
    );
    eprintln!("RuptimeHostDown reached the webhook {took:?} after the kill");

    // Back on its port: Alertmanager posts the alert resolved.
    let port_arg = port.to_string();
    let _daemon = Daemon::start(&["-l", "127.0.0.1", "-p", &port_arg]);
    let back = Instant::now();
    let (resolved, at) = notified(&hook, "RuptimeHostDown", &target, "resolved", &mut others);
    assert_eq!(resolved["labels"]["severity"], "critical", "{resolved:#}");
    eprintln!(
        "resolved {:?} after the restart; {:?} in all",
        at - back,
        began.elapsed()
    );
    let stderr = prometheus.stop();
    let alertmanager_stderr = alertmanager.stop();
    assert!(
        !stderr.contains("level=error"),
        "Prometheus logged errors: {stderr}"
    );
    assert!(
        !alertmanager_stderr.contains("level=error"),
        "Alertmanager logged errors: {alertmanager_stderr}"
    );
}
