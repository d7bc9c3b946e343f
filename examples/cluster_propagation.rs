//! How fast a change made on one instance reaches another sharing the same PostgreSQL
//! (issue 9): approvals and tell-an-adult alerts.
//!
//!   cluster_propagation A_URL B_URL STAFF_NAME PASSWORD [N=200]
//!
//! Both instances must serve pupils without enrolment or supervision (the bench's config).
//! Approvals: for each of N new searches, a pupil asks B first (so B has cached "not
//! approved"), a teacher approves it on A, and from A's answer we poll B every millisecond
//! until it serves the approval. Alerts: a dashboard stream is open on B, a pupil presses the
//! button on A N times; from A's answer to the event on B. Prints p50 / p99 / max of each.
//! Loopback only; used by `benches/cluster.sh`.

#[path = "common/staff_client.rs"]
mod staff_client;

use std::time::{Duration, Instant};

use staff_client::{csrf_in, field_in, post_form, sign_in};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: cluster_propagation A_URL B_URL STAFF_NAME PASSWORD [N=200]");
        std::process::exit(2);
    }
    let (a, b) = (args[0].as_str(), args[1].as_str());
    let n: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(200);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let cookie = sign_in(&client, a, &args[2], &args[3]).await;

    let approved_on_b = async |q: &str| -> bool {
        let body = client.get(format!("{b}/search")).query(&[("q", q), ("format", "json")]).send().await.expect("search on B").text().await.unwrap_or_default();
        body.contains("\"approved\":true")
    };
    let mut approvals = Vec::new();
    for i in 0..n {
        let q = format!("propagation check {i}");
        assert!(!approved_on_b(&q).await, "{q} was approved before we approved it");
        let prerun =
            client.get(format!("{a}/staff/prerun")).query(&[("q", q.as_str()), ("engine", "bing"), ("pages", "1")]).header("cookie", &cookie).send().await;
        let page = prerun.expect("pre-run").text().await.expect("page");
        let (csrf, preview, preview_sig) = (csrf_in(&page), field_in(&page, "preview"), field_in(&page, "preview_sig"));
        let answer =
            post_form(&client, &format!("{a}/staff/approvals"), &cookie, &[("csrf", &csrf), ("preview", &preview), ("preview_sig", &preview_sig)]).await;
        assert_eq!(answer.expect("approve").status(), 303, "the approval on A failed");
        let approved = Instant::now();
        while !approved_on_b(&q).await {
            assert!(approved.elapsed() < Duration::from_secs(10), "{q} never reached B");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        approvals.push(approved.elapsed());
    }
    report("approval on A → served by B", &mut approvals);

    let mut stream = client.get(format!("{b}/staff/alerts/stream")).header("cookie", &cookie).send().await.expect("stream on B");
    assert_eq!(stream.status(), 200, "B does not know A's session: is shared_secret_file set on both?");
    let mut alerts = Vec::new();
    let mut buffer = String::new();
    for i in 0..n {
        let q = format!("alert check {i}");
        let answer = client
            .post(format!("{a}/help"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("q={}&page=1", q.replace(' ', "+")))
            .send()
            .await;
        assert_eq!(answer.expect("press").status(), 303);
        let pressed = Instant::now();
        while !buffer.contains(&q) {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk()).await.expect("an alert within 10 s").expect("stream").expect("open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        alerts.push(pressed.elapsed());
        buffer.clear();
    }
    report("tell-an-adult press on A → dashboard on B", &mut alerts);
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(times[((times.len() as f64 * p) as usize).min(times.len() - 1)]);
    println!("{what}: n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms", times.len(), pct(0.5), pct(0.99), ms(times[times.len() - 1]));
}
