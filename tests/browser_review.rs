//! The annual review on paper (issue 28): headless Chromium prints `/staff/review` to PDF as
//! "Save as PDF" would (A4), `pdftoppm` (poppler-utils, installed by `scripts/test.sh`) renders
//! every page, and each page must have something on it — the print style sheet drops the
//! navigation and the forms, not the figures. The PDF and the pages' PNGs are kept in
//! target/test-artifacts/review/ to be looked at.

mod common;

use std::process::Command;
use std::time::Duration;

use common::webdriver::{artifacts, staff_flow, Driver, IPAD_LANDSCAPE};
use common::{add_user, spawn_app_with, test_config, FixtureUpstream};

const PASSWORD: &str = "plum tree under snow";
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_review_prints_to_a4_pages_that_render_with_the_figures_and_without_the_navigation() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = test_config(&upstream);
    assert_eq!(add_user(&config.data_dir, "dsl", "Ms Safe", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    for q in ["volcanoes", "free p0rn", "rainbows"] {
        app.search_json(q, 1).await;
    }
    let base = app.address.clone();
    let driver = Driver::start().await;
    let dsl = driver.session(IPAD_LANDSCAPE).await;
    staff_flow::sign_in(&dsl, &base, "Ms Safe", PASSWORD).await;
    dsl.goto(&format!("{base}/staff/review")).await;
    dsl.wait_for("table.review-months", WAIT).await;
    let shots = artifacts("review");
    dsl.screenshot(&shots.join("review-screen.png")).await;

    // On paper the navigation and the period form are gone; the figures stay.
    dsl.cdp("Emulation.setEmulatedMedia", serde_json::json!({ "media": "print" })).await;
    let shown = dsl
        .run(
            "return ['nav.staff-nav', '.no-print', 'table.review-months', 'h1'].map(function (s) { \
               var e = document.querySelector(s); return e ? getComputedStyle(e).display : 'missing'; });",
            vec![],
        )
        .await;
    assert_eq!(shown, serde_json::json!(["none", "none", "table", "block"]), "print styles");
    dsl.cdp("Emulation.setEmulatedMedia", serde_json::json!({ "media": "" })).await;

    let pdf = dsl.print_pdf().await;
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let pdf_path = shots.join("review.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write the PDF");
    dsl.close().await;

    // Every page renders, and has ink on it (the pages of an earlier run are removed first).
    for old in std::fs::read_dir(&shots).expect("artifacts").flatten().map(|e| e.path()) {
        if old.file_name().is_some_and(|n| n.to_string_lossy().starts_with("review-page")) {
            std::fs::remove_file(old).expect("remove an old page");
        }
    }
    let prefix = shots.join("review-page");
    let out = Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&pdf_path)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (poppler-utils; scripts/test.sh installs it)");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let mut pages: Vec<_> = std::fs::read_dir(&shots)
        .expect("artifacts")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("review-page")) && p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty() && pages.len() <= 6, "{} pages", pages.len());
    for page in &pages {
        let image = image::open(page).expect("a page PNG").to_luma8();
        let (w, h) = image.dimensions();
        // A4 at 60 dpi: 496 × 702 px.
        assert!((480..=510).contains(&w) && (690..=715).contains(&h), "{} is {w}×{h}, not A4", page.display());
        let ink = image.pixels().filter(|p| p.0[0] < 128).count() as f64 / f64::from(w * h);
        assert!(ink > 0.003, "{} is blank ({ink:.4} ink)", page.display());
    }
}
