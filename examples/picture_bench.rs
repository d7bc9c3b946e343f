//! Helpers of the picture benchmark (`benches/pictures.sh`, issue 26's budgets):
//!
//!   picture_bench cpu N                       # CPU per picture re-encoded, as one JSON line
//!   picture_bench sign DATA_DIR ENGINE URL N  # N signed /img/ paths for URL?n=1..N, one a line
//!
//! `cpu` runs every picture the fixture picture host serves for the engines' thumbnails (the
//! sizes each engine really serves, `tests/common/pictures.rs`), its 800 × 600 photo with
//! metadata, its PNG drawing and GIF, N times each, through `images::encode::reencode` — the
//! gateway's own check, decode within limits, shrink and JPEG encode — and times each in this
//! thread's CPU time (the kernel's per-thread account, so the load generator or anything else
//! on the machine does not count; reading it costs a few µs, included). A 1600 × 1200 camera photo is timed beside them for scale, outside
//! the fixture's set.
//!
//! `sign` makes paths the running server will fetch (signed with its data dir's picture key,
//! as `Images::path_for` signs them): distinct pictures to fill its image cache with.

#[path = "../tests/common/pictures.rs"]
#[allow(dead_code)]
mod pictures;

use std::time::Duration;

/// This thread's CPU time so far: the first field of its schedstat, in nanoseconds (the
/// kernel's own account; the crate forbids the unsafe a `clock_gettime` call would need).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("/proc/thread-self/schedstat");
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("schedstat's CPU time"))
}

/// The `p`-th percentile (0..=1) of sorted milliseconds, nearest rank.
fn pct(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn cpu(n: usize) {
    let mut fixture: Vec<(String, Vec<u8>)> = pictures::ENGINE_THUMBNAILS
        .iter()
        .enumerate()
        .map(|(i, (engine, w, h, q))| (format!("{engine} {w}x{h}"), pictures::photo(*w, *h, i as u32 + 1, *q)))
        .collect();
    fixture.push(("photo 800x600 with EXIF".into(), pictures::photo_jpeg()));
    fixture.push(("drawing 400x300 PNG".into(), pictures::drawing_png()));
    fixture.push(("GIF 120x90".into(), pictures::small_gif()));
    let camera = ("camera photo 1600x1200 (not in the fixture set)".to_string(), pictures::photo(1600, 1200, 9, 85));
    let mut all = Vec::new();
    let mut lines = Vec::new();
    for (name, bytes) in fixture.iter().chain(std::iter::once(&camera)) {
        let mut times = Vec::with_capacity(n);
        let mut out_bytes = 0;
        for _ in 0..n {
            let start = thread_cpu();
            let jpeg = kidsearch::images::encode::reencode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            times.push((thread_cpu() - start).as_secs_f64() * 1000.0);
            out_bytes = jpeg.len();
        }
        times.sort_by(f64::total_cmp);
        if !std::ptr::eq(name, &camera.0) {
            all.extend_from_slice(&times);
        }
        lines.push(format!(
            "{{\"picture\":\"{name}\",\"in_bytes\":{},\"out_bytes\":{out_bytes},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
            bytes.len(),
            pct(&times, 0.5),
            pct(&times, 0.99),
            times[times.len() - 1]
        ));
    }
    all.sort_by(f64::total_cmp);
    println!(
        "{{\"metric\":\"thumbnail_cpu\",\"runs_each\":{n},\"samples\":{},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"pictures\":[{}]}}",
        all.len(),
        pct(&all, 0.5),
        pct(&all, 0.99),
        all[all.len() - 1],
        lines.join(",")
    );
}

fn sign(data_dir: &str, engine: &str, url: &str, n: usize) {
    let keys = kidsearch::secrets::Keys::per_data_dir(std::path::Path::new(data_dir));
    let signer = kidsearch::images::ImageSigner::new(&keys).expect("the server's picture key in its data dir");
    let join = if url.contains('?') { '&' } else { '?' };
    for i in 1..=n {
        println!("{}", signer.path(engine, &format!("{url}{join}n={i}")));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0);
    match (args.first().map(String::as_str), args.len()) {
        (Some("cpu"), 2) if number(1).is_some() => cpu(number(1).unwrap_or(1)),
        (Some("sign"), 5) if number(4).is_some() => sign(&args[1], &args[2], &args[3], number(4).unwrap_or(1)),
        _ => {
            eprintln!("usage: picture_bench cpu N | picture_bench sign DATA_DIR ENGINE URL N");
            std::process::exit(2);
        }
    }
}
