//! Alert latency: from a tell-an-adult press to its delivery on every connected dashboard.
//!
//!   alert_latency BASE_URL STAFF_NAME PASSWORD [STREAMS=300] [PRESSES=50]
//!
//! Signs in once, opens STREAMS Server-Sent-Event streams (`/staff/alerts/stream`) with that
//! session, then presses the button PRESSES times, 100 ms apart, as a pupil's browser would
//! (the no-JavaScript form). For each press and each stream it records the time from sending
//! the press to that stream receiving the incident event, and prints p50 / p99 / max over all
//! deliveries. Loopback only; used by `benches/alerts.sh`.

#[path = "common/staff_client.rs"]
mod staff_client;

use std::sync::Arc;
use std::time::{Duration, Instant};

use staff_client::sign_in;
use tokio::sync::Mutex;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: alert_latency BASE_URL STAFF_NAME PASSWORD [STREAMS=300] [PRESSES=50]");
        std::process::exit(2);
    }
    let (base, name, password) = (args[0].clone(), args[1].clone(), args[2].clone());
    let streams: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(300);
    let presses: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(50);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(0).build().expect("client");

    let cookie = sign_in(&client, &base, &name, &password).await;
    // When each press was sent, by incident id (filled in as each press is answered).
    let sent: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let deliveries: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let mut readers = Vec::new();
    for _ in 0..streams {
        let response = client.get(format!("{base}/staff/alerts/stream")).header("cookie", &cookie).send().await.expect("stream");
        assert_eq!(response.status(), 200, "the stream needs a signed-in staff session");
        let deliveries = deliveries.clone();
        readers.push(tokio::spawn(read_events(response, deliveries, presses)));
    }
    eprintln!("{streams} dashboard streams connected; pressing {presses} times");
    tokio::time::sleep(Duration::from_millis(500)).await;

    for i in 0..presses {
        let started = Instant::now();
        let answer = client
            .post(format!("{base}/help"))
            .header("content-type", "application/x-www-form-urlencoded")
            // Each press from its own LAN address (benches/alerts.sh trusts 127.0.0.1 as the
            // proxy): a browser without a device may raise 5 alerts per address in 10 minutes.
            .header("x-forwarded-for", format!("10.3.{}.{}", i / 250, i % 250 + 1))
            .body(format!("q=bench+{i}&page=1"))
            .send()
            .await
            .expect("press");
        let location = answer.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
        // `/help?i=<id>.<signature>`: the incident number comes first.
        let id: i64 = location.rsplit("i=").next().and_then(|t| t.split('.').next()).and_then(|n| n.parse().ok()).expect("the press answers /help?i=ID.SIG");
        sent.lock().await.push((id, started));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for reader in readers {
        let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
    }

    let sent = sent.lock().await.clone();
    let mut latencies: Vec<f64> = deliveries
        .lock()
        .await
        .iter()
        .filter_map(|(id, at)| sent.iter().find(|(s, _)| s == id).map(|(_, started)| at.duration_since(*started).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let expected = streams * presses;
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    println!(
        "alert latency, press sent → event received, {streams} streams × {presses} presses: {} of {expected} delivered; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}

/// Reads one stream until it has seen `presses` incident events (or it ends).
async fn read_events(mut response: reqwest::Response, deliveries: Arc<Mutex<Vec<(i64, Instant)>>>, presses: usize) {
    let mut buffer = String::new();
    let mut seen = 0;
    while seen < presses {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(30), response.chunk()).await else { return };
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.starts_with("event: incident") {
                if let Some(id) = event.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|n| n.trim().parse().ok()) {
                    deliveries.lock().await.push((id, at));
                    seen += 1;
                }
            }
        }
    }
}
