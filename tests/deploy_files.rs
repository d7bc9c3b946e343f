//! The files in deploy/ are tested, not just written: the systemd unit verifies with
//! `systemd-analyze verify` and only uses flags the binary accepts.

mod common;

use std::process::Command;

use common::{repo_dir, temp_dir};

fn unit_text() -> String {
    std::fs::read_to_string(repo_dir().join("deploy/kidsearch.service")).expect("deploy/kidsearch.service")
}

fn exec_start(unit: &str) -> Vec<String> {
    let line = unit.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart");
    line.trim_start_matches("ExecStart=").split_whitespace().map(str::to_string).collect()
}

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let unit = unit_text();
    for setting in
        ["DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=kidsearch", "Restart=on-failure", "CapabilityBoundingSet="]
    {
        assert!(unit.lines().any(|l| l == setting), "missing {setting}");
    }
    // systemd-analyze checks that ExecStart's binary exists: point it at the one just built.
    let dir = temp_dir("systemd");
    let path = dir.join("kidsearch.service");
    let argv = exec_start(&unit);
    std::fs::write(&path, unit.replace(&argv[0], env!("CARGO_BIN_EXE_kidsearch"))).expect("write unit");
    let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().expect("systemd-analyze is installed by scripts/test.sh");
    let messages = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "systemd-analyze verify failed:\n{messages}");
    assert!(!messages.contains("kidsearch.service:"), "warnings about the unit:\n{messages}");
}

#[test]
fn the_unit_uses_only_flags_the_binary_accepts() {
    let argv = exec_start(&unit_text());
    assert_eq!(argv[0], "/usr/local/bin/kidsearch");
    // Ask the real binary to parse the same arguments (with --help so it does not start).
    let mut args: Vec<String> = argv[1..].to_vec();
    args.push("--help".into());
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(&args).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in argv.iter().filter(|a| a.starts_with("--")) {
        assert!(help.contains(flag.as_str()), "{flag} is not a flag of `kidsearch serve`");
    }
}
