//! The staff dashboard's charts through the real app, with the clock the test moves
//! (`kidsearch::clock::ManualClock`): a search is counted in the hour the school's clock
//! showed, also on the two Sundays the clocks change (Europe/London: 2026-03-29, a 23-hour
//! day, and 2026-10-25, a 25-hour day).

mod common;

use std::sync::Arc;

use common::{add_user, between, db_rows, spawn_app_with_clock, test_config, Browser, FixtureUpstream};
use kidsearch::args;
use kidsearch::clock::ManualClock;

const PASSWORD: &str = "plum tree under snow";

fn ms(utc: &str) -> i64 {
    utc.parse::<jiff::Timestamp>().expect("a timestamp").as_millisecond()
}

#[tokio::test]
async fn searches_per_hour_count_each_search_in_its_local_hour_on_clock_change_sundays() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.time_zone = "Europe/London".into();
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let clock = Arc::new(ManualClock::new(ms("2026-03-29T11:00:00Z")));
    let app = spawn_app_with_clock(config, clock.clone()).await;
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);

    // (the dashboard's "now", searches at these instants, the bars that must show them)
    let days: [(&str, &[&str], &[&str]); 3] = [
        // Spring forward at 01:00 GMT: 08:30Z is 09:30 BST, 10:10Z is 11:10 BST.
        ("2026-03-29T11:00:00Z", &["2026-03-29T08:30:00Z", "2026-03-29T08:40:00Z", "2026-03-29T10:10:00Z"], &["8 0", "9 2", "10 0", "11 1"]),
        // An ordinary summer day, for comparison.
        ("2026-06-10T11:00:00Z", &["2026-06-10T08:30:00Z"], &["8 0", "9 1"]),
        // Fall back at 02:00 BST: the day began at 23:00Z the evening before; 09:30Z is 09:30 GMT.
        ("2026-10-25T12:00:00Z", &["2026-10-25T09:30:00Z", "2026-10-25T09:45:00Z"], &["9 2", "10 0"]),
    ];
    for (now, searches, bars) in days {
        clock.set(ms(now));
        for at in searches {
            db_rows(&app.data_dir, "INSERT INTO activity (at_ms, kind, school_id, repeats) VALUES (?1, 'query', 1, 1) RETURNING id", args![ms(at)].to_vec())
                .await;
        }
        let html = teacher.get("/staff").await.text().await.expect("dashboard");
        let chart = between(&html, "<title>Pupil searches per hour today: ", "</title>").expect("the chart's text");
        let shown: Vec<&str> = chart.split(", ").collect();
        for bar in bars {
            assert!(shown.contains(bar), "{now}: expected bar {bar:?} in {chart}");
        }
    }
}
